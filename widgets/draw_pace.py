"""Hands a running job's updates to the browser no faster than it draws them.

A plotly update costs the browser a redraw and then a reply (the figure's deltas) — 50–90 ms a figure on
two busy cores, measured in headless Chromium. Pushed ten times a second, a dashboard with two live plots
sends updates faster than they are drawn; the queue grows, and a new run's first point waits behind it
(400–700 ms after four slider presses 250 ms apart). A FigureWidget knows when its last edit has been drawn:
the front end answers every edit with the figure's deltas, tagged with the edit's number. Routine pushes
wait for that answer; the urgent ones (a run's first step, its end, a divergence) never wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import plotly.graph_objects as go

# The front end's replies to an edit: once one has come, the figure has a browser view that answers.
_REPLIES = ["_js2py_traceDeltas", "_js2py_layoutDelta"]


def edit_pending(figure: go.FigureWidget) -> bool:
    """Whether the browser has yet to draw (and answer) the figure's last edit.

    plotly keeps these two flags itself (set when it sends an edit, cleared by the reply carrying the last edit's
    number); they are private, so `tests/widgets/test_draw_pace.py` checks them against a simulated front end.
    """
    return bool(figure._trace_edit_in_process or figure._layout_edit_in_process)


class DrawPace:
    """`drawn()` is True when every watched figure with a browser view has drawn its last edit.

    A figure no browser has answered yet (no page open: a test, nbval) never holds a push back. One whose page
    stopped answering (a closed tab) holds pushes back for at most `patience` seconds at a time.
    """

    def __init__(self, patience: float = 1.0):
        self.patience = patience
        self._figures: list[go.FigureWidget] = []
        self._answered: set[int] = set()  # id() of the figures a browser has answered
        self._waiting_since: float | None = None

    def watch(self, figures: Iterable[go.FigureWidget]) -> None:
        for figure in figures:
            if isinstance(figure, go.FigureWidget) and all(figure is not f for f in self._figures):
                self._figures.append(figure)
                figure.observe(self._note_answer, names=_REPLIES)

    def _note_answer(self, change) -> None:
        if change["new"]:  # plotly resets the trait to None once it has read the reply
            self._answered.add(id(change["owner"]))

    def drawn(self) -> bool:
        if not any(id(f) in self._answered and edit_pending(f) for f in self._figures):
            self._waiting_since = None
            return True
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if now - self._waiting_since >= self.patience:  # the page went away, or draws very slowly: push anyway
            self._waiting_since = None
            return True
        return False
