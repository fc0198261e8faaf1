"""The Runner's contract, checked with jobs that block on `threading.Event` gates, so the test and not the
machine decides when each event is produced: ordering, what each push holds, latest wins, stop, errors.

Nothing here depends on speed: how fast the first point arrives, how soon a stopped job ends and how many pushes a
second the throttle allows are measured by `tests/benchmarks/bench_runner.py`. Timeouts below only keep a broken
runner from hanging the suite; a healthy one never comes near them.
"""

import itertools
import threading
import time

import pytest

from lab.training import DivergedEvent, DoneEvent, EvalEvent, StepEvent, side_by_side
from widgets.runner import Runner, describe_metrics
from widgets.status import StatusLine

TIMEOUT = 30.0  # a guard against hanging, never a measurement
NEVER = 3600.0  # a throttle interval no test outlives: only urgent events are pushed before the end


class Gate:
    """A point a job stops at until the test opens it; `reached` says the job got there."""

    def __init__(self):
        self.reached, self.opened = threading.Event(), threading.Event()

    def __call__(self) -> None:  # called by the job
        self.reached.set()
        assert self.opened.wait(TIMEOUT), "the test never opened the gate"

    def wait_reached(self) -> None:
        assert self.reached.wait(TIMEOUT), "the job never reached the gate"

    def open(self) -> None:
        self.opened.set()


def step(n, cost=None):
    return StepEvent(n, 1.0 / n if cost is None else cost, {"w": 1.0})


def collecting_runner(**kwargs):
    batches = []
    status = StatusLine()
    return Runner(status, batches.append, **kwargs), batches, status


def events(batches):
    return [event for batch in batches for _, event in batch]


def counted(batches, kind):
    return sum(isinstance(event, kind) for event in events(batches))


def gated_steps(label, n, gate_after=(), metrics=None):
    """n steps, then the end; at each step in `gate_after` (step → Gate) the job waits after yielding it."""
    gates = dict(gate_after)

    def work(cancel):
        for i in range(1, n + 1):
            if cancel.is_set():
                yield label, DoneEvent(i - 1, True, 0.0)
                return
            yield label, step(i)
            if i in gates:
                gates[i]()
        yield label, DoneEvent(n, False, 0.1, metrics or {"test_accuracy": 0.5})
    return work


def until_stopped(label, steps_before=2, reached=None):
    """`steps_before` steps, then nothing until the job is cancelled; it then ends as a stopped run should."""
    def work(cancel):
        for i in range(1, steps_before + 1):
            yield label, step(i)
        if reached is not None:
            reached.set()
        assert cancel.wait(TIMEOUT), "never cancelled"
        yield label, DoneEvent(steps_before, True, 0.0)
    return work


# ----------------------------------------------------------------------------------------------- what each push holds

def test_the_first_step_is_pushed_alone_at_once_and_the_rest_with_the_end():
    runner, batches, status = collecting_runner(interval=NEVER)
    gate = Gate()
    runner.start(gated_steps("a", 300, {1: gate}), "a")
    gate.wait_reached()  # the job holds after its first step: that step must already be on screen
    assert batches == [[("a", step(1))]]
    assert status.kind == "busy" and status.text == "Training a: iteration 1, cost 1"
    gate.open()
    assert runner.wait(TIMEOUT)
    assert len(batches) == 2  # the throttle held every other step back until the end, which comes at once
    assert [e.step for e in events(batches)[:-1]] == list(range(1, 301))
    assert batches[1][-1] == ("a", DoneEvent(300, False, 0.1, {"test_accuracy": 0.5}))
    assert status.kind == "success" and status.text == "Finished a: 300 iterations in 0.1 s — test accuracy 50.0%."


def test_models_trained_side_by_side_show_their_first_points_in_the_same_push():
    """Each model's line starts at once, not the first model's at once and the others' a push later."""
    runner, batches, _ = collecting_runner(interval=NEVER)
    gate = Gate()

    def stream(label):
        yield step(1)
        if label == "a":
            gate()  # the second round has begun: the first must be on screen, whole
        yield step(2)
    runner.start(lambda cancel: side_by_side({label: stream(label) for label in "abc"}), "abc")
    gate.wait_reached()
    assert batches == [[("a", step(1)), ("b", step(1)), ("c", step(1))]]
    gate.open()
    assert runner.wait(TIMEOUT) and [e.step for e in events(batches)] == [1, 1, 1, 2, 2, 2]


