"""Cost curves of several runs overlaid, each labelled by its settings, so runs can be compared."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable


class CostCurves:
    """One line per run; the oldest run is dropped once more than `max_runs` are shown."""

    def __init__(self, title: str = "Cost J while training", *, x_title: str = "iteration", y_title: str = "cost J",
                 max_runs: int = 6, log_y: bool = True, height: int = 340):
        self.max_runs = max_runs
        self.figure = make_figure(title, x_title, y_title, height=height, log_y=log_y)
        self._colour = 0

    @property
    def labels(self) -> list[str]:
        """The runs shown, oldest first (legend entries may carry a note such as "(diverged)")."""
        return [trace.meta for trace in self.figure.data]

    def add_run(self, label: str, steps: Sequence[float] = (), costs: Sequence[float] = (), *, note: str = "") -> None:
        """Start a new line named `label`, with its first points if given (a run with the same label is replaced).

        The line arrives with its points in one message, so the browser draws a new run's first point in one
        redraw; the runs it displaces are removed after it, not before.
        """
        self.add_runs([(label, steps, costs, note)])

    def add_runs(self, runs: Sequence[tuple[str, Sequence[float], Sequence[float], str]]) -> None:
        """Start several lines at once, each (label, steps, costs, note) as in `add_run`: they arrive together in
        one message, and the runs they displace leave in one more (one redraw each in the browser, instead of two
        per line). Not inside a `batch_update`: a batch's restyles address traces by their place, which changes
        here as runs are removed."""
        traces, ys = [], []
        for label, steps, costs, note in runs:
            x, y = self._points(steps, costs)
            line = {"color": PALETTE[self._colour % len(PALETTE)], "width": 2.5, **({"dash": "dot"} if note else {})}
            traces.append(go.Scatter(x=x, y=plottable(y), name=f"{label} ({note})" if note else label, meta=label,
                                     mode="lines", line=line))
            self._colour += 1
            ys += y
        self.figure.add_traces(traces)
        new, labels = self.figure.data[len(self.figure.data) - len(traces):], {trace.meta for trace in traces}
        older = [t for t in self.figure.data[:-len(traces)] if t.meta not in labels]
        kept = older[max(0, len(older) + len(traces) - self.max_runs):] + list(new)
        if len(kept) != len(self.figure.data):
            self.figure.data = kept
        with self.figure.batch_update():
            self._label_axis(labels, ys)

    def update_run(self, label: str, steps: Sequence[float], costs: Sequence[float], *, note: str = "") -> None:
        """Replace the points of run `label`; `note` (e.g. "diverged") is appended to its legend entry."""
        self.update_runs([(label, steps, costs, note)])

    def update_runs(self, runs: Sequence[tuple[str, Sequence[float], Sequence[float], str]]) -> None:
        """Replace the points of several runs, each (label, steps, costs, note) as in `update_run`, in one message:
        one redraw in the browser for a job that trains several models side by side, not one per model."""
        labels, ys = set(), []
        with self.figure.batch_update():
            for label, steps, costs, note in runs:
                trace = self._trace(label)
                x, y = self._points(steps, costs)
                trace.x, trace.y = x, plottable(y)
                self._mark(trace, label, note)
                labels.add(label)
                ys += y
            self._label_axis(labels, ys)  # from the new points: inside the batch the figure still holds the old

    def _points(self, steps: Sequence[float], costs: Sequence[float]) -> tuple[list[float], list[float]]:
        """The (x, y) drawn for a run's steps and costs: all of them here; subclasses may summarise."""
        return list(steps), list(costs)

    @staticmethod
    def _mark(trace, label: str, note: str) -> None:
        if note:
            trace.name = f"{label} ({note})"
            trace.line.dash = "dot"

    def _label_axis(self, labels: str | set[str], costs: Sequence[float]) -> None:
        """Label a log axis for every run's points, those of `labels` being `costs` (not yet sent)."""
        labels = {labels} if isinstance(labels, str) else labels
        if self.figure.layout.yaxis.type == "log":  # the other runs' points, and these runs' new ones
            others = [v for t in self.figure.data if t.meta not in labels and t.y is not None for v in t.y]
            label_log_axis(self.figure, [*others, *costs])

    def clear(self) -> None:
        """Remove every run."""
        with self.figure.batch_update():
            self.figure.data = []
            if self.figure.layout.yaxis.type == "log":
                label_log_axis(self.figure, [])  # no stray tick labels on the empty axis
        self._colour = 0

    def _trace(self, label: str):
        for trace in self.figure.data:
            if trace.meta == label:
                return trace
        raise KeyError(f"No run named {label!r}; runs shown: {self.labels}")
