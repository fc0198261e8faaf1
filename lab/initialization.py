"""How the weights of an L-layer network start: zeros, random × factor, He, Xavier, Glorot.

Layer l has n^[l] units, and each unit sums n^[l−1] inputs — its *fan-in*. The variance of a sum grows
with the number of terms, so keeping z^[l] at the scale of its inputs needs Var(W) ∝ 1/n^[l−1]. (The
notes call n "the number of nodes on a layer"; it is the number of inputs feeding each unit, n^[l−1].)
"""

from __future__ import annotations

import math

import torch

from lab.params import validate
from lab.seeding import make_generator

SCHEMES = ("zeros", "random", "he", "xavier", "glorot")


def init_std(scheme: str, fan_in: int, fan_out: int, init_factor: float = 0.01) -> float:
    """Standard deviation of the weights of one layer with `fan_in` = n^[l−1] inputs and `fan_out` = n^[l] units.

    zeros: 0 · random: init_factor · he: √(2/n^[l−1]) (for ReLU) · xavier: √(1/n^[l−1]) (for tanh) ·
    glorot: √(2/(n^[l−1] + n^[l])) (the average of fan-in and fan-out).
    """
    scheme = validate("init_scheme", scheme)
    init_factor = validate("init_factor", init_factor)
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"A layer needs ≥ 1 input and ≥ 1 unit. Got fan_in={fan_in}, fan_out={fan_out} instead.")
    if scheme == "zeros":
        return 0.0
    if scheme == "random":
        return float(init_factor)
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    if scheme == "xavier":
        return math.sqrt(1.0 / fan_in)
    return math.sqrt(2.0 / (fan_in + fan_out))


def initialize_parameters(layer_dims: list[int] | tuple[int, ...], scheme: str = "he", init_factor: float = 0.01,
                          generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                          device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Parameters {"W1": (n^[1], n^[0]), "b1": (n^[1], 1), …, "WL", "bL"} for layer_dims = [n^[0], …, n^[L]].

    W^[l] = randn(n^[l], n^[l−1]) · init_std(...), drawn from `generator`; every b^[l] starts at 0
    (the random W already breaks the symmetry between units).
    """
    if len(layer_dims) < 2:
        raise ValueError(f"The 'layer_dims' parameter needs the input size and ≥ 1 layer. Got {list(layer_dims)}.")
    if any(int(n) != n or n < 1 for n in layer_dims):
        raise ValueError(f"The 'layer_dims' parameter must hold whole numbers ≥ 1. Got {list(layer_dims)} instead.")
    if generator is None:
        raise ValueError("The 'generator' parameter is required: pass lab.seeding.make_generator(seed).")
    params: dict[str, torch.Tensor] = {}
    for k in range(1, len(layer_dims)):
        n_out, n_in = int(layer_dims[k]), int(layer_dims[k - 1])
        std = init_std(scheme, n_in, n_out, init_factor)
        W = torch.randn(n_out, n_in, generator=generator, dtype=torch.float64, device=generator.device) * std
        params[f"W{k}"] = W.to(dtype=dtype, device=device)  # (n^[l], n^[l−1])
        params[f"b{k}"] = torch.zeros(n_out, 1, dtype=dtype, device=device)  # (n^[l], 1)
    return params


def measured_z_std(fan_in: int, fan_out: int, weight_std: float, m: int = 2000, seed: int = 0) -> float:
    """Measured std of z = W x for W (fan_out, fan_in) with entries of std `weight_std` and m random inputs x
    whose entries have variance 1: about √(fan_in)·weight_std, since z sums fan_in products."""
    generator = make_generator(seed)
    W = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * weight_std  # (n^[l], n^[l−1])
    X = torch.randn(fan_in, m, generator=generator, dtype=torch.float64)  # (n^[l−1], m)
    return (W @ X).std().item()
