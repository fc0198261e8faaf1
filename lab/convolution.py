"""Convolution, padding, stride and pooling, written out and vectorized.

A filter (kernel) of f × f numbers slides over the image; at every position the output is the sum of the
window's pixels, each multiplied by the filter number over it. Like the course and PyTorch we do not flip
the filter (strictly this is cross-correlation; deep learning calls it convolution).

Shapes follow PyTorch: an image is (H, W) with a kernel (f, f), or a batch (N, C, H, W) with kernels
(C_out, C, f, f); (C, H, W) works too. Each output side is ⌊(n + 2p − f)/s⌋ + 1 (see `output_size`).
`conv2d_loops` is the sliding window as the course draws it, one output number at a time; `conv2d` and
`conv2d_unfold` compute all outputs at once (see their docstrings), and tests check all three against
`torch.nn.functional.conv2d`.
"""

from __future__ import annotations

import math

import torch

from lab.params import Param, register, validate

register(
    Param("stride", "Stride s", "How many pixels the filter moves between two outputs.",
          1, low=1, high=64, step=1, integer=True, ui_high=8),
    Param("padding", "Padding p", "Rows and columns of zeros added around the input.",
          0, low=0, high=64, step=1, integer=True, ui_high=8),
    Param("pool_size", "Pooling window f", "Side of the square window that pooling summarises.",
          2, low=1, high=16, step=1, integer=True, ui_high=8),
    Param("pool_mode", "Pooling", "Max keeps the largest value in each window; average keeps their mean.",
          "max", options=("max", "average")),
    Param("conv_filter", "Filter preset", "A classic 3×3 filter to load into the editable grid.",
          "vertical_edge", options=("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x",
                                    "scharr_y", "box_blur", "gaussian_blur", "sharpen", "identity")),
    Param("kernel_weight", "Filter weight", "One number of the filter; it multiplies the pixel under it.",
          0.0, low=-1000.0, high=1000.0, step=0.1),
)

# Classic 3×3 filters. Edge filters give a positive response where the image is brighter on the left
# (vertical) or on top (horizontal), as in the course's example.
FILTERS: dict[str, tuple[tuple[float, ...], ...]] = {
    "vertical_edge": ((1, 0, -1), (1, 0, -1), (1, 0, -1)),
    "horizontal_edge": ((1, 1, 1), (0, 0, 0), (-1, -1, -1)),
    "sobel_x": ((1, 0, -1), (2, 0, -2), (1, 0, -1)),
    "sobel_y": ((1, 2, 1), (0, 0, 0), (-1, -2, -1)),
    "scharr_x": ((3, 0, -3), (10, 0, -10), (3, 0, -3)),
    "scharr_y": ((3, 10, 3), (0, 0, 0), (-3, -10, -3)),
    "box_blur": ((1 / 9,) * 3,) * 3,
    "gaussian_blur": ((1 / 16, 2 / 16, 1 / 16), (2 / 16, 4 / 16, 2 / 16), (1 / 16, 2 / 16, 1 / 16)),
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
}


