"""One value per layer of a network as a line over the layers (e.g. the gradient size ‖dW^[l]‖), several named
lines in one plot, each replaced on its own: a network at initialization dotted beside the same network training."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import label_log_axis, make_figure


class LayerProfiles:
    """`lines` are (name, colour, dash) triples, one trace each, in that order; the y axis is logarithmic."""

    def __init__(self, title: str, y_title: str, lines: Sequence[tuple[str, str, str]], *, x_title: str = "layer l",
                 height: int = 380, width: int | None = None):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width, log_y=True)
        for name, colour, dash in lines:
            self.figure.add_trace(go.Scatter(x=[], y=[], name=name, meta=name, mode="lines+markers",
                                             line={"color": colour, "dash": dash, "width": 2.5 if dash == "solid"
                                                   else 1.8},
                                             marker={"size": 5}))

    def show(self, values: dict[str, Sequence[float | None]]) -> None:
        """Replace the lines named in `values` (layer l = 1, 2, … along x); the others keep their points. A value
        that is not positive and finite leaves a gap."""
        with self.figure.batch_update():
            for trace in self.figure.data:
                if trace.meta in values:
                    ys = [v if v is not None and math.isfinite(v) and v > 0 else None for v in values[trace.meta]]
                    trace.x, trace.y = list(range(1, len(ys) + 1)), ys
            label_log_axis(self.figure, [v for trace in self.figure.data if trace.y for v in trace.y])
