"""A confusion matrix as a heat map of counts: true class down, predicted class across."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import make_figure

# Okabe–Ito blue, from white: the colour-blind-safe palette's own shade
_SCALE = [[0.0, "#ffffff"], [1.0, "#0072B2"]]


class ConfusionMatrix:
    """C × C cells, each showing its count (blank off the diagonal where it is 0). The colour saturates at a few
    times the largest mistake, so the mistakes stand out next to the (much larger) diagonal of correct answers."""

    def __init__(self, title: str, class_names: Sequence[str], *, height: int = 440, width: int = 460):
        self.class_names = list(class_names)
        self.figure = make_figure(title, "predicted digit", "true digit", height=height, width=width)
        self.figure.update_xaxes(showgrid=False, type="category", side="bottom")
        self.figure.update_yaxes(showgrid=False, type="category", autorange="reversed", scaleanchor="x")
        self.figure.add_trace(go.Heatmap(
            z=[[0] * len(class_names)] * len(class_names), x=self.class_names, y=self.class_names,
            colorscale=_SCALE, zmin=0, zmax=1, showscale=False, texttemplate="%{text}", textfont={"size": 12},
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>", xgap=1, ygap=1))

    def show(self, counts: Sequence[Sequence[int]], title: str | None = None) -> None:
        """Counts (C, C) as nested lists of ints: row i = true class i, column j = predicted class j."""
        rows = [[int(v) for v in row] for row in counts]
        mistakes = [v for i, row in enumerate(rows) for j, v in enumerate(row) if i != j]
        with self.figure.batch_update():
            self.figure.data[0].z = rows
            # a blank for "never": the few mistakes stand out among the empty cells
            self.figure.data[0].text = [[str(v) if v or i == j else "" for j, v in enumerate(row)]
                                        for i, row in enumerate(rows)]
            self.figure.data[0].zmax = max(3, 3 * max(mistakes, default=0))
            if title is not None:
                self.figure.layout.title.text = title

    @property
    def counts(self) -> list[list[int]]:
        """The counts shown now (for tests and readouts)."""
        return [list(row) for row in self.figure.data[0].z]
