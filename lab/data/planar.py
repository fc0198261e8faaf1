"""Generated 2-D data sets, seeded: the "flower" no straight line separates, and badly scaled features.

X has shape (2, m), one column per point; Y has shape (1, m) with values 0. or 1.
"""

from __future__ import annotations

import math

import torch

from lab.seeding import make_generator


def make_planar(m: int = 400, noise: float = 0.2, seed: int = 0, dtype: torch.dtype = torch.float32,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded 2-D "flower": petals alternate between the two classes, so no straight line separates them.

    Returns X (2, m) and Y (1, m).
    """
    if m < 2:
        raise ValueError(f"The 'm' parameter must be ≥ 2. Got {m!r} instead.")
    if noise < 0:
        raise ValueError(f"The 'noise' parameter must be ≥ 0. Got {noise!r} instead.")
    gen = make_generator(seed)
    half = m // 2
    X, Y = [], []
    for label, count in ((0, half), (1, m - half)):
        t = torch.linspace(label * math.pi, (label + 1) * math.pi, count, dtype=torch.float64)
        t = t + noise * torch.randn(count, generator=gen, dtype=torch.float64)
        r = 4 * torch.sin(4 * t) + noise * torch.randn(count, generator=gen, dtype=torch.float64)
        X.append(torch.stack([r * torch.sin(t), r * torch.cos(t)]))
        Y.append(torch.full((1, count), float(label), dtype=torch.float64))
    return torch.cat(X, dim=1).to(dtype), torch.cat(Y, dim=1).to(dtype)


def make_badly_scaled(m: int = 300, scale: float = 100.0, seed: int = 0, dtype: torch.dtype = torch.float32,
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Two informative features, the second `scale` times larger than the first: X (2, m), Y (1, m).

    The label depends on both features equally once each is divided by its scale, so a learner must
    fit both weights — which one learning rate shared by both cannot do quickly.
    """
    if scale < 1:
        raise ValueError(f"The 'scale' parameter must be ≥ 1. Got {scale!r} instead.")
    gen = make_generator(seed)
    Z = torch.randn(2, m, generator=gen, dtype=torch.float64)
    Y = ((Z[0] + Z[1] + 0.3 * torch.randn(m, generator=gen, dtype=torch.float64)) > 0).to(torch.float64)
    X = Z * torch.tensor([[1.0], [scale]], dtype=torch.float64)
    return X.to(dtype), Y.reshape(1, m).to(dtype)