def test_without_a_throttle_every_event_is_its_own_push():
    runner, batches, _ = collecting_runner(interval=0.0)
    runner.start(gated_steps("a", 25), "a")
    assert runner.wait(TIMEOUT)
    assert [len(batch) for batch in batches] == [1] * 26
    assert isinstance(batches[-1][0][1], DoneEvent)


def test_a_push_is_made_once_the_interval_has_passed():
    runner, batches, _ = collecting_runner(interval=0.2)
    after_first, after_second = Gate(), Gate()
    runner.start(gated_steps("a", 3, {1: after_first, 2: after_second}), "a")
    after_first.wait_reached()
    time.sleep(0.3)  # at least the interval since the first push: the next step is due at once
    after_first.open()
    after_second.wait_reached()
    assert batches == [[("a", step(1))], [("a", step(2))]]
    after_second.open()
    assert runner.wait(TIMEOUT)
    assert isinstance(batches[-1][-1][1], DoneEvent) and counted(batches, StepEvent) == 3


def test_slow_pushes_take_at_most_a_fifth_of_the_run():
    """A push runs in the job's thread: a dashboard that takes 60 ms to draw a push gets one about every 300 ms,
    not every 100 + 60 ms, so the training keeps four fifths of the time."""
    drawn, pushed_at = [], []

    def slow_draw(batch):
        pushed_at.append(time.perf_counter())
        time.sleep(0.06)
        drawn.append(batch)

    def work(cancel):
        start, i = time.perf_counter(), 0
        while time.perf_counter() - start < 1.5:
            i += 1
            yield "a", step(i)
            time.sleep(0.002)
        yield "a", DoneEvent(i, False, 1.5)

    runner = Runner(StatusLine(), slow_draw, interval=0.1)
    runner.start(work, "a")
    assert runner.wait(TIMEOUT)
    gaps = [b - a for a, b in itertools.pairwise(pushed_at[1:-1])]  # between routine pushes
    assert gaps and min(gaps) >= 0.06 * 5 * 0.95, gaps  # 60 ms of drawing, then at least 4 × 60 ms of training
    assert len(drawn) <= 2 + 1.5 / 0.3 + 1, len(drawn)  # without the rule: every 160 ms, ten of them


def test_the_first_evaluation_is_pushed_at_once_where_curves_are_drawn_from_evaluations():
    gate = Gate()

    def evaluated_every_step(cancel):
        for i in range(1, 201):
            yield "a", step(i)
            yield "a", EvalEvent(i, {"dev_accuracy": 0.5})
            if i == 2:
                gate()
        yield "a", DoneEvent(200, False, 0.4, {})

    runner, batches, _ = collecting_runner(interval=NEVER, plots_evaluations=True)
    runner.start(evaluated_every_step, "a")
    gate.wait_reached()  # step 2 and evaluation 2 are held back: only the first of each is on screen
    assert [[type(e) for _, e in batch] for batch in batches] == [[StepEvent], [EvalEvent]]
    gate.open()
    assert runner.wait(TIMEOUT)
    assert len(batches) == 3 and isinstance(batches[-1][-1][1], DoneEvent)
    assert counted(batches, EvalEvent) == 200 and counted(batches, StepEvent) == 200

    gate = Gate()  # curves drawn from steps: the first evaluation waits like any other event
    runner, batches, _ = collecting_runner(interval=NEVER)
    runner.start(evaluated_every_step, "a")
    gate.wait_reached()
    assert [[type(e) for _, e in batch] for batch in batches] == [[StepEvent]]
    gate.open()
    assert runner.wait(TIMEOUT)
    assert len(batches) == 2 and [type(e) for _, e in batches[1][:2]] == [EvalEvent, StepEvent]


def test_a_divergence_is_pushed_at_once_and_stays_on_screen_after_the_end():
    gate = Gate()
    message = "Cost became NaN at step 3 — try a smaller learning rate."

    def diverging(cancel):
        yield "big", step(1, 0.7)
        yield "big", step(2, 0.9)
        yield "big", DivergedEvent(3, float("nan"), message)
        gate()
        yield "big", DoneEvent(3, False, 0.0, {})

    runner, batches, status = collecting_runner(interval=NEVER)
    runner.start(diverging, "big")
    gate.wait_reached()
    assert [[type(e) for _, e in batch] for batch in batches] == [[StepEvent], [StepEvent, DivergedEvent]]
    assert status.kind == "warning" and status.text == f"big: {message}"
    gate.open()
    assert runner.wait(TIMEOUT)
    assert status.kind == "warning" and status.text == f"big: {message}"


