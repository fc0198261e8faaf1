"""A decision-boundary plot over a fixed square that takes clicks: the learner draws the data set on it.

plotly's FigureWidget reports clicks on traces only, so the shaded ŷ map spans the whole square from the start:
a click anywhere lands on it (or on a point drawn over it) and reaches `on_click(x₁, x₂)`. The click snaps to
the centre of the map's nearest cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, set_heatmap_z

# Colour-blind-safe: class 0 orange, class 1 blue, ŷ shaded from PALETTE's orange (0) through white to blue (1).
CLASS_COLOURS = (PALETTE[1], PALETTE[0])
_SCALE = [[0.0, "#f5c77e"], [0.5, "#ffffff"], [1.0, "#8fc1e3"]]


class DrawingBoard:
    """Trace 0: ŷ over the square with its 0.5 contour · 1, 2: the points of class 0 and 1 · 3: a straight line
    (logistic regression's boundary) for contrast."""

    def __init__(self, low: float, high: float, title: str = "Decision boundary", *, steps: int = 60,
                 class_names: tuple[str, str] = ("class 0", "class 1"), line_name: str = "a straight line",
                 height: int = 520, width: int = 480):
        self.low, self.high, self.steps = low, high, steps
        self._on_click: Callable[[float, float], None] | None = None
        self.figure = make_figure(title, "x₁", "x₂", height=height, width=width)
        self.figure.update_layout(legend={"orientation": "h", "y": -0.14, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 100, "l": 50, "r": 20}, hovermode="closest", dragmode=False)
        # a square plot that shrinks its area rather than widen a range: every point of the plot is on the map
        self.figure.update_xaxes(range=[low, high], fixedrange=True, showgrid=False, zeroline=False, constrain="domain")
        self.figure.update_yaxes(range=[low, high], fixedrange=True, showgrid=False, zeroline=False, constrain="domain",
                                 scaleanchor="x", scaleratio=1)
        # hoverinfo "none", not "skip": skipped traces report no clicks. One trace shades ŷ and draws ŷ = 0.5.
        self.figure.add_trace(go.Contour(z=self._flat(), x=self._axis(), y=self._axis(), zmin=0, zmax=1,
                                         colorscale=_SCALE, showscale=False, hoverinfo="none",
                                         name="ŷ, and the line ŷ = 0.5",
                                         contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "heatmap"},
                                         line={"color": PALETTE[6], "width": 2.5}))
        for label in (0, 1):
            self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name=class_names[label], hoverinfo="none",
                                             marker={"color": CLASS_COLOURS[label], "size": 7,
                                                     "line": {"color": "#000", "width": 0.5}}))
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=line_name, hoverinfo="none",
                                         line={"color": PALETTE[3], "width": 2.5, "dash": "dash"}))
        for trace in self.figure.data:
            trace.on_click(self._clicked)

    def _axis(self) -> list[float]:
        return [self.low + (self.high - self.low) * i / (self.steps - 1) for i in range(self.steps)]

    def _flat(self) -> list[list[float]]:
        return [[0.5] * self.steps for _ in range(self.steps)]

    def on_click(self, callback: Callable[[float, float], None]) -> None:
        """Call `callback(x₁, x₂)` for every click on the square."""
        self._on_click = callback

    def _clicked(self, _trace, points, _state) -> None:
        if points.xs and self._on_click is not None:  # plotly calls every trace's handler; one holds the point
            self._on_click(float(points.xs[0]), float(points.ys[0]))

    def show_points(self, points: Sequence[tuple[float, float, int]]) -> None:
        """Points as (x₁, x₂, label) with label 0 or 1."""
        with self.figure.batch_update():
            for label in (0, 1):
                chosen = [p for p in points if p[2] == label]
                self.figure.data[1 + label].x = [p[0] for p in chosen]
                self.figure.data[1 + label].y = [p[1] for p in chosen]

    def show_probabilities(self, P) -> None:
        """ŷ on the board's steps × steps grid, an array: P[i][j] at (x₁ = axis[j], x₂ = axis[i])."""
        set_heatmap_z(self.figure, P)

    def show_line(self, x1: Sequence[float], x2: Sequence[float]) -> None:
        """The straight line's two ends (or nothing, to hide it)."""
        with self.figure.batch_update():
            self.figure.data[3].x, self.figure.data[3].y = list(x1), list(x2)

    def reset(self) -> None:
        """No model: a flat ŷ = 0.5 and no line (the points stay)."""
        with self.figure.batch_update():
            self.figure.data[0].z = self._flat()
            self.show_line([], [])
