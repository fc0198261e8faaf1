"""Lab 12, convolutions: edit a 3×3 filter, choose padding and stride, and watch a real photo's output and its
shape; and max or average pooling of the same photos, with the window and stride as controls."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W
import torch

from lab.convolution import FILTERS, conv2d, make_filter, notes_output_size, output_size, pad_image, pool2d
from lab.data.photos import load_photo
from lab.params import PARAMS
from widgets.controls import control
from widgets.dashboard import Dashboard, readout, redraw_on
from widgets.guard import guarded, show_error_in
from widgets.views.grey_image import GreyImage

PHOTO_SIDE = 160  # long side in pixels: whiskers still visible; updates reach the browser in < 100 ms


def _name(option: str) -> str:
    return option.replace("_", " ")


def kernel_cells(kernel: torch.Tensor) -> list[W.BoundedFloatText]:
    """Nine number boxes holding a 3×3 filter, row by row."""
    p = PARAMS["kernel_weight"]
    return [W.BoundedFloatText(value=round(float(kernel[i, j]), 4), min=p.low, max=p.high, step=p.step,
                               continuous_update=True, tooltip=f"{p.label}, row {i + 1}, column {j + 1}: {p.help}",
                               layout={"width": "78px"})
            for i in range(3) for j in range(3)]


class FilterGrid:
    """The editable 3×3 filter: nine number boxes, and a `fill` that loads a preset as one change, not nine."""

    def __init__(self, kernel: torch.Tensor):
        self.cells = kernel_cells(kernel)
        self._filling = False  # True while `fill` writes the cells: their observers wait for the last one
        grid = W.GridBox(self.cells, layout={"grid_template_columns": "repeat(3, 82px)", "grid_gap": "4px"})
        self.widget = W.VBox([W.HTML("<b>Filter weights</b> (3 × 3, edit any cell)"), grid])

    @property
    def controls(self) -> dict[str, W.BoundedFloatText]:
        """The cells by name: kernel_ij is row i, column j."""
        return {f"kernel_{i}{j}": self.cells[3 * i + j] for i in range(3) for j in range(3)}

    def kernel(self) -> torch.Tensor:
        return torch.tensor([cell.value for cell in self.cells], dtype=torch.float32).reshape(3, 3)  # (3, 3)

    def fill(self, kernel: torch.Tensor) -> None:
        self._filling = True
        try:
            for cell, value in zip(self.cells, kernel.flatten().tolist(), strict=True):
                cell.value = round(value, 4)
        finally:
            self._filling = False

    def observe(self, callback: Callable) -> None:
        """Call `callback` when a learner edits a cell (not for each cell `fill` writes)."""
        for cell in self.cells:
            cell.observe(lambda change: None if self._filling else callback(change), names="value")


def filter_name(kernel: torch.Tensor) -> str:
    """The filter's name in words ('the sobel x filter') when the weights are a preset's, else 'your own filter'."""
    for name in FILTERS:
        if torch.allclose(kernel, make_filter(name), atol=5e-5):
            return f"the {_name(name)} filter"
    return "your own filter"


def output_scale(out: torch.Tensor, total: float) -> tuple[tuple[float, float], str]:
    """The grey scale (black, white) that suits a filter whose weights add up to `total`, and its description."""
    low, high = out.min().item(), out.max().item()
    if abs(total - 1.0) < 1e-3:  # keeps flat areas as they are (blur, sharpen, identity): the photo's scale
        return (0.0, 1.0), "shown like the photo, 0 black to 1 white"
    if abs(total) < 1e-3:  # an edge detector: flat areas give 0, drawn mid-grey
        top = max(abs(low), abs(high), 1e-6)
        return (-top, top), f"shown with 0 mid-grey, −{top:.2f} black, +{top:.2f} white"
    return (low, high), "shown from black (smallest) to white (largest)"


def shape_text(h: int, w: int, f: int, padding: int, stride: int) -> str:
    """The output-size readout: ⌊(n + 2p − f)/s⌋ + 1 worked out for rows and columns, and the notes' value."""
    rows, cols = output_size(h, f, padding, stride), output_size(w, f, padding, stride)
    return (f"<b>Output size</b> ⌊(n + 2p − f)/s⌋ + 1:<br>"
            f"rows ⌊({h} + 2·{padding} − {f})/{stride}⌋ + 1 = <b>{rows}</b><br>"
            f"columns ⌊({w} + 2·{padding} − {f})/{stride}⌋ + 1 = <b>{cols}</b><br>"
            f'<span style="color:#6b0000">The notes\' m − 2f + 1 would say {notes_output_size(h, f)} × '
            f"{notes_output_size(w, f)}: wrong, and blind to padding and stride.</span>")


