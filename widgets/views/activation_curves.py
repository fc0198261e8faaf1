"""Activation functions side by side: g(z) on the left, its slope g′(z) on the right, with a marker at one z."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


class ActivationCurves:
    """One line per activation in both figures (the chosen one drawn thick) and a marker on the chosen one."""

    def __init__(self, names: Sequence[str], *, height: int = 340, width: int = 540):
        self.names = list(names)
        self.value = make_figure("The activation g(z)", "z", "g(z)", height=height, width=width)
        self.slope = make_figure("Its slope g′(z): what backpropagation multiplies by", "z", "g′(z)",
                                 height=height, width=width)
        for figure in (self.value, self.slope):
            for i, name in enumerate(self.names):
                figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name,
                                            line={"color": PALETTE[i], "width": 1.5}))
            figure.add_trace(go.Scatter(x=[], y=[], mode="markers", name="your z", showlegend=False,
                                        marker={"color": PALETTE[6], "size": 12, "symbol": "circle-open",
                                                "line": {"width": 3}}))

    def show_curve(self, index: int, z: Sequence[float], g: Sequence[float], g_prime: Sequence[float | None]) -> None:
        """Line `index` in both figures; a None in g_prime leaves a gap (where g has no derivative)."""
        with self.value.batch_update(), self.slope.batch_update():
            self.value.data[index].x, self.value.data[index].y = list(z), plottable(g)
            self.slope.data[index].x, self.slope.data[index].y = list(z), list(g_prime)

    def show_choice(self, index: int, z: float, g: float, g_prime: float | None) -> None:
        """Draw line `index` thick and mark (z, g) and (z, g′) on it; g′ None: no marker on the slope plot."""
        with self.value.batch_update(), self.slope.batch_update():
            for figure in (self.value, self.slope):
                for i in range(len(self.names)):
                    width = 4.0 if i == index else 1.5
                    if figure.data[i].line.width != width:
                        figure.data[i].line.width = width
            self.value.data[-1].x, self.value.data[-1].y = [z], [g]
            self.slope.data[-1].x, self.slope.data[-1].y = ([z], [g_prime]) if g_prime is not None else ([], [])
