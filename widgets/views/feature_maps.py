"""Filters and feature maps of a convolutional layer, whose values can be negative: a grid of grey images with
0 drawn mid-grey, the layer's largest |value| white (positive) or black (negative)."""

from __future__ import annotations

import numpy as np

from widgets.views.figure import set_heatmap_z
from widgets.views.image_grid import ImageGrid, tile


def signed_to_grey(maps: np.ndarray) -> tuple[np.ndarray, float]:
    """maps (k, H, W) → values in [0, 1] with 0 at 0.5, and the |value| that reaches white (or black).
    One scale for the whole set, so that maps compare: a faint map is a weak response."""
    top = float(np.abs(maps).max()) if maps.size else 0.0
    scale = top if top > 1e-12 else 1.0
    return 0.5 + maps / (2 * scale), top


class FeatureMaps(ImageGrid):
    """A grid of signed maps with thin white gaps (`gap` cells: small maps keep their size); `show_maps()` writes
    the grey scale into the title."""

    def __init__(self, title: str, *, columns: int = 8, gap: int = 2, height: int = 220, width: int | None = None):
        super().__init__(title, columns=columns, height=height, width=width)
        self.title, self.gap, self.top = title, gap, 0.0

    def show_maps(self, maps: np.ndarray, title: str | None = None) -> None:
        """maps (k, H, W), any real values (a NaN or ±inf from a diverged run is drawn as 0, mid-grey)."""
        maps = np.nan_to_num(np.asarray(maps, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        grey, self.top = signed_to_grey(maps)
        self.title = title or self.title
        with self.figure.batch_update():
            # 2 decimals: 100 grey levels are more than the eye tells apart
            set_heatmap_z(self.figure, tile(grey, self.columns, gap=self.gap), decimals=2)
            self.figure.layout.title.text = f"{self.title} (mid-grey 0, white +{self.top:.2g}, black −{self.top:.2g})"
