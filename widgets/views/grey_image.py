"""One grey image as a heatmap: pixel (0, 0) top left, square pixels, so a photo keeps its aspect ratio."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from widgets.views.figure import make_figure


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
        """Show `image` (H, W), a tensor or array, in one update message.

        The pixels travel as one 1-D float64 array per row, rounded to 3 decimals: plotly's widget serializer
        sends each as a binary buffer that the browser reads as a typed array, where nested lists of numbers are
        walked one number at a time by plotly's serializer and ipywidgets' buffer search (lab 12's padding
        slider: 40 → 6 ms in the kernel for its two images) and parsed from JSON in the browser. Checked in
        Voilà: a 2-D numpy array does not reach the browser, and plotly's base64 typed-array form stops
        updating after the window is resized; these rows keep updating after a resize. `plotly_update` sends
        them as given, without plotly's validation. `value_range=(black, white)` pins the grey scale for this image.
        """
        z = list(np.asarray(image, dtype=np.float64).round(3))  # (H, W) as H rows
        restyle = {"z": [z]}
        if value_range is not None:
            restyle.update(zauto=[False], zmin=[float(value_range[0])], zmax=[float(value_range[1])])
        layout = {} if title is None else {"title.text": title}
        self.figure.plotly_update(restyle_data=restyle, relayout_data=layout, trace_indexes=[0])


def pixels(figure) -> np.ndarray:
    """The image a GreyImage figure holds, as an (H, W) array (for tests and exports)."""
    return np.asarray(figure.data[0].z, dtype=np.float64)
