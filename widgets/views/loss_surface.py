"""Paths of several optimizers drawn over the contour lines of a two-weight cost surface."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


class SurfacePaths:
    """A contour plot (trace 0), the minimum (trace 1), then one line-with-markers trace per path."""

    def __init__(self, title: str = "Optimizer paths on the cost surface", *, height: int = 540,
                 width: int | None = 960):
        self.figure = make_figure(title, "w₁", "w₂", height=height, width=width)
        self.figure.add_trace(go.Contour(z=[[0.0]], ncontours=24,
                                         showscale=False, contours={"coloring": "none"},
                                         line={"width": 1, "color": "#aaaaaa"},
                                         hoverinfo="skip", name="cost contours"))
        # legend under the plot: above it, five entries would cover the surface's title
        self.figure.update_layout(legend={"y": -0.14, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 90})
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name="minimum",
                                         marker={"symbol": "star", "size": 16, "color": PALETTE[6]}))

    @property
    def labels(self) -> list[str]:
        return [trace.meta for trace in self.figure.data[2:]]

    def show_surface(self, w1: Sequence[float], w2: Sequence[float], z, minimum: tuple[float, float],
                     title: str) -> None:
        """Replace the contours: z (len(w2), len(w1)) as nested lists or an array; fixes the axis ranges."""
        z = [[round(float(v), 4) for v in row] for row in z]  # nested lists: a 2-D array restyle is lost
        with self.figure.batch_update():
            contour = self.figure.data[0]
            contour.x, contour.y, contour.z = list(w1), list(w2), z
            self.figure.data[1].x, self.figure.data[1].y = [minimum[0]], [minimum[1]]
            self.figure.layout.xaxis.range = [w1[0], w1[-1]]
            self.figure.layout.yaxis.range = [w2[0], w2[-1]]
            self.figure.layout.title.text = title

    def set_paths(self, labels: Sequence[str]) -> None:
        """One empty path per label, in palette order, replacing the paths shown."""
        self.start_paths({label: [] for label in labels})

    def start_paths(self, paths: dict[str, Sequence[tuple[float, float]]]) -> None:
        """Show exactly these paths, in palette order. Traces whose label stays are reused, and new ones arrive with
        their points in one message: adding or deleting a trace makes the browser redraw the whole plot, contours
        included (~20 ms here), once per message — four such redraws made the first walk's start points appear
        ~130 ms after the press instead of ~40."""
        labels, kept = list(paths), 0
        while kept < min(len(labels), len(self.labels)) and self.labels[kept] == labels[kept]:
            kept += 1
        if kept < len(self.labels):
            self.figure.data = self.figure.data[:2 + kept]
        if labels[kept:]:
            self.figure.add_traces([self._path_trace(i, label, paths[label])
                                    for i, label in enumerate(labels[kept:], start=kept)])
        if kept:
            self.update_paths({label: paths[label] for label in labels[:kept]})

    @staticmethod
    def _path_trace(i: int, label: str, points: Sequence[tuple[float, float]]) -> go.Scatter:
        return go.Scatter(x=plottable([p[0] for p in points]), y=plottable([p[1] for p in points]), name=label,
                          meta=label, mode="lines+markers", line={"color": PALETTE[i % 6], "width": 2},
                          marker={"size": 5, "color": PALETTE[i % 6]})

    def update_paths(self, paths: dict[str, Sequence[tuple[float, float]]], notes: dict[str, str] | None = None,
                     ) -> None:
        """Redraw the given paths (lists of (w₁, w₂)); a note such as "diverged" is added to its legend entry."""
        notes = notes or {}
        with self.figure.batch_update():
            for trace in self.figure.data[2:]:
                if trace.meta in paths:
                    points = paths[trace.meta]
                    trace.x = plottable([p[0] for p in points])
                    trace.y = plottable([p[1] for p in points])
                    note = notes.get(trace.meta)
                    trace.name = f"{trace.meta} ({note})" if note else trace.meta
