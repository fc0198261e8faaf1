"""The container every `*_dashboard()` returns: a VBox that also exposes its parts to tests."""

from __future__ import annotations

import html

import ipywidgets as W
import torch

from lab.device import configure_threads, describe_device, select_device
from widgets import leave_page
from widgets.collector import freeze_what_exists
from widgets.guard import guarded, show_error_in
from widgets.settings_link import SettingsLink, building_dashboard, register
from widgets.views.figure import publish_state


class Dashboard(W.VBox):
    """A VBox whose `controls`, `figures`, `status` and `runner` can be reached by name; `name` says which
    dashboard of its notebook it is (by default, that of the `*_dashboard()` function building it)."""

    def __init__(self, children, *, controls=None, figures=None, status=None, runner=None, readout=None,
                 panel=None, name: str | None = None):
        self.controls = dict(controls or {})
        self.name = building_dashboard() if name is None else name  # 'optimizer' for optimizer_dashboard()
        self.settings_link = SettingsLink(self.controls, self.name)  # the line that links to its settings
        super().__init__([*children, self.settings_link.widget], layout={"width": "100%", "max_width": "1100px"})
        self.figures = dict(figures or {})
        self.status, self.runner, self.readout = status, runner, readout
        self.panel = panel  # the TrainingPanel of a training dashboard, else None
        for figure in self.figures.values():
            publish_state(figure)
        if panel is not None:  # a run's pushes wait until the browser has drawn every plot of the page
            panel.pace.watch(self.figures.values())
            panel.link = self.settings_link  # a finished run's export carries the link to its settings
        register(self)  # a link's settings reach it when the notebook's last cell follows the link
        leave_page.ensure()  # leaving the page shuts its kernel down
        freeze_what_exists()  # the kernel's imports and this dashboard stay: no slider waits on a full collection

    def __repr__(self) -> str:
        # Displaying a widget puts its repr in the output's text/plain. A VBox's own repr pretty-prints every
        # child, each plotly figure with all its data, only for ipywidgets to cut it at 110 characters: up to
        # 0.15 s of a page's load (lab 13), for text that no page shows.
        return f"<Dashboard {self.name!r} (controls: {len(self.controls)}, figures: {len(self.figures)})>"


def lab_device() -> torch.device:
    """The device dashboards compute on, with CPU threads sized to the container."""
    configure_threads()
    return select_device()


def device_badge(device: torch.device | str, note: str = "") -> W.HTML:
    """A small line that says where this dashboard computes (a device, or words that describe it), and why
    when `note` says so."""
    text = device if isinstance(device, str) else describe_device(device)
    why = f" ({html.escape(note)})" if note else ""
    return W.HTML(f'<span class="lab-device" style="color:#444">Computing on: <b>{html.escape(text)}</b>{why}</span>')


def readout() -> W.HTML:
    """The text line that states a dashboard's key number, for screen readers and the impatient."""
    return W.HTML(layout={"margin": "4px 0"})


def redraw_on(controls, show, readout: W.HTML) -> None:
    """Call `show` now and whenever one of `controls` changes, for a view that does not train; an exception it
    raises is shown in `readout` instead of vanishing (Voilà hides tracebacks)."""
    show = guarded(show, show_error_in(readout))
    for widget in controls:
        widget.observe(show, names="value")
    show()
