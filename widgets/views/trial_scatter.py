"""Trials of a hyperparameter search: one hyperparameter on a log x axis against the dev error, each finished trial
a point coloured by a second hyperparameter, failed trials as crosses along the top, and the trials not finished
yet as ticks along the bottom (the search's plan, drawn the moment it starts: a grid's columns, a random search's
scatter of values)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import label_log_axis, make_figure, plottable


class TrialScatter:
    """Three traces made once: finished trials (coloured, with a colour bar), failed ones, and the ones not
    finished yet (on a hidden second y axis from 0 to 1, so the ticks stay at the bottom whatever the errors).

    `show` replaces all three in place inside one `batch_update`.
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
        self.figure.add_trace(go.Scatter(
            x=[], y=[], mode="markers", name="not finished yet", meta="pending", text=[], yaxis="y2",
            marker={"symbol": "line-ns-open", "size": 14, "color": "#888888", "line": {"width": 2}},
            hovertemplate="%{text}<extra></extra>"))
        self.figure.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True})

    def show(self, xs: Sequence[float], ys: Sequence[float], colours: Sequence[float], texts: Sequence[str],
             failed_xs: Sequence[float] = (), failed_texts: Sequence[str] = (),
             colour_ticks: tuple[list[float], list[str]] | None = None, pending_xs: Sequence[float] = (),
             pending_texts: Sequence[str] = ()) -> None:
        """Finished trial i at (xs[i], ys[i]) coloured by colours[i]; failed trials at the top of the plot, trials
        not finished yet as ticks at the bottom. `colour_ticks` (positions, labels) labels the colour bar when the
        colours are a transform of the value."""
        top = max([y for y in ys if math.isfinite(y)] or [1.0]) * 1.3
        with self.figure.batch_update():
            trials, failed, pending = self.figure.data
            trials.x, trials.y, trials.text = plottable(xs), plottable(ys), list(texts)
            trials.marker.color = plottable(colours)
            if colour_ticks is not None:
                trials.marker.colorbar.update(tickvals=colour_ticks[0], ticktext=colour_ticks[1])
            failed.x, failed.y, failed.text = plottable(failed_xs), [top] * len(failed_xs), list(failed_texts)
            pending.x, pending.y, pending.text = plottable(pending_xs), [0.025] * len(pending_xs), list(pending_texts)
            label_log_axis(self.figure, [*ys, *([top] if failed_xs else [])])

    def clear(self) -> None:
        self.show([], [], [], [])

    @property
    def count(self) -> int:
        """Finished trials drawn."""
        return len(self.figure.data[0].x or ())
