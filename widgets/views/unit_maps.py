"""What each hidden unit has learned: its activation over the input plane as a small map, one per unit, drawn as
one heat map (a single message per update), in the manner of TensorFlow Playground."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from widgets.views.figure import PALETTE, make_figure, set_heatmap_z
from widgets.views.image_grid import tile

GAP = 3  # map cells between two maps
_SCALE = [[0.0, "#f2f2f2"], [1.0, "#0b4f8a"]]  # a unit's lowest value light grey, its highest dark blue


def stretch(maps: np.ndarray) -> np.ndarray:
    """Each map (k, s, s) from its own lowest value (0) to its highest (1); a constant map becomes all 0."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 1e-12, (maps - low) / np.where(span > 1e-12, span, 1.0), 0.0)


class UnitMaps:
    def __init__(self, title: str = "What each hidden unit computes", *, height: int = 520, width: int = 540):
        self.title = title
        self.figure = make_figure(title, height=height, width=width)
        self.figure.update_layout(margin={"l": 10, "r": 10, "t": 60, "b": 10})
        self.figure.update_xaxes(visible=False, showgrid=False)
        self.figure.update_yaxes(visible=False, showgrid=False, autorange="reversed", scaleanchor="x")
        self.figure.add_trace(go.Heatmap(z=[[0.0]], colorscale=_SCALE, zmin=0, zmax=1, showscale=False,
                                         hoverinfo="skip"))
        self.captions: list[str] = []

    def show(self, maps: np.ndarray, captions: Sequence[str], marked: Sequence[bool] = (), note: str = "") -> None:
        """maps (k, s, s): unit j's activation with row r at x₂ = r-th grid value (bottom row first) and column c at
        x₁ = c-th grid value. Each is stretched to its own range; `marked` captions are drawn in vermilion;
        `note` is added to the title."""
        k, s, _ = maps.shape
        columns = max(1, math.ceil(math.sqrt(k)))
        mosaic = tile(stretch(maps)[:, ::-1, :], columns, gap=GAP, background=np.nan)  # top row: high x₂
        with self.figure.batch_update():
            set_heatmap_z(self.figure, mosaic)  # the NaN gaps stay gaps
            title = f"{self.title} ({note})" if note else self.title
            if self.figure.layout.title.text != title:
                self.figure.layout.title.text = title
            if list(captions) != self.captions:  # captions change rarely: don't resend them every frame
                self.captions = list(captions)
                marked = list(marked) + [False] * (k - len(marked))
                self.figure.layout.annotations = [
                    dict(text=caption, showarrow=False, x=(i % columns) * (s + GAP) - 0.5, xanchor="left",
                         y=(i // columns) * (s + GAP) - 0.5, yanchor="top", bgcolor="rgba(255,255,255,0.75)",
                         borderpad=1, font={"size": 10, "color": PALETTE[5] if marked[i] else "#333"})
                    for i, caption in enumerate(captions)]
