"""A row of grey images with captions, drawn as one heatmap so an update is a single message."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from widgets.views.figure import make_figure, set_heatmap_z


def tile(images: np.ndarray, columns: int, gap: int = 8, background: float = 1.0) -> np.ndarray:
    """Lay out images (k, H, W) in a grid of `columns` with white gaps; returns (rows·(H+gap), columns·(W+gap)).

    Gaps are a value, not NaN: a NaN would make the widget's JSON message invalid.
    """
    k, h, w = images.shape
    rows = max(1, -(-k // columns))
    mosaic = np.full((rows * (h + gap), columns * (w + gap)), background)
    for i in range(k):
        r, c = divmod(i, columns)
        mosaic[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = images[i]
    return mosaic


class ImageGrid:
    def __init__(self, title: str, *, columns: int = 8, height: int = 220, width: int | None = None,
                 empty_text: str = "No images"):
        self.columns, self.empty_text = columns, empty_text
        self.figure = make_figure(title, height=height, width=width)
        self.figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10})
        self.figure.update_xaxes(visible=False, showgrid=False)
        self.figure.update_yaxes(visible=False, showgrid=False, autorange="reversed", scaleanchor="x")
        self.figure.add_trace(go.Heatmap(z=[[1.0]], colorscale="gray", showscale=False, zmin=0, zmax=1,
                                         hoverinfo="skip"))
        self.captions: list[str] = []

    def show(self, images: np.ndarray, captions: Sequence[str]) -> None:
        """Show images (k, H, W) with values in [0, 1] and one caption each (k may be 0)."""
        self.captions = list(captions)
        with self.figure.batch_update():
            if len(images) == 0:
                self.figure.data[0].z = [[1.0]]
                self.figure.layout.annotations = [dict(text=self.empty_text, showarrow=False, x=0, y=0,
                                                       font={"size": 14})]
                return
            _, h, w = images.shape
            set_heatmap_z(self.figure, tile(np.asarray(images, dtype=float), self.columns))
            self.figure.layout.annotations = [
                dict(text=caption, showarrow=False, x=(i % self.columns) * (w + 8) + w / 2,
                     y=(i // self.columns) * (h + 8) + h + 0.5, yanchor="top", font={"size": 11})
                for i, caption in enumerate(captions)
            ]