def make_filter(name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The preset filter `name` (one of `FILTERS`) as a (3, 3) tensor."""
    return torch.tensor(FILTERS[validate("conv_filter", name)], dtype=dtype)


def output_size(n: int, f: int, padding: int = 0, stride: int = 1) -> int:
    """Side of the output when an f × f window slides over a side of n pixels: ⌊(n + 2p − f)/s⌋ + 1.

    With no padding and stride 1 this is n − f + 1 ("valid" convolution); p = (f − 1)/2 keeps n ("same").
    """
    padding, stride = validate("padding", padding), validate("stride", stride)
    _check_size("n", n)
    _check_size("f", f)
    if f > n + 2 * padding:
        raise ValueError(f"The 'f' parameter must be at most the padded side n + 2p = {n + 2 * padding}. "
                         f"Got {f} instead.")
    return (n + 2 * padding - f) // stride + 1


def notes_output_size(n: int, f: int) -> int:
    """The notes' formula n − 2f + 1 (ERRATA 12), kept to show how far off it is; the correct one is n − f + 1."""
    return n - 2 * f + 1


def _check_size(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"The '{name}' parameter must be a whole number ≥ 1. Got {value!r} instead.")


def _as_batch(x: torch.Tensor, kernel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """x as (N, C, H, W) and kernel as (C_out, C, f, f), in one floating dtype; returns the input's ndim."""
    if not isinstance(x, torch.Tensor) or not isinstance(kernel, torch.Tensor):
        raise ValueError(f"The 'x' and 'kernel' parameters must be torch tensors. Got {type(x).__name__} and "
                         f"{type(kernel).__name__} instead.")
    ndim = x.dim()
    if ndim == 2:
        if kernel.dim() != 2:
            raise ValueError(f"The 'kernel' parameter must be (f, f) for a 2-D image. Got shape "
                             f"{tuple(kernel.shape)} instead.")
        x, kernel = x[None, None], kernel[None, None]
    elif ndim in (3, 4):
        if kernel.dim() != 4:
            raise ValueError(f"The 'kernel' parameter must be (C_out, C, f, f) for a {ndim}-D input. Got shape "
                             f"{tuple(kernel.shape)} instead.")
        x = x[None] if ndim == 3 else x
    else:
        raise ValueError(f"The 'x' parameter must be (H, W), (C, H, W) or (N, C, H, W). Got shape "
                         f"{tuple(x.shape)} instead.")
    if kernel.shape[-1] != kernel.shape[-2]:
        raise ValueError(f"The 'kernel' parameter must be square (f × f). Got {kernel.shape[-2]} × "
                         f"{kernel.shape[-1]} instead.")
    if kernel.shape[1] != x.shape[1]:
        raise ValueError(f"The 'kernel' parameter must have as many channels as x ({x.shape[1]}). Got "
                         f"{kernel.shape[1]} instead.")
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    return x.to(dtype), kernel.to(dtype=dtype, device=x.device), ndim


def _check_window(x: torch.Tensor, f: int, padding: int, name: str) -> None:
    h, w = x.shape[-2:]
    if f > min(h, w) + 2 * padding:
        raise ValueError(f"The '{name}' parameter must fit in the padded image ({h + 2 * padding} × "
                         f"{w + 2 * padding} with padding {padding}). Got a {f} × {f} window instead.")


def _restore(out: torch.Tensor, ndim: int) -> torch.Tensor:
    return out[0, 0] if ndim == 2 else out[0] if ndim == 3 else out


def conv2d_loops(x: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """The sliding window as the course draws it: for every output cell, multiply and sum one window.

    x (H, W) with kernel (f, f) → (H_out, W_out); x (N, C, H, W) with kernel (C_out, C, f, f) →
    (N, C_out, H_out, W_out). Slow (a Python loop per output number): for reading and for tests.
    """
    stride, padding = validate("stride", stride), validate("padding", padding)
    x, kernel, ndim = _as_batch(x, kernel)
    f = kernel.shape[-1]
    _check_window(x, f, padding, "kernel")
    x = pad_image(x, padding)  # a frame of zeros, p pixels wide
    n, _, h, w = x.shape
    h_out, w_out = (h - f) // stride + 1, (w - f) // stride + 1
    out = torch.zeros(n, kernel.shape[0], h_out, w_out, dtype=x.dtype, device=x.device)
    for example in range(n):
        for k in range(kernel.shape[0]):  # one output channel per filter
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * stride, j * stride
                    window = x[example, :, top:top + f, left:left + f]  # (C, f, f)
                    out[example, k, i, j] = (window * kernel[k]).sum()
    return _restore(out, ndim)


def pad_image(x: torch.Tensor, padding: int) -> torch.Tensor:
    """x (…, H, W) inside a frame of zeros `padding` pixels wide: (…, H + 2p, W + 2p)."""
    return torch.nn.functional.pad(x, (validate("padding", padding),) * 4)


def windows(x: torch.Tensor, f: int, stride: int) -> torch.Tensor:
    """Every f × f window of x (N, C, H, W) at once, as a view: (N, C, H_out, W_out, f, f). No copy."""
    stride = validate("stride", stride)
    return x.unfold(2, f, stride).unfold(3, f, stride)


def conv2d_unfold(x: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Vectorized as libraries do it ("im2col"): gather every window as a row, then one matrix product.

    Same shapes as `conv2d`. The rows hold f·f·C numbers per output pixel, so this copies the image
    about f² times before multiplying.
    """
    stride, padding = validate("stride", stride), validate("padding", padding)
    x, kernel, ndim = _as_batch(x, kernel)
    c_out, c, f, _ = kernel.shape
    _check_window(x, f, padding, "kernel")
    patches = windows(pad_image(x, padding), f, stride)  # (N, C, H_out, W_out, f, f)
    n, _, h_out, w_out = patches.shape[:4]
    rows = patches.permute(0, 2, 3, 1, 4, 5).reshape(n, h_out * w_out, c * f * f)  # one window per row
    out = rows @ kernel.reshape(c_out, c * f * f).T  # (N, H_out·W_out, C_out)
    return _restore(out.permute(0, 2, 1).reshape(n, c_out, h_out, w_out), ndim)


def conv2d(x: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """The same sum as `conv2d_loops`, vectorized over all output pixels at once.

    The loop runs over the f·f positions inside the filter instead of over the output pixels: for the
    filter cell (i, j), every window's pixel (i, j) forms a strided slice of the padded image, (N, C,
    H_out, W_out), and one matrix product over the channels with kernel[:, :, i, j] adds its share to all
    outputs. That is f² vectorized steps (9 for a 3×3 filter) and no f²-fold copy as in `conv2d_unfold`.

    x (H, W) with kernel (f, f) → (H_out, W_out); x (C, H, W) or (N, C, H, W) with kernel
    (C_out, C, f, f) → (C_out, H_out, W_out) or (N, C_out, H_out, W_out); H_out = ⌊(H + 2p − f)/s⌋ + 1.
    """
    stride, padding = validate("stride", stride), validate("padding", padding)
    x, kernel, ndim = _as_batch(x, kernel)
    f = kernel.shape[-1]
    _check_window(x, f, padding, "kernel")
    x = pad_image(x, padding)
    h_out, w_out = (x.shape[-2] - f) // stride + 1, (x.shape[-1] - f) // stride + 1
    out = x.new_zeros(x.shape[0], kernel.shape[0], h_out, w_out)  # (N, C_out, H_out, W_out)
    for i in range(f):
        for j in range(f):
            # pixel (i, j) of every window: rows i, i + s, …, columns j, j + s, …
            piece = x[:, :, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]
            out += torch.einsum("nchw,kc->nkhw", piece, kernel[:, :, i, j])
    return _restore(out, ndim)


def _pool(x: torch.Tensor, pool_size: int, stride: int | None, padding: int, mode: str) -> torch.Tensor:
    pool_size = validate("pool_size", pool_size)
    stride = pool_size if stride is None else validate("stride", stride)
    padding = validate("padding", padding)
    if 2 * padding > pool_size:  # PyTorch's rule: otherwise a window could hold nothing but padding
        raise ValueError(f"The 'padding' parameter must be at most half the pooling window ({pool_size // 2}). "
                         f"Got {padding} instead.")
    ndim = x.dim()
    if ndim not in (2, 3, 4):
        raise ValueError(f"The 'x' parameter must be (H, W), (C, H, W) or (N, C, H, W). Got shape "
                         f"{tuple(x.shape)} instead.")
    x = x[(None,) * (4 - ndim)]  # (N, C, H, W)
    _check_window(x, pool_size, padding, "pool_size")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    # max pooling pads with −∞ so the frame never wins; average pooling pads with zeros and counts them
    x = torch.nn.functional.pad(x, (padding,) * 4, value=-math.inf if mode == "max" else 0.0)
    f, (h, w) = pool_size, x.shape[-2:]
    h_out, w_out = (h - f) // stride + 1, (w - f) // stride + 1
    out = None
    for i in range(f):  # as in `conv2d`: one whole-image step per position inside the window
        for j in range(f):
            piece = x[:, :, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]
            out = piece.clone() if out is None else torch.maximum(out, piece) if mode == "max" else out + piece
    out = out if mode == "max" else out / (f * f)  # (N, C, H_out, W_out)
    return out[(0,) * (4 - ndim)]


def max_pool2d(x: torch.Tensor, pool_size: int, stride: int | None = None, padding: int = 0) -> torch.Tensor:
    """The largest value of each pool_size × pool_size window, per channel; stride defaults to the window.

    x (H, W), (C, H, W) or (N, C, H, W) → the same layout with sides ⌊(n + 2p − f)/s⌋ + 1.
    """
    return _pool(x, pool_size, stride, padding, "max")


def avg_pool2d(x: torch.Tensor, pool_size: int, stride: int | None = None, padding: int = 0) -> torch.Tensor:
    """The mean of each pool_size × pool_size window, per channel (padding zeros count, as in PyTorch)."""
    return _pool(x, pool_size, stride, padding, "average")


def pool2d(x: torch.Tensor, pool_size: int, stride: int | None = None, padding: int = 0,
           mode: str = "max") -> torch.Tensor:
    """`max_pool2d` or `avg_pool2d`, chosen by `mode` ("max" or "average")."""
    return _pool(x, pool_size, stride, padding, validate("pool_mode", mode))
