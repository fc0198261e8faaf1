"""An image with boxes drawn on it: ground truth, predictions, grid lines, anchors — each a named layer.

Every layer is one or two scatter traces (outlines joined with gaps, plus an optional text label per
box), so redrawing any number of boxes is a single in-place restyle inside `batch_update()`.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from widgets.views.figure import make_figure

Box = Sequence[float]  # (x1, y1, x2, y2) in pixels, y downwards


def outline(boxes: Sequence[Box]) -> tuple[list[float | None], list[float | None]]:
    """x and y of closed rectangles, separated by None so one scatter trace draws them all."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for x1, y1, x2, y2 in boxes:
        xs += [x1, x2, x2, x1, x1, None]
        ys += [y1, y1, y2, y2, y1, None]
    return [round(v, 2) if v is not None else None for v in xs], [round(v, 2) if v is not None else None for v in ys]


def rgb_bytes(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) image in [0, 1] as 0–255 bytes."""
    return np.clip(np.rint(np.asarray(image) * 255), 0, 255).astype(np.uint8)


def photo_source(image: np.ndarray, side: int = 384) -> str:
    """An (H, W, 3) image in [0, 1] as a PNG data URI, each pixel enlarged to a k × k block (k = side // the
    image's long side, at least 1), so that the browser, which smooths an image it scales, shows sharp pixels.

    As a plotly Image trace's `z` the same photo was 3 numbers a pixel that the kernel (ipywidgets' buffer search)
    and the browser (plotly's copy of a figure's data after each redraw) walked one by one: a new scene in lab 14
    took 30 ms in the kernel for its two views (14–22 ms now) and ~16 ms a view in the page's copies, on 2 slow
    cores. A data URI is one string to them, and plotly draws a layout image with one at once (no loading to wait
    for)."""
    pixels = rgb_bytes(image)
    return _png_uri(pixels.tobytes(), pixels.shape, side)


@functools.lru_cache(maxsize=16)
def _png_uri(pixels: bytes, shape: tuple[int, ...], side: int) -> str:
    """Encoded once per picture, for the views that show one scene side by side (~5 ms a scene on 2 slow cores;
    the second view 0.2 ms). Fast compression: 16 kB instead of 13 kB for a scene, in 2/3 of the time."""
    array = np.frombuffer(pixels, dtype=np.uint8).reshape(shape)
    k = max(1, side // max(shape[:2]))
    buffer = io.BytesIO()
    Image.fromarray(array).resize((shape[1] * k, shape[0] * k), Image.NEAREST).save(buffer, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def photo_pixels(figure, image_size: int) -> np.ndarray:
    """The photo a BoxesView figure shows, (H, W, 3) bytes at its own size (for tests)."""
    data = base64.b64decode(figure.layout.images[0].source.split(",", 1)[1])
    enlarged = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    k = enlarged.shape[1] // image_size
    return enlarged[::k, ::k]


class BoxesView:
    """A photo of `image_size` × `image_size` pixels with named layers of boxes and lines over it."""

    def __init__(self, title: str, image_size: int, *, width: int = 430, height: int = 470, empty_text: str = ""):
        self.image_size = image_size
        self.figure = make_figure(title, height=height, width=width)
        self.figure.update_layout(margin={"l": 10, "r": 10, "t": 60, "b": 10}, showlegend=True,
                                  legend={"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0, "xanchor": "left"})
        self.figure.update_xaxes(visible=False, showgrid=False, range=[0, image_size], constrain="domain")
        self.figure.update_yaxes(visible=False, showgrid=False, range=[image_size, 0], scaleanchor="x")
        self.layers: dict[str, tuple[int, int | None]] = {}  # name → (outline trace, label trace)
        self.figure.layout.annotations = [self._note(empty_text)] if empty_text else []

    def _note(self, text: str) -> dict:
        return dict(text=text, showarrow=False, x=self.image_size / 2, y=self.image_size / 2, xref="x", yref="y",
                    font={"size": 14, "color": "#1f1f1f"}, bgcolor="rgba(255,255,255,0.85)")

    def add_layer(self, name: str, colour: str, *, dash: str = "solid", width: float = 2.5, fill: str | None = None,
                  labels: bool = False, legend: bool = True) -> None:
        """A layer of boxes drawn in `colour` (optionally filled with `fill`); `labels` adds text at each box."""
        self.figure.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, meta=name, showlegend=legend,
                                         line={"color": colour, "dash": dash, "width": width},
                                         fill="toself" if fill else None, fillcolor=fill, hoverinfo="skip"))
        outline_index = len(self.figure.data) - 1
        label_index = None
        if labels:
            self.figure.add_trace(go.Scatter(x=[], y=[], mode="text", text=[], textposition="top right",
                                             textfont={"color": colour, "size": 11}, showlegend=False,
                                             meta=f"{name} labels", hoverinfo="text"))
            label_index = len(self.figure.data) - 1
        self.layers[name] = (outline_index, label_index)

    def show_image(self, image: np.ndarray) -> None:
        """The background photo, (H, W, 3) in [0, 1]: pixel (i, j) covers [j, j + 1] × [i, i + 1]."""
        height, width = np.shape(image)[:2]
        self.figure.layout.images = [dict(source=photo_source(image), xref="x", yref="y", x=0, y=0, sizex=width,
                                          sizey=height, sizing="stretch", xanchor="left", yanchor="top",
                                          layer="below")]

    def set_boxes(self, name: str, boxes: Sequence[Box], labels: Sequence[str] = ()) -> None:
        """Replace layer `name`'s boxes; labels (one per box) sit at the boxes' top-left corners."""
        outline_index, label_index = self.layers[name]
        xs, ys = outline(boxes)
        self.figure.data[outline_index].x, self.figure.data[outline_index].y = xs, ys
        if label_index is not None:
            trace = self.figure.data[label_index]
            trace.x = [round(b[0], 2) for b in boxes]
            trace.y = [round(b[1], 2) for b in boxes]
            trace.text = list(labels) if labels else [""] * len(boxes)

    def set_lines(self, name: str, segments: Sequence[tuple[float, float, float, float]]) -> None:
        """Replace layer `name` by straight segments (x1, y1, x2, y2), e.g. grid lines."""
        outline_index, _ = self.layers[name]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for x1, y1, x2, y2 in segments:
            xs += [x1, x2, None]
            ys += [y1, y2, None]
        self.figure.data[outline_index].x, self.figure.data[outline_index].y = xs, ys

    def set_visible(self, name: str, visible: bool) -> None:
        for index in self.layers[name]:
            if index is not None:
                self.figure.data[index].visible = visible

    def count(self, name: str) -> int:
        """How many boxes layer `name` shows now (for tests and readouts)."""
        return sum(1 for v in self.figure.data[self.layers[name][0]].x or () if v is None)

    def note(self, text: str) -> None:
        """A message over the middle of the image ("" removes it)."""
        self.figure.layout.annotations = [self._note(text)] if text else []


def grid_segments(image_size: float, grid_size: int) -> list[tuple[float, float, float, float]]:
    """The inner lines that cut a square image into grid_size × grid_size cells."""
    step = image_size / grid_size
    lines = []
    for k in range(1, grid_size):
        lines.append((k * step, 0.0, k * step, float(image_size)))
        lines.append((0.0, k * step, float(image_size), k * step))
    return lines
