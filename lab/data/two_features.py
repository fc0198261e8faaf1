"""A generated two-feature set for the input-normalization lab: one feature `scale` times larger than the other,
and, for a dev set, inputs that have moved while the labelling rule stays put (covariate shift).

X has shape (2, m), one column per example; Y has shape (1, m) with values 0. or 1.
"""

from __future__ import annotations

import math

import torch

from lab.seeding import make_generator


def make_two_features(m: int = 300, scale: float = 1.0, shift: float = 0.0, seed: int = 0, noise: float = 1.0,
                      dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Two equally informative features, the second `scale` times larger: X (2, m), Y (1, m).

    z = (z₁, z₂) is drawn from a standard normal whose second coordinate is moved by `shift`; the label is
    y = 1 when z₁ + z₂ + noise·ε > 0 (ε standard normal), and x = (z₁, scale·z₂). The rule that turns z into y
    does not depend on `shift`: a shifted set has the same p(y | x) and other inputs. The same `seed` draws
    the same z and ε for every shift, so moving `shift` slides the very same examples.
    """
    if isinstance(m, bool) or not isinstance(m, int) or m < 2:
        raise ValueError(f"The 'm' parameter must be a whole number ≥ 2. Got {m!r} instead.")
    for name, value, low in (("scale", scale, 1e-12), ("shift", shift, -math.inf), ("noise", noise, 0.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
            rule = {"scale": "> 0", "shift": "a finite number", "noise": "≥ 0"}[name]
            raise ValueError(f"The '{name}' parameter must be {rule}. Got {value!r} instead.")
    gen = make_generator(seed)
    Z = torch.randn(2, m, generator=gen, dtype=torch.float64)  # (2, m)
    eps = torch.randn(m, generator=gen, dtype=torch.float64)  # (m,)
    Z[1] += shift
    Y = ((Z[0] + Z[1] + noise * eps) > 0).to(torch.float64).reshape(1, m)
    X = Z * torch.tensor([[1.0], [float(scale)]], dtype=torch.float64)
    return X.to(dtype), Y.to(dtype)
