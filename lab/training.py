"""One training loop for every lab, written as a stream of events.

The loop never prints or plots: whoever consumes the events decides what to show. It checks a
cancel flag between steps, so a dashboard's Stop button (or a new setting) ends it at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch


class Trainable(Protocol):
    """What the loop needs from a model + data + optimizer bundle."""

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Take one optimisation step; return the cost *before* the update and the gradients used."""

    def evaluate(self) -> dict[str, float]:
        """Metrics on the current parameters, e.g. {"train_accuracy": 0.9, "test_accuracy": 0.8}."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class StepEvent:
    step: int  # 1-based number of the step just taken
    cost: float  # cost before this step's update
    grad_norms: dict[str, float]  # L2 norm of each parameter's gradient


@dataclass(frozen=True)
class EvalEvent:
    step: int
    metrics: dict[str, float]  # e.g. train_accuracy, test_accuracy


@dataclass(frozen=True)
class DivergedEvent:
    step: int
    cost: float  # the NaN or infinite value
    message: str  # what happened and what to try, ready to show a learner


@dataclass(frozen=True)
class DoneEvent:
    steps: int  # steps completed
    cancelled: bool  # True when the cancel flag ended the run early
    seconds: float  # wall time of the loop
    metrics: dict[str, float] = field(default_factory=dict)  # final evaluation


Event = StepEvent | EvalEvent | DivergedEvent | DoneEvent


DEFAULT_HINT = "try a smaller learning rate"


def divergence_message(step: int, cost: float, first_cost: float | None = None, hint: str = DEFAULT_HINT) -> str:
    """What a learner reads when a run blows up: the step, the value, and what to try."""
    if math.isfinite(cost):
        what = f"grew to {cost:.3g}, {cost / first_cost:.0f}× its starting value,"
    else:
        what = f"became {'NaN' if math.isnan(cost) else 'infinite'}"
    return f"Cost {what} at step {step} — {hint}."


def train(task: Trainable, num_steps: int, *, eval_every: int = 0, cancel: CancelFlag | None = None,
          blowup_ratio: float | None = 10.0, hint: str = DEFAULT_HINT) -> Iterator[Event]:
    """Run `num_steps` steps of `task`, yielding a StepEvent per step.

    An EvalEvent follows every `eval_every` steps (0: only at the end). A NaN or infinite cost, or one
    more than `blowup_ratio` times the first step's cost (None: never), yields a DivergedEvent and ends
    the run; its message ends with `hint`. The run always ends with a DoneEvent, also when `cancel` is set.
    """
    if num_steps < 1:
        raise ValueError(f"The 'num_steps' parameter must be ≥ 1. Got {num_steps!r} instead.")
    start = time.perf_counter()
    done, first_cost = 0, math.nan
    for step in range(1, num_steps + 1):
        if cancel is not None and cancel.is_set():
            yield DoneEvent(done, True, time.perf_counter() - start)
            return
        cost_tensor, grads = task.step()
        # One host sync per step for the cost and all gradient norms together.
        parts = [cost_tensor.detach().reshape(1)] + [g.detach().norm().reshape(1) for g in grads.values()]
        values = torch.cat([p.to(torch.float64) for p in parts]).tolist()
        cost = values[0]
        done = step
        first_cost = cost if step == 1 else first_cost
        yield StepEvent(step, cost, dict(zip(grads.keys(), values[1:], strict=True)))
        if not math.isfinite(cost) or (blowup_ratio is not None and cost > blowup_ratio * first_cost > 0):
            yield DivergedEvent(step, cost, divergence_message(step, cost, first_cost, hint))
            yield DoneEvent(done, False, time.perf_counter() - start, {})
            return
        if eval_every and step % eval_every == 0 and step != num_steps:
            yield EvalEvent(step, task.evaluate())
    metrics = task.evaluate()
    yield EvalEvent(done, metrics)
    yield DoneEvent(done, False, time.perf_counter() - start, metrics)


class FirstRound(tuple):
    """A `(label, event)` of a side-by-side job's first round that more of the round follows. It is an ordinary
    pair to whoever reads it; the runner holds its first push until the round's last pair, so that every model's
    first point reaches the plot in the same push, not one model's line at once and the others' a push later."""


def side_by_side(streams: dict[str, Iterator[Event]], *, pace: float = 0.0,
                 cancel: CancelFlag | None = None) -> Iterator[tuple[str, Event]]:
    """Several runs at once: the next event of each stream in turn, labelled with the stream's name, so their
    curves (or paths on a cost surface) grow together. `pace` seconds pass between rounds (0: none), except once
    `cancel` is set. A stream that ends drops out; the others go on. The first round's pairs but its last are
    `FirstRound`s."""
    live, first = dict(streams), True
    while live:
        round_ = []
        for label, stream in list(live.items()):
            event = next(stream, None)
            if event is None:
                del live[label]
            elif first:  # kept until the round is complete: only then is its last pair known
                round_.append((label, event))
            else:
                yield label, event
        if first:
            yield from (FirstRound(pair) for pair in round_[:-1])
            yield from round_[-1:]
            first = False
        if pace and live and not (cancel is not None and cancel.is_set()):
            time.sleep(pace)
