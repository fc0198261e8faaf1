"""A classifier's decision boundary on 2-D data: ŷ as a shaded background, the ŷ = 0.5 contour, and the points."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure

# Colour-blind-safe diverging shades from PALETTE's blue (class 1) to orange (class 0).
_SCALE = [[0.0, "#f5c77e"], [0.5, "#ffffff"], [1.0, "#8fc1e3"]]


class DecisionBoundary:
    """Background ŷ heat map with the 0.5 contour; training points filled, dev points hollow."""

    def __init__(self, title: str = "Decision boundary", *, class_names: tuple[str, str] = ("0", "1"),
                 height: int = 500, width: int | None = 460):
        self.figure = make_figure(title, "x₁", "x₂", height=height, width=width)
        self.figure.update_layout(legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 110})
        # one trace both shades ŷ and draws the ŷ = 0.5 line, so each update sends the grid once
        # (a 2 × 2 start: plotly.js fails with "Invalid array length" on a 1 × 1 contour coloured as a heat map)
        self.figure.add_trace(go.Contour(z=[[0.5, 0.5], [0.5, 0.5]], x=[0.0, 1.0], y=[0.0, 1.0], zmin=0, zmax=1,
                                         colorscale=_SCALE,
                                         showscale=False, hoverinfo="skip", name="ŷ, and the line ŷ = 0.5",
                                         contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "heatmap"},
                                         line={"color": PALETTE[6], "width": 2.5}))
        for label, colour in ((0, PALETTE[1]), (1, PALETTE[0])):
            self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"train: {class_names[label]}",
                                             marker={"color": colour, "size": 7, "line": {"color": "#000",
                                                                                          "width": 0.5}}))
        for label, colour in ((0, PALETTE[1]), (1, PALETTE[0])):
            self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"dev: {class_names[label]}",
                                             marker={"color": "rgba(0,0,0,0)", "size": 7,
                                                     "line": {"color": colour, "width": 1.5}}))

    def show_points(self, train: tuple[Sequence[Sequence[float]], Sequence[float]],
                    dev: tuple[Sequence[Sequence[float]], Sequence[float]] | None = None) -> None:
        """Points as (X (2, m) nested lists, labels (m,)) for the training set and optionally the dev set."""
        with self.figure.batch_update():
            for offset, points in ((1, train), (3, dev)):
                if points is None:
                    continue
                X, labels = points
                for label in (0, 1):
                    chosen = [i for i, y in enumerate(labels) if int(y) == label]
                    self.figure.data[offset + label].x = [X[0][i] for i in chosen]
                    self.figure.data[offset + label].y = [X[1][i] for i in chosen]

    def show_probabilities(self, xs: Sequence[float], ys: Sequence[float], P: Sequence[Sequence[float]]) -> None:
        """ŷ on the grid: P[i][j] at (xs[j], ys[i]), as nested lists (a 2-D array would not reach the browser)."""
        with self.figure.batch_update():
            grid = self.figure.data[0]
            grid.x, grid.y, grid.z = list(xs), list(ys), [list(row) for row in P]