def test_a_divergence_in_one_of_several_runs_is_named_in_the_final_status():
    def two_learners(cancel):
        yield "calm", step(1)
        yield "calm", DoneEvent(1, False, 0.2, {})
        yield "wild", step(1)
        yield "wild", DivergedEvent(2, float("inf"), "Cost became infinite at step 2 — try a smaller learning rate.")
        yield "wild", DoneEvent(2, False, 0.1, {})
        yield "calm", DoneEvent(1, False, 0.3, {})

    runner, _, status = collecting_runner(interval=NEVER)
    runner.start(two_learners, "two")
    assert runner.wait(TIMEOUT)
    assert status.kind == "warning"
    assert status.text == ("Finished calm: 1 iterations in 0.3 s. "
                           "But wild: Cost became infinite at step 2 — try a smaller learning rate.")


# ----------------------------------------------------------------------------------------------- latest wins

def test_a_new_job_cancels_the_old_one_and_its_late_updates_are_dropped():
    runner, batches, status = collecting_runner(interval=0.0)
    old_gate = Gate()
    runner.start(gated_steps("old", 10_000, {1: old_gate}), "old")
    old_gate.wait_reached()
    old_job = runner._job
    new_gate = Gate()
    runner.start(gated_steps("new", 20, {1: new_gate}), "new")
    assert old_job.cancel.is_set()
    new_gate.wait_reached()
    old_gate.open()  # the old job now yields its step 2, notices the cancel and ends: none of it may be drawn
    old_job.thread.join(TIMEOUT)
    assert not old_job.thread.is_alive()
    assert [label for batch in batches for label, _ in batch] == ["old", "new"]
    new_gate.open()
    assert runner.wait(TIMEOUT)
    labels = [label for batch in batches for label, _ in batch]
    assert labels == ["old"] + ["new"] * 21
    assert status.kind == "success" and status.text.startswith("Finished new: 20 iterations")


def test_setup_runs_after_the_old_job_has_lost_the_views():
    runner, batches, _ = collecting_runner(interval=0.0)
    old_gate = Gate()
    runner.start(gated_steps("old", 100_000, {3: old_gate}), "old")
    old_gate.wait_reached()
    seen_at_setup = []
    # the old job is released while the new one is being set up: whatever it yields then must be dropped
    runner.start(gated_steps("new", 5), "new", setup=lambda: (seen_at_setup.append(len(batches)), old_gate.open()))
    assert runner.wait(TIMEOUT)
    assert seen_at_setup == [3]
    assert [label for batch in batches[3:] for label, _ in batch] == ["new"] * 6
    assert [label for batch in batches[:3] for label, _ in batch] == ["old"] * 3


def test_on_end_runs_once_after_the_last_push_and_not_for_a_replaced_job():
    runner, batches, _ = collecting_runner(interval=NEVER)
    ended = []
    runner.start(gated_steps("a", 4), "a", on_end=lambda: ended.append(len(batches)))
    assert runner.wait(TIMEOUT)
    assert ended == [2]  # after the first step's push and the end's

    old_gate, replaced = Gate(), []
    runner.start(gated_steps("old", 4, {1: old_gate}), "old", on_end=lambda: replaced.append("old"))
    old_gate.wait_reached()
    old_job = runner._job
    runner.start(gated_steps("new", 2), "new", on_end=lambda: replaced.append("new"))
    old_gate.open()
    old_job.thread.join(TIMEOUT)
    assert runner.wait(TIMEOUT) and not old_job.thread.is_alive()
    assert replaced == ["new"]


# ----------------------------------------------------------------------------------------------- stop, wait, running

