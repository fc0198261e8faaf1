"""Accuracies of several ways of doing one thing, grouped by a setting, with the range of repeated tries."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


class AccuracyBars:
    """Grouped bars from 0 to 100 %: one trace per name in `series` (PALETTE colours), each bar labelled with its
    value; a series given several tries per group shows their mean, with the lowest and highest as an error bar."""

    def __init__(self, title: str, series: Sequence[str], *, x_title: str, y_title: str = "accuracy",
                 height: int = 340, width: int | None = 1000):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width)
        self.figure.update_yaxes(range=[0, 1.12], tickformat=".0%")
        self.figure.update_layout(barmode="group", bargap=0.3)
        for i, name in enumerate(series):
            self.figure.add_trace(go.Bar(x=[], y=[], name=name, meta=name, text=[], textposition="outside",
                                         cliponaxis=False, marker={"color": PALETTE[i % len(PALETTE)]},
                                         hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>"))

    def show(self, groups: Sequence[str], tries: Sequence[Sequence[Sequence[float]]], *, title: str | None = None,
             note: str = "") -> None:
        """`tries[s][g]`: the accuracies (one or several tries) of series s in group g."""
        with self.figure.batch_update():
            for trace, rows in zip(self.figure.data, tries, strict=True):
                means = [sum(r) / len(r) if len(r) else float("nan") for r in rows]
                trace.x, trace.y = list(groups), plottable(means)
                trace.text = [f"{m:.1%}" if m == m else "" for m in means]
                pairs = list(zip(rows, means, strict=True))
                spread = any(len(r) > 1 for r in rows)
                trace.error_y = (dict(type="data", symmetric=False, color="#333", thickness=1.5, width=6,
                                      array=[max(r) - m if len(r) else 0 for r, m in pairs],
                                      arrayminus=[m - min(r) if len(r) else 0 for r, m in pairs])
                                 if spread else None)
            if title is not None:
                self.figure.layout.title.text = title
            self.figure.layout.annotations = [dict(text=note, showarrow=False, x=0.5, y=0.5, xref="paper",
                                                   yref="paper", font={"size": 14, "color": "#555"})] if note else []

    def clear(self, note: str = "") -> None:
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y, trace.text, trace.error_y = [], [], [], None
            self.figure.layout.annotations = [dict(text=note, showarrow=False, x=0.5, y=0.5, xref="paper",
                                                   yref="paper", font={"size": 14, "color": "#555"})] if note else []
