"""The container every `*_dashboard()` returns: a VBox that also exposes its parts to tests."""

from __future__ import annotations

import html

import ipywidgets as W
import torch

from lab.device import configure_threads, describe_device, select_device
from widgets.views.figure import publish_state


class Dashboard(W.VBox):
    """A VBox whose `controls`, `figures`, `status` and `runner` can be reached by name."""

    def __init__(self, children, *, controls=None, figures=None, status=None, runner=None, readout=None):
        super().__init__(children, layout={"width": "100%", "max_width": "1100px"})
        self.controls = dict(controls or {})
        self.figures = dict(figures or {})
        self.status, self.runner, self.readout = status, runner, readout
        for figure in self.figures.values():
            publish_state(figure)


def lab_device() -> torch.device:
    """The device dashboards compute on, with CPU threads sized to the container."""
    configure_threads()
    return select_device()


def device_badge(device: torch.device) -> W.HTML:
    """A small line that says where this dashboard computes."""
    return W.HTML(f'<span class="lab-device" style="color:#444">Computing on: <b>{html.escape(describe_device(device))}'
                  "</b></span>")


def readout() -> W.HTML:
    """The text line that states a dashboard's key number, for screen readers and the impatient."""
    return W.HTML(layout={"margin": "4px 0"})
