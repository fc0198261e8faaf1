"""A classifier's decision boundary on 2-D data: ŷ as a shaded background, the ŷ = 0.5 line, and the points.

The shading is a heat map the browser smooths as it scales it (`zsmooth="fast"`), and the ŷ = 0.5 line is traced
here (marching squares) and drawn as a plain line. A plotly contour would do both in one trace, but it is traced
again in the browser on every redraw, points moved included: ~25 ms more a plot on a busy 2-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from skimage.measure import find_contours

from widgets.views.figure import PALETTE, make_figure, set_heatmap_z, traces_redrawn_alone

# Colour-blind-safe diverging shades from PALETTE's blue (class 1) to orange (class 0).
_SCALE = [[0.0, "#f5c77e"], [0.5, "#ffffff"], [1.0, "#8fc1e3"]]


class DecisionBoundary:
    """Background ŷ heat map with the ŷ = 0.5 line; training points filled, dev points hollow."""

    def __init__(self, title: str = "Decision boundary", *, class_names: tuple[str, str] = ("0", "1"),
                 height: int = 500, width: int | None = 460):
        self.figure = make_figure(title, "x₁", "x₂", height=height, width=width)
        self.figure.update_layout(legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 110})
        self.figure.add_trace(go.Heatmap(z=[[0.5, 0.5], [0.5, 0.5]], x=[0.0, 1.0], y=[0.0, 1.0], zmin=0, zmax=1,
                                         colorscale=_SCALE, zsmooth="fast", showscale=False, hoverinfo="skip",
                                         name="ŷ"))
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name="the line ŷ = 0.5", hoverinfo="skip",
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
            self._set_points(2, train)
            if dev is not None:
                self._set_points(4, dev)

    def move_dev_points(self, dev: tuple[Sequence[Sequence[float]], Sequence[float]]) -> None:
        """New dev points, drawn without drawing the rest of the plot again: for a figure whose axis ranges are
        fixed (`figure.layout.xaxis.range`), as the dev points may otherwise fall outside them."""
        with traces_redrawn_alone(self.figure):
            self._set_points(4, dev)

    def _set_points(self, first: int, points: tuple[Sequence[Sequence[float]], Sequence[float]]) -> None:
        X, labels = points
        for label in (0, 1):
            chosen = [i for i, y in enumerate(labels) if int(y) == label]
            self.figure.data[first + label].x = [X[0][i] for i in chosen]
            self.figure.data[first + label].y = [X[1][i] for i in chosen]

    def show_probabilities(self, xs: Sequence[float], ys: Sequence[float], P: Sequence[Sequence[float]]) -> None:
        """ŷ on the grid: P[i][j] at (xs[j], ys[i]) as nested lists, and the line where it crosses 0.5."""
        line_x, line_y = half_line(xs, ys, P)
        with self.figure.batch_update():
            grid = self.figure.data[0]
            grid.x, grid.y = list(xs), list(ys)
            set_heatmap_z(self.figure, P)
            self.figure.data[1].x, self.figure.data[1].y = line_x, line_y


def half_line(xs: Sequence[float], ys: Sequence[float], P) -> tuple[list[float | None], list[float | None]]:
    """Where ŷ = 0.5 on the grid, as x and y of one line whose pieces are joined by gaps (None)."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    line_x: list[float | None] = []
    line_y: list[float | None] = []
    for piece in find_contours(np.asarray(P, dtype=np.float64), 0.5):  # (row, column) points, fractional
        rows, columns = piece[:, 0], piece[:, 1]
        line_x += np.interp(columns, np.arange(len(xs)), xs).round(4).tolist() + [None]
        line_y += np.interp(rows, np.arange(len(ys)), ys).round(4).tolist() + [None]
    return line_x, line_y
