import math

import pytest
import torch

from lab.lr_decay import (
    exponential,
    inverse_time,
    notes_inverse_time,
    notes_schedule,
    schedule,
    set_learning_rate,
    staircase,
)
from lab.optimizers import GradientDescent


def test_inverse_time_matches_the_course_table():
    # α₀ = 0.2, d = 1: epochs 1, 2, 3, 4 → 0.1, 0.067, 0.05, 0.04
    assert [round(inverse_time(0.2, 1.0, t), 3) for t in range(5)] == [0.2, 0.1, 0.067, 0.05, 0.04]


def test_exponential_with_d_equal_minus_log_095_is_095_to_the_t():
    d = -math.log(0.95)
    for t in range(10):
        assert exponential(1.0, d, t) == pytest.approx(0.95**t)
    assert exponential(0.5, 0.1, 3) == pytest.approx(0.5 * math.exp(-0.3))


def test_staircase_holds_then_steps_down_to_the_exponential_value():
    values = [staircase(1.0, 0.1, t, every=5) for t in range(12)]
    assert values[:5] == [1.0] * 5
    assert values[5:10] == [pytest.approx(math.exp(-0.5))] * 5
    assert values[10] == pytest.approx(math.exp(-1.0))


def test_the_notes_decay_grows_blows_up_at_one_over_d_and_turns_negative():
    lr0, d = 0.1, 0.25
    assert notes_inverse_time(lr0, d, 0) == lr0
    assert notes_inverse_time(lr0, d, 2) == pytest.approx(0.2)  # doubled instead of shrunk
    assert notes_inverse_time(lr0, d, 3) == pytest.approx(0.4)
    assert notes_inverse_time(lr0, d, 4) == math.inf  # t = 1/d
    assert notes_inverse_time(lr0, d, 5) == pytest.approx(-0.4)  # gradient *ascent*
    assert inverse_time(lr0, d, 4) == pytest.approx(0.05)  # the correct one halves by t = 1/d
    assert notes_schedule(lr0, d)(4) == math.inf


@pytest.mark.parametrize("name", ["none", "inverse_time", "exponential", "staircase"])
def test_schedule_by_name(name):
    rule = schedule(name, 0.2, 0.5)
    expected = {"none": 0.2, "inverse_time": 0.2 / 4, "exponential": 0.2 * math.exp(-3),
                "staircase": 0.2 * math.exp(-2.5)}[name]
    assert rule(0) == pytest.approx(0.2) and rule(6) == pytest.approx(expected)


@pytest.mark.parametrize(("args", "message"), [
    (("linear", 0.1, 0.1), "The 'lr_schedule' parameter must be one of"),
    (("exponential", 0.0, 0.1), "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0.0 instead."),
    (("exponential", 0.1, -1.0), "The 'decay_rate' parameter must be in the range [0.0, 10.0]. Got -1.0 instead."),
])
def test_bad_schedule_settings_are_refused(args, message):
    with pytest.raises(ValueError) as error:
        schedule(*args)
    assert str(error.value).startswith(message)


def test_the_schedule_sets_our_optimizers_rate_to_the_course_numbers():
    """α = α₀ / (1 + d·t) with α₀ = 0.2, d = 1, worked by hand: 0.2, 0.1, 0.0667, 0.05, 0.04."""
    w = torch.zeros(1, requires_grad=True)
    optimizer = GradientDescent([w], lr=0.2)
    rule = schedule("inverse_time", 0.2, 1.0)
    for t, expected in enumerate([0.2, 0.1, 0.2 / 3, 0.05, 0.04]):
        set_learning_rate(optimizer, rule(t))
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)


def test_exponential_decay_is_the_courses_095_to_the_t_and_pytorchs_exponential_lr():
    """α = 0.95ᵗ·α₀ (d = −ln 0.95), checked against hand numbers and torch.optim.lr_scheduler.ExponentialLR."""
    rule = schedule("exponential", 0.2, -math.log(0.95))
    hand = [0.2, 0.19, 0.1805, 0.171475, 0.16290125]  # 0.2 · 0.95ᵗ
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.2)
    theirs = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)
    for t, expected in enumerate(hand):
        assert rule(t) == pytest.approx(expected, rel=1e-12)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)
        optimizer.step()
        theirs.step()


def test_staircase_is_pytorchs_step_lr():
    """Held for 5 epochs, then × e^(−5d): torch.optim.lr_scheduler.StepLR(step_size=5, gamma=e^(−5d))."""
    d = 0.1
    rule = schedule("staircase", 0.2, d)
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.2)
    theirs = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=math.exp(-5 * d))
    for t in range(12):
        assert rule(t) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        optimizer.step()
        theirs.step()
    assert rule(11) == pytest.approx(0.2 * 0.6065306597 ** 2, rel=1e-9)  # two steps of e^(−0.5)


def test_set_learning_rate_writes_any_number_and_refuses_anything_else():
    optimizer = GradientDescent([torch.zeros(1, requires_grad=True)], lr=0.2)
    set_learning_rate(optimizer, 0.03)
    assert optimizer.param_groups[0]["lr"] == 0.03
    set_learning_rate(optimizer, math.inf)  # the notes' schedule at t = 1/d: shown, not refused (ERRATA 9)
    assert optimizer.param_groups[0]["lr"] == math.inf
    for bad in ("0.1", None, True):
        with pytest.raises(TypeError, match="The 'lr' parameter must be a number"):
            set_learning_rate(optimizer, bad)


def test_the_formulas_validate_their_rates():
    with pytest.raises(ValueError, match="The 'decay_rate' parameter must be finite. Got nan instead."):
        inverse_time(0.1, math.nan, 2)
    with pytest.raises(ValueError, match="The 'lr' parameter must be in the range"):
        exponential(-0.1, 0.5, 2)
    with pytest.raises(ValueError, match="The 'decay_rate' parameter must be in the range"):
        notes_inverse_time(0.1, -1.0, 2)
