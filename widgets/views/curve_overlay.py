"""Curves of several settings overlaid, the latest drawn thick, redrawn in one message per change.

The plot holds a fixed number of line slots from the start. A new curve takes a free slot or the oldest curve's,
and its slot alone gets new points; the legend (`legendrank`) and the drawing order (`zorder`) still put the
curves oldest first. Adding a trace and removing the oldest are a full redraw each in plotly.js, so a view that
adds and drops curves on every slider press (lab 17's gradients through time) paid for two or three; restyling
every slot with its points instead cost ~50 ms a press in the kernel here (plotly validates each value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable

THICK, THIN = 4.0, 1.5


@dataclass(frozen=True)
class Curve:
    label: str
    y: list[float | None]
    rank: int  # 1 for the first curve ever shown, then counting up: the newest has the highest


class CurveOverlay:
    """Up to `slots` curves, oldest first; a new one beyond that pushes the oldest out."""

    def __init__(self, title: str, *, x_title: str, y_title: str, slots: int = 6, height: int = 480,
                 width: int = 1000):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width, log_y=True)
        # the legend below the plot: its long labels (every setting) would cover the title above it. Shown from the
        # first curve on (plotly shows it from the second): the first curve is named, and the first slider press
        # does not add the legend, which cost that press a second redraw as the margins grew
        self.figure.update_layout(legend={"orientation": "h", "y": -0.16, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 120}, showlegend=True)
        self.figure.add_traces([go.Scatter(x=[], y=[], mode="lines", visible=False) for _ in range(slots)])
        self._slots: list[Curve | None] = [None] * slots
        self._rank = 0

    @property
    def labels(self) -> list[str]:
        """The curves shown, oldest first."""
        return [curve.label for curve in sorted(filter(None, self._slots), key=lambda curve: curve.rank)]

    def show(self, new: Sequence[tuple[str, Sequence[float], Sequence[float], str]], *, thick: set[str]) -> None:
        """Add the `new` curves, each (label, x, y, note), replacing any of the same label; a note is shown in the
        legend and dots the line ("×0.2" for a clipped copy). Draw the curves named in `thick` thick and every
        other one thin. One message to the browser, whatever changed."""
        with self.figure.batch_update():
            for label, x, y, note in new:
                slot, self._rank = self._slot_for(label), self._rank + 1
                self._slots[slot] = Curve(label, plottable(y), self._rank)
                self.figure.data[slot].update(
                    x=list(x), y=self._slots[slot].y, visible=True, meta=label, legendrank=self._rank,
                    zorder=self._rank, name=f"{label} ({note})" if note else label,
                    line={"color": PALETTE[(self._rank - 1) % len(PALETTE)], "dash": "dot" if note else "solid"})
            for trace, curve in zip(self.figure.data, self._slots, strict=True):
                if curve is not None:
                    trace.line.width = THICK if curve.label in thick else THIN
            label_log_axis(self.figure, [v for curve in filter(None, self._slots) for v in curve.y])

    def _slot_for(self, label: str) -> int:
        """The slot of the curve called `label`, else a free one, else the oldest curve's."""
        for slot, curve in enumerate(self._slots):
            if curve is not None and curve.label == label:
                return slot
        if None in self._slots:
            return self._slots.index(None)
        return min(range(len(self._slots)), key=lambda slot: self._slots[slot].rank)
