"""Histograms of several sets of numbers overlaid as outlines on shared bins, so their spreads and centres compare."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from widgets.views.figure import make_figure

# Light to dark: a sequence in time reads as one, also without colour vision (the lightness carries it).
SEQUENCE = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08306b")


def shared_edges(groups: Sequence[Sequence[float]], bins: int = 40, trim: float = 0.5) -> np.ndarray:
    """`bins` + 1 equal-width edges spanning the `trim`-th to (100 − trim)-th percentile of all the values together
    (one stray value would otherwise squeeze the rest into a bin or two). Empty groups are ignored; with no values
    at all, the edges of [−1, 1]."""
    values = np.concatenate([np.asarray(g, dtype=float) for g in groups if len(g)] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.linspace(-1.0, 1.0, bins + 1)
    low, high = np.percentile(values, [trim, 100 - trim])
    if high - low < 1e-9:  # every value the same: a narrow window around it
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def counts_in(values: Sequence[float], edges: np.ndarray) -> list[int]:
    """How many of `values` fall in each bin; values beyond the edges count in the first or last bin."""
    clipped = np.clip(np.asarray(values, dtype=float), edges[0], edges[-1])
    return np.histogram(clipped, bins=edges)[0].tolist()


class Histograms:
    """One outline per series over shared bins. `series`: (name, colour, dash) per trace, in order."""

    def __init__(self, title: str, x_title: str, y_title: str = "count", *,
                 series: Sequence[tuple[str, str, str]] = (), height: int = 340, width: int | None = 540):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width)
        self.figure.update_layout(legend={"orientation": "v", "y": 1, "yanchor": "top", "x": 1.0, "xanchor": "left"},
                                  margin={"r": 150})
        for name, colour, dash in series:
            self.figure.add_trace(self._trace(name, colour, dash))

    @staticmethod
    def _trace(name: str, colour: str, dash: str = "solid") -> go.Scatter:
        return go.Scatter(x=[], y=[], name=name, meta=name, mode="lines", line={"shape": "hv", "color": colour,
                          "width": 2.5, "dash": dash}, hovertemplate="%{x:.3g}: %{y}<extra>" + name + "</extra>")

    def show(self, groups: Sequence[Sequence[float]], edges: np.ndarray, *, names: Sequence[str] | None = None,
             colours: Sequence[str] | None = None, title: str | None = None, x_title: str | None = None,
             note: str = "") -> None:
        """Draw each group's counts over `edges` as an outline, in trace order; traces are added or removed so
        there is one per group. `names` and `colours` rename and recolour them; `note` is a line of text over
        the plot (e.g. why it is empty)."""
        left = list(edges[:-1]) + [edges[-1]]  # the last count is repeated, so the outline reaches the last edge
        with self.figure.batch_update():
            if len(self.figure.data) != len(groups):
                kept = list(self.figure.data[:len(groups)])
                extra = [self._trace(f"series {i + 1}", SEQUENCE[i % len(SEQUENCE)])
                         for i in range(len(kept), len(groups))]
                self.figure.data = kept
                if extra:
                    self.figure.add_traces(extra)  # one message: each adds a redraw of the whole plot
            for i, (trace, values) in enumerate(zip(self.figure.data, groups, strict=True)):
                counts = counts_in(values, edges) if len(values) else []
                trace.x, trace.y = (left, counts + counts[-1:]) if counts else ([], [])
                if names is not None:
                    trace.name = trace.meta = names[i]
                    trace.hovertemplate = "%{x:.3g}: %{y}<extra>" + names[i] + "</extra>"
                if colours is not None:
                    trace.line.color = colours[i]
            if title is not None:
                self.figure.layout.title.text = title
            if x_title is not None:
                self.figure.layout.xaxis.title.text = x_title
            self.figure.layout.annotations = [dict(text=note, showarrow=False, x=0.5, y=0.5, xref="paper",
                                                   yref="paper", font={"size": 14, "color": "#555"})] if note else []
