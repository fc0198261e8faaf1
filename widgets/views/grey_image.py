"""One grey image as a heatmap: pixel (0, 0) top left, square pixels, so a photo keeps its aspect ratio."""

from __future__ import annotations

import plotly.graph_objects as go

from widgets.views.figure import make_figure, set_heatmap_z


class GreyImage:
    """A FigureWidget showing a 2-D array in a grey scale; `show()` replaces the picture in one message.

    `fixed_range=(0, 1)` pins black and white (photos); without it the scale follows each image's own
    minimum and maximum (filter outputs, which can be negative), and a colour bar shows the values.
    """

    def __init__(self, title: str, *, height: int = 420, width: int = 540,
                 fixed_range: tuple[float, float] | None = None):
        self.figure = make_figure(title, height=height, width=width)
        self.figure.update_layout(margin={"l": 40, "r": 10, "t": 50, "b": 30})
        self.figure.update_xaxes(showgrid=False, constrain="domain", ticks="outside")
        # rows grow downwards, as in an image; scaleanchor makes every pixel square
        self.figure.update_yaxes(showgrid=False, autorange="reversed", scaleanchor="x", constrain="domain",
                                 ticks="outside")
        low, high = fixed_range or (None, None)
        self.figure.add_trace(go.Heatmap(
            z=[[0.0]], colorscale="gray", zmin=low, zmax=high, zauto=fixed_range is None,
            showscale=fixed_range is None, colorbar={"thickness": 12, "len": 0.8},
            hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>"))

    def show(self, image, title: str | None = None, value_range: tuple[float, float] | None = None) -> None:
        """Show `image` (H, W), a tensor or array, in one update message, rounded to 3 decimals (`set_heatmap_z`).
        `value_range=(black, white)` pins the grey scale for this image."""
        with self.figure.batch_update():
            set_heatmap_z(self.figure, image)
            if value_range is not None:
                self.figure.data[0].update(zauto=False, zmin=float(value_range[0]), zmax=float(value_range[1]))
            if title is not None:
                self.figure.layout.title.text = title
