"""Finished trials of a hyperparameter search: one hyperparameter on a log x axis against the dev error, each point
coloured by a second hyperparameter, failed trials as crosses along the top."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import label_log_axis, make_figure, plottable


class TrialScatter:
    """Two traces made once: finished trials (colour = `colour_of(value)`, with a colour bar) and failed ones.

    `show` replaces both in place inside one `batch_update`.
    """

    def __init__(self, title: str, *, x_title: str, y_title: str, colour_title: str, height: int = 420):
        self.figure = make_figure(title, x_title, y_title, height=height, log_y=True)
        self.figure.update_xaxes(type="log")
        self.figure.add_trace(go.Scatter(
            x=[], y=[], mode="markers", name="finished trials", meta="trials",
            marker={"size": 10, "color": [], "colorscale": "Viridis", "showscale": True, "line": {"width": 0.5},
                    "colorbar": {"title": {"text": colour_title}, "thickness": 14}},
            hovertemplate="%{text}<extra></extra>", text=[]))
        self.figure.add_trace(go.Scatter(
            x=[], y=[], mode="markers", name="failed trials", meta="failed", text=[],
            marker={"symbol": "x", "size": 11, "color": "#D55E00"}, hovertemplate="%{text}<extra></extra>"))

    def show(self, xs: Sequence[float], ys: Sequence[float], colours: Sequence[float], texts: Sequence[str],
             failed_xs: Sequence[float] = (), failed_texts: Sequence[str] = (),
             colour_ticks: tuple[list[float], list[str]] | None = None) -> None:
        """Finished trial i at (xs[i], ys[i]) coloured by colours[i]; failed trials at the top of the plot.
        `colour_ticks` (positions, labels) labels the colour bar when the colours are a transform of the value."""
        top = max([y for y in ys if math.isfinite(y)] or [1.0]) * 1.3
        with self.figure.batch_update():
            trials, failed = self.figure.data
            trials.x, trials.y, trials.text = plottable(xs), plottable(ys), list(texts)
            trials.marker.color = plottable(colours)
            if colour_ticks is not None:
                trials.marker.colorbar.update(tickvals=colour_ticks[0], ticktext=colour_ticks[1])
            failed.x, failed.y, failed.text = plottable(failed_xs), [top] * len(failed_xs), list(failed_texts)
            label_log_axis(self.figure, [*ys, *([top] if failed_xs else [])])

    def clear(self) -> None:
        self.show([], [], [], [])

    @property
    def count(self) -> int:
        """Finished trials drawn."""
        return len(self.figure.data[0].x or ())
