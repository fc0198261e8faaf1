"""One line per fixed label (e.g. one per recurrent cell), each redrawn whole, with an optional dashed reference
line across the plot (chance level)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


class LabelledLines:
    """Traces, in order: one per label in `labels` (PALETTE order), then the reference line if there is one."""

    def __init__(self, title: str, labels: Sequence[str], *, x_title: str, y_title: str, markers: bool = False,
                 reference: tuple[float, str] | None = None, height: int = 320, width: int | None = None):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width)
        mode = "lines+markers" if markers else "lines"
        for i, label in enumerate(labels):
            self.figure.add_trace(go.Scatter(x=[], y=[], name=label, meta=label, mode=mode,
                                             line={"color": PALETTE[i % len(PALETTE)], "width": 2.5}))
        self.reference = reference
        # each line's points, kept here: inside a batch_update the figure still returns the values from before it
        self._points: dict[str, list[tuple[float, float]]] = {}
        if reference is not None:
            self.figure.add_trace(go.Scatter(x=[], y=[], name=reference[1], mode="lines", hoverinfo="skip",
                                             line={"color": "#888", "width": 1.5, "dash": "dash"}))

    def show(self, label: str, x: Sequence[float], y: Sequence[float]) -> None:
        """Replace the points of `label`'s line (and stretch the reference line from 0 to the largest x)."""
        self._points[label] = list(zip(x, y, strict=True))
        with self.figure.batch_update():
            for trace in self.figure.data:
                if trace.meta == label:
                    trace.x, trace.y = list(x), plottable(y)
            self._stretch_reference()

    def extend(self, points: Sequence[tuple[str, float, float]]) -> None:
        """Append (label, x, y) points to their lines, all in one message: one push of a run can carry dozens of
        evaluations, and a message for each queued as many redraws in the browser, ahead of the next run."""
        for label, x, y in points:
            self._points.setdefault(label, []).append((x, y))
        with self.figure.batch_update():
            for label in dict.fromkeys(label for label, _, _ in points):
                xs, ys = zip(*self._points[label], strict=True)
                self.show(label, xs, ys)

    def clear(self) -> None:
        self._points = {}
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y = [], []

    def _stretch_reference(self) -> None:
        if self.reference is None:
            return
        xs = [x for line in self._points.values() for x, _ in line if x is not None]
        line = self.figure.data[-1]
        line.x, line.y = ([0, max(xs)], [self.reference[0]] * 2) if xs else ([], [])