def convolution_dashboard(photo: str = "chelsea", max_side: int = PHOTO_SIDE) -> Dashboard:
    """A photo chooser, a filter preset menu, an editable 3×3 filter, padding and stride → input and output."""
    photo_menu = control("photo", value=photo)
    preset = control("conv_filter")
    grid = FilterGrid(make_filter(preset.value))
    padding = control("padding", continuous_update=True, width="300px")
    stride = control("stride", continuous_update=True, width="300px")
    shape = W.HTML(layout={"margin": "0 0 0 16px"})
    before = GreyImage("Input", fixed_range=(0.0, 1.0))
    after = GreyImage("Output")  # its grey scale is set for each filter, see output_scale
    text = readout()

    def show_input(*_) -> None:
        image, p = load_photo(photo_menu.value, max_side), padding.value
        h, w = image.shape
        title = f"Input: {photo_menu.value}, {h} × {w}" + (f", padded to {h + 2 * p} × {w + 2 * p}" if p else "")
        before.show(pad_image(image, p), title)

    def show_output(*_) -> None:
        image, k = load_photo(photo_menu.value, max_side), grid.kernel()
        h, w = image.shape
        out = conv2d(image, k, stride=stride.value, padding=padding.value)
        rows, cols = out.shape
        total = k.sum().item()
        value_range, scale = output_scale(out, total)
        after.show(out, f"Output: {rows} × {cols}", value_range=value_range)
        shape.value = shape_text(h, w, 3, padding.value, stride.value)
        text.value = (f"{html.escape(filter_name(k)).capitalize()} (weights add up to {total:.3g}) turns the "
                      f"{h} × {w} photo into a <b>{rows} × {cols}</b> output (padding {padding.value}, stride "
                      f"{stride.value}); its values run from {out.min().item():.2f} to {out.max().item():.2f}, "
                      f"{scale}; mean size |value| = <b>{out.abs().mean().item():.3f}</b>.")

    # the preset fills the grid before the output is redrawn, once
    preset.observe(guarded(lambda _: grid.fill(make_filter(preset.value)), show_error_in(text)), names="value")
    redraw_on([photo_menu, padding], show_input, text)
    redraw_on([photo_menu, preset, padding, stride], show_output, text)
    grid.observe(guarded(show_output, show_error_in(text)))

    sliders = W.VBox([padding, stride, shape], layout={"margin": "0 0 0 24px"})
    controls = {"photo": photo_menu, "conv_filter": preset, "padding": padding, "stride": stride, **grid.controls}
    return Dashboard([W.HBox([photo_menu, preset]), W.HBox([grid.widget, sliders]), text,
                      W.HBox([before.figure, after.figure])],
                     controls=controls, figures={"input": before.figure, "output": after.figure}, readout=text)


def pooling_dashboard(photo: str = "chelsea", max_side: int = PHOTO_SIDE) -> Dashboard:
    """Max or average pooling of a photo: window size and stride → the pooled image and its shape."""
    photo_menu = control("photo", value=photo)
    mode = control("pool_mode")
    size = control("pool_size", continuous_update=True)
    stride = control("stride", value=2, continuous_update=True)
    before = GreyImage("Input", fixed_range=(0.0, 1.0))
    after = GreyImage("Pooled", fixed_range=(0.0, 1.0))
    text = readout()

    def show_input(*_) -> None:
        image = load_photo(photo_menu.value, max_side)
        h, w = image.shape
        before.show(image, f"Input: {photo_menu.value}, {h} × {w}")

    def show(*_) -> None:
        image = load_photo(photo_menu.value, max_side)
        h, w = image.shape
        f, s = size.value, stride.value
        out = pool2d(image, f, stride=s, mode=mode.value)
        rows, cols = out.shape
        after.show(out, f"{mode.value.capitalize()} pooling: {rows} × {cols}")
        kept = "the largest value" if mode.value == "max" else "the mean"
        text.value = (f"{mode.value.capitalize()} pooling keeps {kept} of each {f} × {f} window, moving {s} "
                      f"pixel{'s' if s > 1 else ''} at a time: ⌊({h} − {f})/{s}⌋ + 1 = <b>{rows}</b> rows and "
                      f"⌊({w} − {f})/{s}⌋ + 1 = <b>{cols}</b> columns. Mean brightness {out.mean().item():.3f} "
                      f"(the photo's: {image.mean().item():.3f}). Pooling has no weights to learn.")

    redraw_on([photo_menu], show_input, text)
    redraw_on([photo_menu, mode, size, stride], show, text)
    controls = {"photo": photo_menu, "pool_mode": mode, "pool_size": size, "stride": stride}
    return Dashboard([W.HBox([photo_menu, mode]), W.HBox([size, stride]), text,
                      W.HBox([before.figure, after.figure])],
                     controls=controls, figures={"input": before.figure, "pooled": after.figure}, readout=text)
