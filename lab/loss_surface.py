"""Two-weight cost surfaces small enough to draw, and optimizers walking on them step by step.

With only w = (w₁, w₂) the whole cost J(w) fits on one contour plot, so the path of each update rule
can be drawn: gradient descent zig-zags across a narrow valley, momentum averages the zig-zag away,
RMSprop and Adam rescale each direction by its own gradient size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab.optimizers import NotesRMSprop, make_optimizer
from lab.params import Param, register, validate

register(
    Param("surface", "Cost surface", "The two-weight cost the optimizers walk down: a long narrow bowl, "
          "or a curved banana-shaped valley.", "bowl", options=("bowl", "banana")),
)


@dataclass(frozen=True)
class Surface:
    name: str  # key in SURFACES
    title: str  # what a plot calls it, with the formula
    cost: Callable[[torch.Tensor], torch.Tensor]  # J for w of shape (..., 2); returns shape (...)
    start: tuple[float, float]  # where every path begins
    minimum: tuple[float, float]  # the lowest point
    w1_range: tuple[float, float]  # what a plot shows
    w2_range: tuple[float, float]
    lr: float  # a learning rate at which every optimizer makes visible progress

    def __post_init__(self):
        validate("lr", self.lr)

    def grid(self, points: int = 81, log: bool = False) -> tuple[list[float], list[float], torch.Tensor]:
        """w₁ values (points,), w₂ values (points,) and J on the grid, shape (points, points) = (w₂, w₁).

        `log=True` gives log₁₀(J + 10⁻³) instead: evenly spaced contours of it show the valley floor too.
        """
        w1 = torch.linspace(*self.w1_range, points, dtype=torch.float64)
        w2 = torch.linspace(*self.w2_range, points, dtype=torch.float64)
        W2, W1 = torch.meshgrid(w2, w1, indexing="ij")  # rows follow w₂, columns w₁, as contour plots expect
        J = self.cost(torch.stack([W1, W2], dim=-1))  # (points, points)
        return w1.tolist(), w2.tolist(), torch.log10(J + 1e-3) if log else J


def elongated_bowl(w: torch.Tensor) -> torch.Tensor:
    """J = ½(0.1·w₁² + 5·w₂²): fifty times steeper across the valley (w₂) than along it (w₁)."""
    return 0.5 * (0.1 * w[..., 0] ** 2 + 5.0 * w[..., 1] ** 2)


def banana_valley(w: torch.Tensor) -> torch.Tensor:
    """A gentle Rosenbrock function, J = (1 − w₁)² + 10·(w₂ − w₁²)²: a curved valley, minimum at (1, 1)."""
    return (1 - w[..., 0]) ** 2 + 10.0 * (w[..., 1] - w[..., 0] ** 2) ** 2


SURFACES = {
    "bowl": Surface("bowl", "Elongated bowl J = ½(0.1·w₁² + 5·w₂²)", elongated_bowl, (-9.0, 1.5), (0.0, 0.0),
                    (-10.0, 2.0), (-2.5, 2.5), lr=0.35),
    "banana": Surface("banana", "Banana valley J = (1 − w₁)² + 10·(w₂ − w₁²)²", banana_valley, (-1.5, 2.5),
                      (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.5), lr=0.015),
}


def get_surface(name: str) -> Surface:
    """The surface called `name` (see `lab.params`: bowl or banana)."""
    return SURFACES[validate("surface", name)]


class SurfaceWalk:
    """A `lab.training.Trainable` that moves the point w = (w₁, w₂) down `surface` with one optimizer.

    `path` holds every position, the start first; `path[k]` is where step k left the point.
    `notes_rmsprop` uses the notes' RMSprop with its minus sign (ERRATA 8).
    """

    def __init__(self, surface: Surface, optimizer: str, *, lr: float, beta: float = 0.9, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, notes_rmsprop: bool = False):
        self.surface = surface
        self.w = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)  # (2,)
        if notes_rmsprop:
            self.optimizer = NotesRMSprop([self.w], lr, beta, eps)
        else:
            self.optimizer = make_optimizer(optimizer, [self.w], lr=lr, beta=beta, beta1=beta1, beta2=beta2, eps=eps)
        self.path: list[tuple[float, float]] = [surface.start]

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cost = self.surface.cost(self.w)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.path.append(tuple(self.w.detach().tolist()))
        return cost.detach(), {"w": self.w.grad}

    def evaluate(self) -> dict[str, float]:
        w = self.w.detach()
        return {"final_cost": self.surface.cost(w).item(),
                "distance_to_minimum": (w - torch.tensor(self.surface.minimum, dtype=w.dtype)).norm().item()}

    def effective_lr(self) -> tuple[float, float] | None:
        """(α for w₁, α for w₂) that RMSprop or Adam currently applies; None for a single shared α."""
        if not hasattr(self.optimizer, "effective_lr"):
            return None
        rates = self.optimizer.effective_lr(self.w).tolist()
        return (rates[0], rates[1]) if all(math.isfinite(r) for r in rates) else None
