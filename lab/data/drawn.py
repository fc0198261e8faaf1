"""2-D points a learner draws, and the presets they start from: the flower, two moons, two circles, XOR.

Every set lives in the square PLANE × PLANE, so one fixed plot can show (and take clicks for) any of them.
X has shape (2, m), one column per point; Y has shape (1, m) with values 0. or 1.
"""

from __future__ import annotations

import math

import torch

from lab.data.planar import make_planar
from lab.params import Param, register, validate
from lab.seeding import make_generator

PLANE = (-5.0, 5.0)  # the square every set is drawn in: x₁ and x₂ both run over this range
PRESET_SIZE = 200  # points in each preset
MIN_POINTS = 6  # fewer than this is too little to learn a boundary from
MIN_PER_CLASS = 2  # each class needs at least this many points
MAX_POINTS = 2000  # a drawing stops growing here: every click retrains on all of them


def _moons(m: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved half circles, class 0 on top."""
    half = m // 2
    t0 = torch.rand(half, generator=gen, dtype=torch.float64) * math.pi
    t1 = torch.rand(m - half, generator=gen, dtype=torch.float64) * math.pi
    top = torch.stack([torch.cos(t0), torch.sin(t0)])  # (2, half)
    bottom = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)])  # (2, m − half)
    X = torch.cat([top, bottom], dim=1) + 0.1 * torch.randn(2, m, generator=gen, dtype=torch.float64)
    X = 2.4 * (X - torch.tensor([[0.5], [0.25]], dtype=torch.float64))  # centred, spread over the plane
    return X, torch.cat([torch.zeros(half), torch.ones(m - half)]).reshape(1, m).to(torch.float64)


def _circles(m: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A disc of class 1 inside a ring of class 0."""
    Y = (torch.arange(m) % 2).to(torch.float64)  # (m,) alternating, so the classes are balanced
    radius = torch.where(Y == 1, 1.4, 3.4) + 0.35 * torch.randn(m, generator=gen, dtype=torch.float64)
    angle = torch.rand(m, generator=gen, dtype=torch.float64) * 2 * math.pi
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)]), Y.reshape(1, m)


def _xor(m: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in the four quadrants, away from the axes: class 1 where x₁ and x₂ have the same sign."""
    size = 0.4 + 3.6 * torch.rand(2, m, generator=gen, dtype=torch.float64)  # (2, m) distance from each axis
    sign = torch.where(torch.rand(2, m, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    X = size * sign
    return X, (sign[0] == sign[1]).to(torch.float64).reshape(1, m)


def _flower(m: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    return make_planar(m=m, noise=0.2, seed=seed, dtype=torch.float64)


PRESETS = {"flower": _flower, "moons": _moons, "circles": _circles, "xor": _xor}
register(Param("preset", "Start from", "A ready-made 2-D set to train on (and to draw more points into).",
               "flower", options=tuple(PRESETS)))


def make_preset(preset: str, m: int = PRESET_SIZE, seed: int = 0, dtype: torch.dtype = torch.float32,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """One of PRESETS ("flower", "moons", "circles", "xor") with m points: X (2, m) inside PLANE, Y (1, m)."""
    preset = validate("preset", preset)
    if isinstance(m, bool) or not isinstance(m, int) or not 2 <= m <= MAX_POINTS:
        raise ValueError(f"The 'm' parameter must be a whole number in the range [2, {MAX_POINTS}]. "
                         f"Got {m!r} instead.")
    X, Y = PRESETS[preset](m, make_generator(seed))
    return X.clamp(*PLANE).to(dtype), Y.to(dtype)


def drawn_set_problem(labels: list[int]) -> str | None:
    """What stops a network from learning on a drawn set with these labels (0 or 1), and what to do; None if
    nothing does. Written for the learner, who fixes it by clicking."""
    m, blue = len(labels), sum(labels)
    orange = m - blue
    if m == 0:
        return "There are no points yet: choose a class, then click on the plot to add points, or pick a preset."
    if blue == 0 or orange == 0:
        have, need = ("blue", "orange (class 0)") if orange == 0 else ("orange", "blue (class 1)")
        which = f"All {m} points are" if m > 1 else "The only point is"
        return (f"{which} {have}: a classifier needs both classes to draw a boundary between them. "
                f"Set 'New points are' to {need} and click to add some.")
    if m < MIN_POINTS or min(blue, orange) < MIN_PER_CLASS:
        return (f"Only {m} points ({orange} orange, {blue} blue): there is too little to learn from. Click to add "
                f"more, until there are at least {MIN_POINTS} with {MIN_PER_CLASS} or more of each class.")
    return None


class DrawnSet:
    """The points on the drawing board, in the order they were added, and where they came from."""

    def __init__(self, preset: str | None = "flower", seed: int = 0):
        self.points: list[tuple[float, float, int]] = []  # (x₁, x₂, label); replaced whole, never edited in place
        self.origin = ""  # the preset the points started from, "" for none
        self.edited = False  # True once the learner has added a point
        if preset is not None:
            self.load(preset, seed)

    @property
    def name(self) -> str:
        """'flower', 'flower + your points' or 'your points': what a run trained on."""
        if not self.origin:
            return "your points"
        return f"{self.origin} + your points" if self.edited else self.origin

    @property
    def labels(self) -> list[int]:
        return [label for _, _, label in self.points]

    def load(self, preset: str, seed: int = 0) -> None:
        """Replace the points with a preset's."""
        X, Y = make_preset(preset, seed=seed, dtype=torch.float64)
        self.points = list(zip(X[0].tolist(), X[1].tolist(), Y[0].long().tolist(), strict=True))
        self.origin, self.edited = preset, False

    def add(self, x1: float, x2: float, label: int) -> None:
        """Add one point inside PLANE with label 0 or 1; a ValueError (in words for the learner) otherwise."""
        if label not in (0, 1):
            raise ValueError(f"The 'label' parameter must be 0 or 1. Got {label!r} instead.")
        for name, value in (("x1", x1), ("x2", x2)):
            if not (math.isfinite(value) and PLANE[0] <= value <= PLANE[1]):
                raise ValueError(f"The '{name}' parameter must be in the range [{PLANE[0]}, {PLANE[1]}]. "
                                 f"Got {value!r} instead.")
        if len(self.points) >= MAX_POINTS:
            raise ValueError(f"The board holds at most {MAX_POINTS} points: press 'Clear points' or pick a preset "
                             "to start again.")
        self.points = [*self.points, (float(x1), float(x2), int(label))]  # a new list: readers keep a whole copy
        self.edited = True

    def clear(self) -> None:
        self.points, self.origin, self.edited = [], "", False

    def problem(self) -> str | None:
        """See `drawn_set_problem`."""
        return drawn_set_problem(self.labels)

    def tensors(self, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """X (2, m) and Y (1, m) of the points as they are now."""
        return points_to_tensors(self.points, dtype, device)  # one reference: a click replaces the list


def points_to_tensors(points: list[tuple[float, float, int]], dtype: torch.dtype = torch.float32,
                      device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """X (2, m) and Y (1, m) from m points (x₁, x₂, label)."""
    data = torch.tensor([[p[0], p[1], p[2]] for p in points], dtype=torch.float64).reshape(-1, 3).T  # (3, m)
    return data[:2].to(dtype=dtype, device=device), data[2:].to(dtype=dtype, device=device)
