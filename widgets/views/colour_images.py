"""A row of colour images with captions, each sent to the browser as a small PNG in an ipywidgets Image.

A colour image as numbers in JSON (a plotly trace's `z`) is 3 numbers a pixel, ~150 kB for 128 × 128; as a PNG
it is ~25 kB, encodes in ~2 ms and travels as a binary buffer, so a live image can be redrawn several times a
second. (A plotly Image trace with a PNG `source` was tried first: in Voilà its figure never finished drawing, and
the dashboard around it never appeared.)
"""

from __future__ import annotations

import html
import io

import ipywidgets as W
import numpy as np
from PIL import Image

SHOWN_SIDE = 256  # the long side images are shown at, in screen pixels, whatever their own size


def png_bytes(image) -> bytes:
    """An RGB image (3, H, W) in [0, 1] (tensor or array) as PNG bytes."""
    array = np.asarray(image, dtype=np.float32).transpose(1, 2, 0)  # (H, W, 3)
    array = np.nan_to_num(array, nan=0.0).clip(0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray((array * 255 + 0.5).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    """The pixels of PNG bytes as (3, H, W) floats in [0, 1] (for tests)."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64).transpose(2, 0, 1) / 255


class ColourImages:
    """`len(titles)` images side by side, each with a caption above; `show(i, image)` replaces image i."""

    def __init__(self, title: str, titles: list[str]):
        self.title = W.HTML(f'<b class="lab-images-title">{html.escape(title)}</b>')
        self.captions = [W.HTML(html.escape(text)) for text in titles]
        self.images = [W.Image(value=png_bytes(np.ones((3, 1, 1))), format="png",
                               layout={"width": f"{SHOWN_SIDE}px", "object_fit": "contain"}) for _ in titles]
        self.widget = W.VBox([self.title, W.HBox([W.VBox([caption, image], layout={"margin": "0 12px 0 0"})
                                                  for caption, image in zip(self.captions, self.images, strict=True)])])

    def show(self, index: int, image, title: str | None = None) -> None:
        """Replace image `index` by `image` (3, H, W) in [0, 1], and its caption if given."""
        self.images[index].value = png_bytes(image)
        if title is not None:
            self.captions[index].value = html.escape(title)

    def pixels(self, index: int) -> np.ndarray:
        """The image panel `index` shows, (3, H, W) in [0, 1]."""
        return decode(self.images[index].value)

    def caption(self, index: int) -> str:
        return html.unescape(self.captions[index].value)
