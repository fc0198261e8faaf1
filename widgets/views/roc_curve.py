"""An ROC curve (true-accept rate against false-accept rate), the chance diagonal, and the point of the current
threshold, which moves on its own without redrawing the curve."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure

MAX_POINTS = 400  # points sent for the curve: enough for a smooth line, few enough for a quick update


class RocCurve:
    """Traces, in order: the curve, the chance diagonal, the current point."""

    def __init__(self, title: str, *, x_title: str = "false-accept rate (different pairs called same)",
                 y_title: str = "true-accept rate (same pairs called same)", height: int = 400, width: int = 480):
        self.figure = make_figure(title, x_title, y_title, height=height, width=width)
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name="ROC", meta="roc",
                                         line={"color": PALETTE[0], "width": 2.5}))
        self.figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", meta="chance",
                                         hoverinfo="skip", line={"color": "#888", "width": 1.5, "dash": "dash"}))
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="markers+text", name="threshold τ", meta="point",
                                         textposition="bottom right",
                                         marker={"color": PALETTE[5], "size": 14, "symbol": "diamond"}))
        self.figure.update_xaxes(range=[-0.02, 1.02], constrain="domain")
        self.figure.update_yaxes(range=[-0.02, 1.02], scaleanchor="x", scaleratio=1)

    def show_curve(self, fpr: Sequence[float], tpr: Sequence[float], title: str | None = None) -> None:
        """Replace the curve (thinned to about MAX_POINTS points, the ends kept)."""
        stride = max(1, -(-len(fpr) // MAX_POINTS))
        keep = list(range(0, len(fpr), stride))
        if keep and keep[-1] != len(fpr) - 1:
            keep.append(len(fpr) - 1)
        with self.figure.batch_update():
            self.figure.data[0].x = [round(float(fpr[i]), 4) for i in keep]
            self.figure.data[0].y = [round(float(tpr[i]), 4) for i in keep]
            if title is not None:
                self.figure.layout.title.text = title

    def show_point(self, fpr: float, tpr: float, text: str) -> None:
        """Move the current point to (fpr, tpr), labelled `text`."""
        with self.figure.batch_update():
            point = self.figure.data[2]
            point.x, point.y, point.text = [fpr], [tpr], [text]
