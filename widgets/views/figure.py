"""The common look of every plot in the lab."""

from __future__ import annotations

import math
from collections.abc import Iterable

import plotly.graph_objects as go
import plotly.io as pio

# Okabe–Ito: distinguishable with the common forms of colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")

# plotly's "simple_white" look, kept for the trace types the lab draws. The full template styles 24 trace
# types; copying and validating it cost ~45 ms a figure and sent it to the browser inside every figure's state.
_TRACE_TYPES = ("scatter", "bar", "heatmap", "contour", "histogram")
_SIMPLE_WHITE = pio.templates["simple_white"].to_plotly_json()
TEMPLATE = {"layout": _SIMPLE_WHITE["layout"],
            "data": {kind: styles for kind, styles in _SIMPLE_WHITE["data"].items() if kind in _TRACE_TYPES}}


def make_figure(title: str, x_title: str = "", y_title: str = "", *, height: int = 320, width: int | None = None,
                log_y: bool = False) -> go.FigureWidget:
    """An empty FigureWidget with the lab's template, axis titles and a legend above the plot."""
    return go.FigureWidget(layout=go.Layout(
        title={"text": title, "x": 0.02, "font": {"size": 15}},
        template=TEMPLATE, height=height, width=width, margin={"l": 60, "r": 20, "t": 70, "b": 50},
        xaxis={"title": {"text": x_title}, "showgrid": True},
        yaxis={"title": {"text": y_title}, "showgrid": True,
               **({"type": "log", "dtick": "D2"} if log_y else {})},  # D2: label 1, 2, 5 per decade, not 1–9
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        font={"size": 13},
    ))


def plottable(values: Iterable[float]) -> list[float | None]:
    """Values with NaN and ±inf replaced by None: plotly draws a gap, and the widget message stays
    valid JSON (a bare NaN makes the browser drop the whole update)."""
    return [v if math.isfinite(v) else None for v in values]


def publish_state(figure: go.FigureWidget) -> None:
    """Copy the figure's current traces and layout into the state a new browser view starts from.

    plotly's FigureWidget refreshes that state only when the figure itself is displayed; a figure
    shown inside a VBox would otherwise appear as it was at construction, without the traces and
    layout changes made before the page connected (Voilà runs the whole notebook first).
    """
    figure._repr_mimebundle_()  # the public display hook is what refreshes `_widget_data`/`_widget_layout`
