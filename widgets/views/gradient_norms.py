"""Gradient magnitude per parameter tensor over the steps of one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable


class GradientNorms:
    def __init__(self, title: str = "Gradient magnitude ‖∂J/∂θ‖ per parameter", *, x_title: str = "iteration",
                 height: int = 300, width: int | None = None):
        self.figure = make_figure(title, x_title, "L2 norm", height=height, width=width, log_y=True)

    def show(self, steps: Sequence[int], norms: Mapping[str, Sequence[float]]) -> None:
        """Draw one line per parameter name (e.g. "w", "b"), replacing what was there."""
        names = [f"‖d{name}‖" for name in norms]
        with self.figure.batch_update():
            if [t.name for t in self.figure.data] != names:
                self.figure.data = []
                self.figure.add_traces([go.Scatter(x=[], y=[], name=name, mode="lines",  # one message, one redraw
                                                   line={"color": PALETTE[i % len(PALETTE)], "width": 2})
                                        for i, name in enumerate(names)])
            for trace, values in zip(self.figure.data, norms.values(), strict=True):
                trace.x, trace.y = list(steps), plottable(values)
            label_log_axis(self.figure, [v for values in norms.values() for v in values])
