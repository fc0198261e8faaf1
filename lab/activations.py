"""The four activation functions of the course and their derivatives g′(z), written out by hand.

Each g works elementwise on a tensor of any shape. The derivatives are what backpropagation multiplies
into dA to get dZ = dA * g′(Z); tests check every one against autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from lab.params import Param, register, validate

LEAKY_SLOPE = 0.01  # slope of Leaky ReLU for z < 0: g(z) = max(0.01·z, z)

register(
    Param("leaky_slope", "Leaky ReLU slope", "Slope of Leaky ReLU for z < 0: 0 is plain ReLU, 1 is no bend at all "
          "(a straight line).", LEAKY_SLOPE, low=0.0, high=1.0, step=0.01),
    Param("pre_activation", "z", "A unit's pre-activation z = w·a + b, the number its activation g is applied to.",
          -2.0, low=-50.0, high=50.0, step=0.05, ui_low=-5.0, ui_high=5.0),
)


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """σ(z) = 1 / (1 + e^(−z)), values in (0, 1)."""
    return torch.sigmoid(z)


def sigmoid_derivative(z: torch.Tensor) -> torch.Tensor:
    """σ′(z) = σ(z)(1 − σ(z)); at most ¼ (at z = 0), so stacked sigmoids shrink gradients."""
    s = torch.sigmoid(z)
    return s * (1 - s)


def tanh(z: torch.Tensor) -> torch.Tensor:
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), values in (−1, 1), centred on 0."""
    return torch.tanh(z)


def tanh_derivative(z: torch.Tensor) -> torch.Tensor:
    """tanh′(z) = 1 − tanh²(z); 1 at z = 0, near 0 once |z| is large (saturation)."""
    return 1 - torch.tanh(z) ** 2


def relu(z: torch.Tensor) -> torch.Tensor:
    """ReLU(z) = max(0, z)."""
    return torch.clamp(z, min=0)


def relu_derivative(z: torch.Tensor) -> torch.Tensor:
    """1 for z > 0 and 0 for z < 0. At z = 0 ReLU has no derivative; we use 0, as PyTorch does.

    The gradient for z < 0 is not undefined — it is exactly 0, which is why a unit whose z is negative
    for every example stops learning (a "dead" unit).
    """
    return (z > 0).to(z.dtype)


def leaky_relu(z: torch.Tensor, slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """Leaky ReLU(z) = max(slope·z, z) for 0 < slope < 1."""
    return torch.where(z > 0, z, slope * z)


def leaky_relu_derivative(z: torch.Tensor, slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """1 for z > 0, `slope` for z ≤ 0 (PyTorch's choice at 0): never exactly 0, so no unit dies."""
    return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, slope))


ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
}


def activation(activation: str, slope: float = LEAKY_SLOPE,
               ) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """(g, g′) for "sigmoid", "tanh", "relu" or "leaky_relu"; any other name is a ValueError.

    `slope` (in [0, 1]) is Leaky ReLU's slope for z < 0; the other activations ignore it.
    """
    name, slope = validate("activation", activation), validate("leaky_slope", slope)
    if name == "leaky_relu" and slope != LEAKY_SLOPE:
        return partial(leaky_relu, slope=slope), partial(leaky_relu_derivative, slope=slope)
    return ACTIVATIONS[name]


def dead_fraction(Z: torch.Tensor) -> float:
    """Share of the units (rows of Z, shape (n, m)) whose pre-activation is ≤ 0 for all m examples.

    With ReLU such a unit outputs 0 and gets gradient 0 everywhere: it is dead and will stay dead.
    """
    return (Z <= 0).all(dim=1).to(torch.float64).mean().item()


def slope_table(zs: list[float]) -> str:
    """A small text table of g′(z) for the four activations at the given z values (for notebooks)."""
    z = torch.tensor(zs, dtype=torch.float64)
    lines = ["z:".ljust(16) + "".join(f"{v:>8.2f}" for v in zs)]
    for name, (_, g_prime) in ACTIVATIONS.items():
        lines.append(f"{name}′(z):".ljust(16) + "".join(f"{v:>8.3f}" for v in g_prime(z).tolist()))
    return "\n".join(lines)
