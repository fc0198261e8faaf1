"""Probabilities per class as bars, one trace per series side by side, each bar labelled with its percentage."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


def percent(value: float | None) -> str:
    """'84.2%' for a probability; '' for NaN (no bar is drawn, so there is nothing to label)."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.1%}"


class ProbabilityBars:
    """A bar chart of probabilities over classes; y from 0 to 1, so bars of two settings compare by height.

    Traces, in order: one per name in `series`, coloured in PALETTE order. A value that is NaN (a formula that
    overflowed) draws no bar; its class still shows on the x axis.
    """

    def __init__(self, title: str, series: Sequence[str], *, x_title: str = "class", height: int = 340,
                 width: int | None = 560):
        self.figure = make_figure(title, x_title, "probability", height=height, width=width)
        self.figure.update_yaxes(range=[0, 1.12], tickformat=".0%")
        self.figure.update_layout(barmode="group", bargap=0.25)
        for i, name in enumerate(series):
            self.figure.add_trace(go.Bar(x=[], y=[], name=name, meta=name, text=[], textposition="outside",
                                         cliponaxis=False, marker={"color": PALETTE[i % len(PALETTE)]},
                                         hovertemplate="%{x}: %{y:.4f}<extra>" + name + "</extra>"))

    def show(self, classes: Sequence[str], values: Sequence[Sequence[float]], *, colours: Sequence[str] | None = None,
             note: str = "", title: str | None = None) -> None:
        """One list of C probabilities per series (NaN allowed), for the C `classes`; `colours` (C,) recolours
        the first series' bars (e.g. to mark the true class); `note` is a line of text over the plot."""
        with self.figure.batch_update():
            for i, (trace, row) in enumerate(zip(self.figure.data, values, strict=True)):
                trace.x, trace.y = list(classes), plottable(row)
                trace.text = [percent(v) for v in row]
                if i == 0:
                    trace.marker.color = list(colours) if colours else PALETTE[0]
            # just above the plot on the left: the legend takes the right
            self.figure.layout.annotations = [dict(text=note, showarrow=False, x=0, y=1.02, xref="paper",
                                                   yref="paper", xanchor="left", yanchor="bottom",
                                                   font={"size": 13, "color": PALETTE[5]})] if note else []
            if title is not None:
                self.figure.layout.title.text = title
