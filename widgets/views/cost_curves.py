"""Cost curves of several runs overlaid, each labelled by its settings, so runs can be compared."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable


class CostCurves:
    """One line per run, oldest first in the legend; once `max_runs` lines are shown, a new run takes the oldest
    run's line.

    A new run's points go into the oldest run's trace (restyled: new points, name, colour) rather than into a trace
    added after deleting the oldest: in plotly.js adding a trace and deleting one are a full redraw each, and a
    press on a full plot paid for both, plus one more for the lines it updated. The legend (`legendrank`) and the
    drawing order (`zorder`) still put the runs oldest first, the newest on top."""

    def __init__(self, title: str = "Cost J while training", *, x_title: str = "iteration", y_title: str = "cost J",
                 max_runs: int = 6, log_y: bool = True, height: int = 340):
        self.max_runs = max_runs
        self.figure = make_figure(title, x_title, y_title, height=height, log_y=log_y)
        self._colour = 0
        self._rank = 0  # the latest run's: 1 for the first run ever shown, then counting up

    @property
    def labels(self) -> list[str]:
        """The runs shown, oldest first (legend entries may carry a note such as "(diverged)")."""
        return [trace.meta for trace in sorted(self.figure.data, key=lambda trace: trace.legendrank)]

    def add_run(self, label: str, steps: Sequence[float] = (), costs: Sequence[float] = (), *, note: str = "") -> None:
        """Start a new line named `label`, with its first points if given (a run with the same label is replaced
        and becomes the newest). The line arrives with its points in one message."""
        self.draw(new=[(label, steps, costs, note)])

    def add_runs(self, runs: Sequence[tuple[str, Sequence[float], Sequence[float], str]]) -> None:
        """Start several lines at once, each (label, steps, costs, note) as in `add_run`."""
        self.draw(new=runs)

    def update_run(self, label: str, steps: Sequence[float], costs: Sequence[float], *, note: str = "") -> None:
        """Replace the points of run `label`; `note` (e.g. "diverged") is appended to its legend entry."""
        self.draw(updated=[(label, steps, costs, note)])

    def update_runs(self, runs: Sequence[tuple[str, Sequence[float], Sequence[float], str]]) -> None:
        """Replace the points of several runs, each (label, steps, costs, note) as in `update_run`."""
        self.draw(updated=runs)

    def draw(self, new: Sequence[tuple[str, Sequence[float], Sequence[float], str]] = (),
             updated: Sequence[tuple[str, Sequence[float], Sequence[float], str]] = ()) -> None:
        """Start the `new` runs and replace the points of the `updated` ones, each (label, steps, costs, note): one
        message to the browser (one redraw), and one more before it when the plot gets new lines (fewer than
        `max_runs` shown). A job that trains several models side by side sends all its lines' changes at once.
        Not inside a `batch_update`: new lines are added traces, which plotly sends on their own."""
        slots = [(trace.legendrank, trace.meta) for trace in self.figure.data]  # (rank, label) per trace
        shown = len(slots)
        edits: dict[int, tuple] = {}  # trace index → (label, x, y, note, is it a new run)
        for label, steps, costs, note in new:
            index = next((i for i, (_, other) in enumerate(slots) if other == label), None)
            if index is None and len(slots) < self.max_runs:
                slots.append((0, label))
                index = len(slots) - 1
            elif index is None:  # the oldest run's line
                index = min(range(len(slots)), key=lambda i: slots[i][0])
            self._rank += 1
            slots[index] = (self._rank, label)
            edits[index] = (label, *self._points(steps, costs), note, True)
        for label, steps, costs, note in updated:
            index = next((i for i, (_, other) in enumerate(slots) if other == label), None)
            if index is None:
                raise KeyError(f"No run named {label!r}; runs shown: {self.labels}")
            is_new = index in edits and edits[index][4]  # started in this call: it keeps its new line's looks
            edits[index] = (label, *self._points(steps, costs), note, is_new)
        # each new line a colour no line still shown has (a line re-run under its own label, such as lab 03's
        # logistic regression, takes a colour each run: counting alone would soon give two lines one colour)
        taken = {trace.line.color for i, trace in enumerate(self.figure.data) if not (i in edits and edits[i][4])}
        colours = {}
        for index in sorted((i for i in edits if edits[i][4]), key=lambda i: slots[i][0]):
            colours[index] = self._free_colour(taken)
            taken.add(colours[index])
        added = [go.Scatter(self._line(*edits[i][:4], rank=slots[i][0], colour=colours[i]))
                 for i in range(shown, len(slots))]
        if added:
            self.figure.add_traces(added)
        with self.figure.batch_update():
            for index, (label, x, y, note, is_new) in edits.items():
                if index >= shown:
                    continue
                trace = self.figure.data[index]
                if is_new:
                    trace.update(self._line(label, x, y, note, rank=slots[index][0], colour=colours[index]))
                else:
                    trace.x, trace.y = x, plottable(y)
                    self._mark(trace, label, note)
            # the other runs' points, and these runs' new ones: inside the batch the figure still holds the old
            if self.figure.layout.yaxis.type == "log":
                others = [v for i, trace in enumerate(self.figure.data) if i not in edits and trace.y is not None
                          for v in trace.y]
                label_log_axis(self.figure, [*others, *(v for edit in edits.values() for v in edit[2])])

    def _free_colour(self, taken: set[str]) -> str:
        """The next colour of the palette's cycle that is not `taken` (max_runs < len(PALETTE): one always is)."""
        for _ in range(len(PALETTE)):
            colour = PALETTE[self._colour % len(PALETTE)]
            self._colour += 1
            if colour not in taken:
                return colour
        return colour  # more lines than colours: share one

    @staticmethod
    def _line(label: str, x: list[float], y: list[float], note: str, *, rank: int, colour: str) -> dict:
        """A new run's line (every property a reused trace must change); dotted, with its note in the legend,
        when it has one."""
        return {"x": x, "y": plottable(y), "name": f"{label} ({note})" if note else label, "meta": label,
                "mode": "lines", "legendrank": rank, "zorder": rank,
                "line": {"color": colour, "width": 2.5, "dash": "dot" if note else "solid"}}

    def _points(self, steps: Sequence[float], costs: Sequence[float]) -> tuple[list[float], list[float]]:
        """The (x, y) drawn for a run's steps and costs: all of them here; subclasses may summarise."""
        return list(steps), list(costs)

    @staticmethod
    def _mark(trace, label: str, note: str) -> None:
        if note:
            trace.name = f"{label} ({note})"
            trace.line.dash = "dot"

    def clear(self) -> None:
        """Remove every run."""
        with self.figure.batch_update():
            self.figure.data = []
            if self.figure.layout.yaxis.type == "log":
                label_log_axis(self.figure, [])  # no stray tick labels on the empty axis
        self._colour = 0
