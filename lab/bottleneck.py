"""1 × 1 convolutions: a fully connected layer at every pixel, and as a "bottleneck" the cheap way to change the
number of channels before a large filter.

A 1 × 1 convolution with n_C_out filters on an n_H × n_W × n_C volume multiplies each pixel's n_C channels by one
n_C_out × n_C matrix. The course's example: 28 × 28 × 192 → 28 × 28 × 32 by a 5 × 5 'same' convolution costs
28·28·32 output numbers × 5·5·192 multiplications each = 120,422,400; a 1 × 1 convolution down to 16 channels
first costs 28·28·16 × 192 = 2,408,448, and the 5 × 5 convolution on the thin volume 28·28·32 × 5·5·16 =
10,035,200: 12,443,648 in all, about a tenth. (The layer specs these are built from are `lab.cnn_architectures`'.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.cnn_architectures import Architecture, Conv
from lab.params import Param, register, validate

register(
    Param("feature_map_size", "Height = width n_H = n_W", "Side of the square feature map the convolution runs on "
          "(with 'same' padding the output keeps it).", 28, low=1, high=512, step=1, integer=True, ui_high=224),
    Param("input_channels", "Input channels n_C", "Channels of the volume the convolution reads.", 192, low=1,
          high=4096, step=1, integer=True, ui_high=1024),
    Param("output_channels", "Output channels (filters)", "How many filters, hence channels of the output volume.",
          32, low=1, high=4096, step=1, integer=True, ui_high=512),
    Param("bottleneck_channels", "Bottleneck channels (1 × 1 filters)", "Channels the 1 × 1 convolution shrinks the "
          "volume to before the large filter.", 16, low=1, high=4096, step=1, integer=True, ui_high=192),
    Param("filter_size", "Filter size f", "Side of the large filter (odd, so that 'same' padding (f − 1)/2 keeps "
          "n_H × n_W).", 5, low=1, high=15, step=2, integer=True, ui_high=11),
)


@dataclass(frozen=True)
class BottleneckCost:
    """Multiplications and parameters of n_H × n_W × n_C → n_H × n_W × n_C_out by an f × f 'same' convolution,
    directly or through a 1 × 1 convolution down to `bottleneck` channels first."""

    size: int  # n_H = n_W
    in_channels: int
    out_channels: int
    bottleneck: int
    f: int
    direct: int  # n_H·n_W·n_C_out · f·f·n_C
    reduce: int  # the 1 × 1 step: n_H·n_W·bottleneck · n_C
    expand: int  # the f × f step on the thin volume: n_H·n_W·n_C_out · f·f·bottleneck
    direct_params: int  # f·f·n_C·n_C_out + n_C_out
    bottleneck_params: int  # (n_C + 1)·bottleneck + (f·f·bottleneck + 1)·n_C_out

    @property
    def with_bottleneck(self) -> int:
        return self.reduce + self.expand

    @property
    def saving(self) -> float:
        """direct / with_bottleneck: how many times fewer multiplications the bottleneck needs."""
        return self.direct / self.with_bottleneck


def bottleneck_cost(size: int = 28, in_channels: int = 192, out_channels: int = 32, bottleneck: int = 16,
                    filter_size: int = 5) -> BottleneckCost:
    """The course's example by default: 28×28×192 → 28×28×32 with 5×5 filters costs 120,422,400 multiplications;
    a 1 × 1 convolution to 16 channels first brings it to 2,408,448 + 10,035,200 = 12,443,648."""
    size = validate("feature_map_size", size)
    n_c, n_out = validate("input_channels", in_channels), validate("output_channels", out_channels)
    b, f = validate("bottleneck_channels", bottleneck), validate("filter_size", filter_size)
    if f % 2 == 0:
        raise ValueError(f"The 'filter_size' parameter must be odd, so that 'same' padding (f − 1)/2 keeps "
                         f"n_H × n_W. Got {f!r} instead.")
    pixels = size * size
    return BottleneckCost(size, n_c, n_out, b, f, direct=pixels * n_out * f * f * n_c, reduce=pixels * b * n_c,
                          expand=pixels * n_out * f * f * b, direct_params=f * f * n_c * n_out + n_out,
                          bottleneck_params=(n_c + 1) * b + (f * f * b + 1) * n_out)


def bottleneck_architectures(cost: BottleneckCost) -> dict[str, Architecture]:
    """Both ways as networks of layer specs, for building them with torch.nn (tests count their parameters and
    PyTorch's own FLOP counter counts their multiplications)."""
    shape, p = (cost.size, cost.size, cost.in_channels), (cost.f - 1) // 2
    return {"direct": Architecture("direct", shape, (Conv("conv", cost.out_channels, cost.f, padding=p),), 0, ""),
            "bottleneck": Architecture("bottleneck", shape, (Conv("reduce", cost.bottleneck, 1),
                                                             Conv("conv", cost.out_channels, cost.f, padding=p)),
                                       0, "")}


def bottleneck_text(size: int = 28, in_channels: int = 192, out_channels: int = 32, bottleneck: int = 16,
                    filter_size: int = 5) -> str:
    """The multiplications of both ways, worked out, as text."""
    c = bottleneck_cost(size, in_channels, out_channels, bottleneck, filter_size)
    n, f = c.size, c.f
    return "\n".join([
        f"{n}×{n}×{c.in_channels} → {n}×{n}×{c.out_channels}, CONV {f}×{f} 'same':",
        f"  directly:        {n}·{n}·{c.out_channels} outputs × {f}·{f}·{c.in_channels} = {c.direct:>13,} "
        f"multiplications, {c.direct_params:,} parameters",
        f"  1×1 to {c.bottleneck} first: {n}·{n}·{c.bottleneck} × {c.in_channels} = {c.reduce:,}",
        f"                 + {n}·{n}·{c.out_channels} × {f}·{f}·{c.bottleneck} = {c.expand:,}",
        f"                 = {c.with_bottleneck:>13,} multiplications, {c.bottleneck_params:,} parameters",
        f"  {c.saving:.1f}× fewer multiplications",
    ])


def pointwise_check(in_channels: int = 192, out_channels: int = 32, size: int = 6, seed: int = 0) -> str:
    """A 1 × 1 convolution is one fully connected layer applied to every pixel's n_C numbers: both computed on a
    random volume, as text with their largest difference."""
    generator = torch.Generator().manual_seed(validate("seed", seed))
    n_c, n_out = validate("input_channels", in_channels), validate("output_channels", out_channels)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 16:
        raise ValueError(f"The 'size' parameter must be a whole number from 1 to 16. Got {size!r} instead.")
    x = torch.randn(1, n_c, size, size, generator=generator, dtype=torch.float64)  # (1, n_C, H, W)
    weight = torch.randn(n_out, n_c, 1, 1, generator=generator, dtype=torch.float64)  # (n_C_out, n_C, 1, 1)
    conv = torch.nn.functional.conv2d(x, weight)  # (1, n_C_out, H, W)
    per_pixel = torch.einsum("kc,chw->khw", weight[:, :, 0, 0], x[0])  # W (n_C_out, n_C) times each pixel's column
    gap = (conv[0] - per_pixel).abs().max().item()
    return (f"1×1 CONV with {n_out} filters on {size}×{size}×{n_c}: output {size}×{size}×{n_out}.\n"
            f"At every pixel it equals W·x, W a {n_out}×{n_c} matrix and x the pixel's {n_c} channels: "
            f"{gap < 1e-12} (largest difference below 10⁻¹²)")
