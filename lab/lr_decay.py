"""Learning-rate decay: large steps early, smaller ones as training settles near a minimum.

t is the number of epochs completed (t = 0 during the first epoch, which uses α₀), d the decay rate:

- inverse_time:  α = α₀ / (1 + d·t)
- exponential:   α = α₀ · e^(−d·t)   (the course's 0.95ᵗ·α₀ is d = −ln 0.95 ≈ 0.0513)
- staircase:     α held for `every` epochs, then dropped to the exponential value: α₀ · e^(−d·every·⌊t/every⌋)

The notes write α = α₀ / (1 − d·t) (ERRATA 9): that grows instead of shrinking, is infinite at t = 1/d and
negative after — `notes_inverse_time` computes it so the lab can show the blow-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from lab.params import Param, register, validate

register(
    Param("lr_schedule", "Learning-rate decay", "How α shrinks with the epoch number t.",
          "none", options=("none", "inverse_time", "exponential", "staircase")),
    Param("decay_rate", "Decay rate d", "How fast the learning rate decays.",
          0.0, low=0.0, high=10.0, step=0.01, ui_high=2.0),
)


def inverse_time(lr0: float, decay_rate: float, t: int) -> float:
    """α₀ / (1 + d·t): halves by t = 1/d, a tenth by t = 9/d."""
    return validate("lr", lr0) / (1 + validate("decay_rate", decay_rate) * t)


def exponential(lr0: float, decay_rate: float, t: int) -> float:
    """α₀ · e^(−d·t): the same fraction of α is lost every epoch."""
    return validate("lr", lr0) * math.exp(-validate("decay_rate", decay_rate) * t)


def staircase(lr0: float, decay_rate: float, t: int, every: int = 5) -> float:
    """α₀ · e^(−d·every·⌊t/every⌋): constant for `every` epochs, then a step down."""
    return exponential(lr0, decay_rate, every * (t // every))


def notes_inverse_time(lr0: float, decay_rate: float, t: int) -> float:
    """The notes' α₀ / (1 − d·t): +inf at t = 1/d, negative (gradient *ascent*) after it."""
    lr0, decay_rate = validate("lr", lr0), validate("decay_rate", decay_rate)
    denominator = 1 - decay_rate * t
    return math.inf if denominator == 0 else lr0 / denominator


SCHEDULES: dict[str, Callable[[float, float, int], float]] = {
    "none": lambda lr0, decay_rate, t: lr0,
    "inverse_time": inverse_time,
    "exponential": exponential,
    "staircase": staircase,
}


def schedule(name: str, lr0: float, decay_rate: float) -> Callable[[int], float]:
    """t ↦ α for the schedule called `name` (none, inverse_time, exponential, staircase); all validated."""
    rule = SCHEDULES[validate("lr_schedule", name)]
    lr0, decay_rate = validate("lr", lr0), validate("decay_rate", decay_rate)
    return lambda t: rule(lr0, decay_rate, t)


def notes_schedule(lr0: float, decay_rate: float) -> Callable[[int], float]:
    """t ↦ α₀ / (1 − d·t), the notes' formula, for demonstrations only."""
    lr0, decay_rate = validate("lr", lr0), validate("decay_rate", decay_rate)
    return lambda t: notes_inverse_time(lr0, decay_rate, t)


def set_learning_rate(optimizer, lr: float) -> None:
    """Write α into every param group of a `torch.optim`-style optimizer (ours or PyTorch's).

    α is a scheduled rate, not the slider's α₀: it may decay below the slider's range, and the notes'
    schedule makes it infinite or negative on purpose (ERRATA 9). So only its type is checked here.
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"The 'lr' parameter must be a number. Got {lr!r} instead.")
    for group in optimizer.param_groups:
        group["lr"] = lr
