"""Hands a running job's updates to the browser no faster than it draws them.

A plotly update costs the browser a redraw and then an answer — 50–90 ms a figure on
two busy cores, measured in headless Chromium. Pushed several times a second, a dashboard with two live plots
sends updates faster than they are drawn; the queue grows, and a new run's first point waits behind it
(400–700 ms after four slider presses 250 ms apart). A FigureWidget knows when its last edit has been drawn:
the front end answers every edit with the edit's number once it has drawn it. Routine pushes
wait for that answer; the urgent ones (a run's first step, its end, a divergence) never wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import plotly.graph_objects as go

# The front end's answers to an edit, each with the plotly flag it settles. plotly's own widget code sends the layout's
# answer under another name ("_js2py_widget_layoutDelta", no trait has it), so with plotly's bundle only trace edits
# are ever answered; the lab's lean build answers both (.ci/plotly-widget-answers.patch).
_ANSWERS = {"_js2py_traceDeltas": "_trace_edit_in_process", "_js2py_layoutDelta": "_layout_edit_in_process"}


def edit_pending(figure: go.FigureWidget, answers: Iterable[str] = tuple(_ANSWERS)) -> bool:
    """Whether the browser has yet to draw (and answer) the figure's last edit, of the kinds its page answers.

    plotly keeps these flags itself (set when it sends an edit, cleared by the answer carrying the last edit's
    number); they are private, so `tests/widgets/test_draw_pace.py` checks them against a simulated front end.
    """
    return any(getattr(figure, _ANSWERS[answer]) for answer in answers)


class DrawPace:
    """`drawn()` is True when every watched figure with a browser view has drawn its last edit.

    A figure no browser has answered yet (no page open: a test, nbval) never holds a push back, nor does an edit of
    a kind its page never answers. One whose page stopped answering (a closed tab) holds pushes back for at most
    `patience` seconds at a time.
    """

    def __init__(self, patience: float = 1.0):
        self.patience = patience
        self._figures: list[go.FigureWidget] = []
        self._answered: dict[int, set[str]] = {}  # id() of a figure a browser has answered → the answers it sent
        self._waiting_since: float | None = None

    def watch(self, figures: Iterable[go.FigureWidget]) -> None:
        for figure in figures:
            if isinstance(figure, go.FigureWidget) and all(figure is not f for f in self._figures):
                self._figures.append(figure)
                figure.observe(self._note_answer, names=list(_ANSWERS))

    def _note_answer(self, change) -> None:
        if change["new"]:  # plotly resets the trait to None once it has read the answer
            self._answered.setdefault(id(change["owner"]), set()).add(change["name"])

    def drawn(self) -> bool:
        if not any(edit_pending(f, self._answered.get(id(f), ())) for f in self._figures):
            self._waiting_since = None
            return True
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if now - self._waiting_since >= self.patience:  # the page went away, or draws very slowly: push anyway
            self._waiting_since = None
            return True
        return False
