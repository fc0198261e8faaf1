import math
import threading

import pytest
import torch

from lab.training import (
    DivergedEvent,
    DoneEvent,
    EvalEvent,
    FirstRound,
    StepEvent,
    divergence_message,
    side_by_side,
    train,
)


class Scripted:
    """A fake task whose cost follows a script, to drive the loop's every branch."""

    def __init__(self, costs):
        self.costs, self.calls = list(costs), 0

    def step(self):
        cost = self.costs[min(self.calls, len(self.costs) - 1)]
        self.calls += 1
        return torch.tensor(cost), {"w": torch.tensor([3.0, 4.0]), "b": torch.tensor(-2.0)}

    def evaluate(self):
        return {"train_accuracy": 0.5}


def test_a_normal_run_yields_steps_evaluations_and_done():
    events = list(train(Scripted([1.0, 0.9, 0.8, 0.7]), 4, eval_every=2))
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == [1, 2, 3, 4]
    assert [e.cost for e in steps] == pytest.approx([1.0, 0.9, 0.8, 0.7])
    assert steps[0].grad_norms == pytest.approx({"w": 5.0, "b": 2.0})
    assert [e.step for e in events if isinstance(e, EvalEvent)] == [2, 4]
    assert events[-1] == DoneEvent(4, False, events[-1].seconds, {"train_accuracy": 0.5})


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_or_infinite_cost_is_reported_with_the_step_and_a_hint(bad):
    events = list(train(Scripted([1.0, 0.9, bad, 0.5]), 10))
    diverged = [e for e in events if isinstance(e, DivergedEvent)]
    assert len(diverged) == 1 and diverged[0].step == 3
    word = "NaN" if math.isnan(bad) else "infinite"
    assert diverged[0].message == f"Cost became {word} at step 3 — try a smaller learning rate."
    assert isinstance(events[-1], DoneEvent) and events[-1].steps == 3 and not events[-1].cancelled


def test_a_cost_that_blows_up_counts_as_divergence():
    events = list(train(Scripted([0.7, 0.8, 7.7, 0.1]), 10))
    diverged = [e for e in events if isinstance(e, DivergedEvent)]
    assert diverged[0].step == 3
    assert diverged[0].message == "Cost grew to 7.7, 11× its starting value, at step 3 — try a smaller learning rate."
    assert list(train(Scripted([0.7, 0.8, 7.7]), 3, blowup_ratio=None))[-1].cancelled is False
    assert not any(isinstance(e, DivergedEvent) for e in train(Scripted([0.7, 0.8, 7.7]), 3, blowup_ratio=None))


def test_cancel_stops_between_steps():
    cancel = threading.Event()
    task = Scripted([1.0])
    events = []
    for event in train(task, 1000, cancel=cancel):
        events.append(event)
        if isinstance(event, StepEvent) and event.step == 5:
            cancel.set()
    assert task.calls == 5
    assert events[-1].cancelled and events[-1].steps == 5


def test_zero_steps_is_rejected():
    with pytest.raises(ValueError, match="The 'num_steps' parameter must be ≥ 1. Got 0 instead."):
        list(train(Scripted([1.0]), 0))


def test_divergence_message_wording():
    assert divergence_message(40, math.nan) == "Cost became NaN at step 40 — try a smaller learning rate."


def test_the_hint_can_name_the_real_cause():
    events = list(train(Scripted([1.0, math.nan]), 5, hint="the notes' minus sign makes s negative"))
    message = next(e.message for e in events if isinstance(e, DivergedEvent))
    assert message == "Cost became NaN at step 2 — the notes' minus sign makes s negative."


def test_side_by_side_takes_turns_and_marks_its_first_round_but_the_rounds_last_pair():
    streams = {"a": iter(["a1", "a2", "a3"]), "b": iter(["b1"]), "c": iter(["c1", "c2"])}
    pairs = list(side_by_side(streams))
    assert pairs == [("a", "a1"), ("b", "b1"), ("c", "c1"), ("a", "a2"), ("c", "c2"), ("a", "a3")]
    assert [isinstance(pair, FirstRound) for pair in pairs] == [True, True, False, False, False, False]