def test_stop_ends_a_run_and_says_how_far_it_got():
    runner, batches, status = collecting_runner(interval=NEVER)
    reached = threading.Event()
    runner.start(until_stopped("long", steps_before=2, reached=reached), "long")
    assert reached.wait(TIMEOUT)
    assert runner.running
    runner.stop()
    assert runner.wait(TIMEOUT)
    assert not runner.running
    assert status.kind == "info" and status.text == "Stopped long after 2 iterations."
    assert batches[-1][-1] == ("long", DoneEvent(2, True, 0.0))


def test_stop_pressed_while_the_run_ends_leaves_the_result_on_screen():
    """Stop lands after the run's last push, while its thread is still busy ending (drawing the result): the
    screen must end on the run's result, not on "Stopping…"."""
    ending, release = threading.Event(), threading.Event()
    runner, _, status = collecting_runner(interval=NEVER)
    runner.start(gated_steps("a", 3), "a", on_end=lambda: (ending.set(), release.wait(TIMEOUT)))
    assert ending.wait(TIMEOUT)
    assert status.text == "Finished a: 3 iterations in 0.1 s — test accuracy 50.0%."
    stopper = threading.Thread(target=runner.stop)
    stopper.start()
    time.sleep(0.05)  # time for Stop to act (or to wait for the run's end): the outcome must be the same
    release.set()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
    assert runner.wait(TIMEOUT)
    assert status.kind == "success" and status.text == "Finished a: 3 iterations in 0.1 s — test accuracy 50.0%."


def test_wait_says_whether_the_job_ended_in_time():
    runner, _, _ = collecting_runner()
    assert runner.wait(0.0)  # nothing started: nothing to wait for
    gate = Gate()
    runner.start(gated_steps("a", 3, {1: gate}), "a")
    gate.wait_reached()
    assert runner.wait(0.05) is False  # the job holds at the gate
    assert runner.running
    gate.open()
    assert runner.wait(TIMEOUT) is True
    assert not runner.running


def test_stop_with_nothing_running_changes_nothing():
    runner, _, status = collecting_runner()
    runner.stop()
    assert status.kind == "info" and status.text == "Move a control or press Train to start."
    runner.start(gated_steps("a", 2), "a")
    assert runner.wait(TIMEOUT)
    runner.stop()  # after the end: the result stays on screen
    assert status.kind == "success" and status.text.startswith("Finished a: 2 iterations")


def test_runner_threads_are_named_daemons():
    runner, _, _ = collecting_runner()
    gate = Gate()
    runner.start(gated_steps("d", 5, {1: gate}), "d")
    gate.wait_reached()
    thread = runner._job.thread
    assert thread.daemon and thread.name.startswith("lab-job-") and thread.is_alive()
    gate.open()
    assert runner.wait(TIMEOUT)
    assert not thread.is_alive()


# ----------------------------------------------------------------------------------------------- errors

def test_errors_reach_the_status_line():
    runner, batches, status = collecting_runner()

    def broken(cancel):
        yield "x", step(1)
        raise ValueError("The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead.")

    runner.start(broken, "x")
    assert runner.wait(TIMEOUT)
    assert status.kind == "error"
    assert status.text == "Error: ValueError: The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead."
    assert "Traceback" in runner.last_error and "ValueError" in runner.last_error
    assert events(batches) == [step(1)]
    runner.start(gated_steps("y", 1), "y")  # a new run clears the error
    assert runner.wait(TIMEOUT)
    assert runner.last_error is None and status.kind == "success"


def test_an_error_in_a_replaced_job_stays_off_screen():
    runner, _, status = collecting_runner()
    gate = Gate()

    def broken_later(cancel):
        yield "old", step(1)
        gate()
        raise RuntimeError("too late to matter")

    runner.start(broken_later, "old")
    gate.wait_reached()
    old_job = runner._job
    runner.start(until_stopped("new", steps_before=1), "new")
    gate.open()
    old_job.thread.join(TIMEOUT)
    assert not old_job.thread.is_alive()
    assert runner.last_error is None and status.kind != "error"
    runner.stop()
    assert runner.wait(TIMEOUT)
    assert status.text == "Stopped new after 1 iterations."


@pytest.mark.parametrize(("metrics", "text"), [
    ({"train_accuracy": 0.973, "cost": 0.1234567}, "train accuracy 97.3%, cost 0.1235"),
    ({"dev_accuracy": 1.0}, "dev accuracy 100.0%"),
    ({}, ""),
])
def test_describe_metrics(metrics, text):
    assert describe_metrics(metrics) == text
