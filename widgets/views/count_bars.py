"""Counts as bars, one trace per series, grouped or stacked, each bar labelled with its value."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, plottable


class CountBars:
    """Bars over named categories. Traces, in order: one per name in `series`, coloured in PALETTE order (or by
    `colours`); `label(value)` writes the text on each bar."""

    def __init__(self, title: str, series: Sequence[str], *, y_title: str = "", x_title: str = "",
                 stacked: bool = False, colours: Sequence[str] | None = None, label: Callable[[float], str] = str,
                 height: int = 360, width: int | None = None):
        self.label = label
        self.figure = make_figure(title, x_title, y_title, height=height, width=width)
        self.figure.update_layout(barmode="stack" if stacked else "group", bargap=0.3)
        colours = list(colours or PALETTE)
        for i, name in enumerate(series):
            self.figure.add_trace(go.Bar(x=[], y=[], name=name, meta=name, text=[], textposition="auto",
                                         marker={"color": colours[i % len(colours)]},
                                         hovertemplate="%{x}: %{y:,}<extra>" + name + "</extra>"))

    def show(self, categories: Sequence[str], values: Sequence[Sequence[float | None]], *,
             title: str | None = None, x_title: str | None = None) -> None:
        """One list of values per series over `categories`; None leaves a gap (no bar in that category)."""
        with self.figure.batch_update():
            for trace, row in zip(self.figure.data, values, strict=True):
                trace.x = list(categories)
                trace.y = plottable([float("nan") if v is None else v for v in row])
                trace.text = ["" if v is None else self.label(v) for v in row]
            if title is not None:
                self.figure.layout.title.text = title
            if x_title is not None:
                self.figure.layout.xaxis.title.text = x_title
