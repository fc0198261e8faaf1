"""Train and dev curves of the latest run beside the run before it: the gap between them is the variance."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable


class TrainDevCurves:
    """Train and dev values per evaluation: the latest run solid, the run before it dotted, and a star on the
    point early stopping kept.

    Traces, in order: train, dev, previous run: train, previous run: dev, the star.
    """

    def __init__(self, title: str, y_title: str, *, x_title: str = "iteration (one full-batch step = one epoch)",
                 log_y: bool = False, height: int = 330, width: int = 540):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width, log_y=log_y)
        styles = [("train", PALETTE[0], "solid"), ("dev", PALETTE[5], "solid"),
                  ("previous run: train", PALETTE[0], "dot"), ("previous run: dev", PALETTE[5], "dot")]
        for name, colour, dash in styles:
            self.figure.add_trace(go.Scatter(x=[], y=[], name=name, mode="lines",
                                             line={"color": colour, "width": 2.5 if dash == "solid" else 1.5,
                                                   "dash": dash}))
        self.figure.add_trace(go.Scatter(x=[], y=[], name="best dev cost (kept)", mode="markers",
                                         marker={"color": PALETTE[6], "size": 11, "symbol": "star"}))
        self._roll = False  # the next `show` starts a new run
        self._previous: list[float | None] = []  # the dotted curves' values, for the log axis's labels

    def new_run(self) -> None:
        """At the next `show`, the latest run's curves become the dotted "previous run". Done there, in the same
        message as the new run's first points: each message is a redraw in the browser."""
        self._roll = True

    def show(self, steps: Sequence[int], train: Sequence[float], dev: Sequence[float],
             best: tuple[int, float] | None = None) -> None:
        """The latest run's values at `steps`; `best` is (step, value) for the star, None for no star."""
        with self.figure.batch_update():
            if self._roll:
                self._roll = False
                for now, before in ((0, 2), (1, 3)):
                    current, old = self.figure.data[now], self.figure.data[before]
                    old.x, old.y = current.x, current.y
                self._previous = [v for t in self.figure.data[:2] for v in (t.y or ())]
            self.figure.data[0].x, self.figure.data[0].y = list(steps), plottable(train)
            self.figure.data[1].x, self.figure.data[1].y = list(steps), plottable(dev)
            self.figure.data[4].x, self.figure.data[4].y = ([best[0]], [best[1]]) if best else ([], [])
            if self.figure.layout.yaxis.type == "log":  # this run's points and the previous run's (dotted)
                label_log_axis(self.figure, [*train, *dev, *self._previous])
