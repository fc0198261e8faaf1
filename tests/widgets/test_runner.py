import threading
import time

from lab.training import DivergedEvent, DoneEvent, EvalEvent, StepEvent
from widgets.runner import Runner, describe_metrics
from widgets.status import StatusLine


def slow_steps(label, n, delay=0.002, done_metrics=None):
    def work(cancel):
        for step in range(1, n + 1):
            if cancel.is_set():
                yield label, DoneEvent(step - 1, True, 0.0)
                return
            time.sleep(delay)
            yield label, StepEvent(step, 1.0 / step, {"w": 1.0})
        yield label, DoneEvent(n, False, 0.1, done_metrics or {"test_accuracy": 0.5})
    return work


def collecting_runner(**kwargs):
    batches = []
    status = StatusLine()
    return Runner(status, batches.append, **kwargs), batches, status


def test_pushes_are_throttled_but_the_first_point_comes_at_once():
    runner, batches, status = collecting_runner(interval=0.1)
    start = time.perf_counter()
    first_seen = []
    runner.on_batch = lambda batch: (first_seen.append(time.perf_counter() - start) if not batches else None,
                                     batches.append(batch))
    runner.start(slow_steps("a", 300), "a")
    assert runner.wait(10)
    steps = sum(isinstance(e, StepEvent) for batch in batches for _, e in batch)
    assert steps == 300
    assert len(batches) < 20  # ~0.6 s of work at ten pushes a second, not 300 pushes
    assert first_seen[0] < 0.05
    assert status.kind == "success" and "test accuracy 50.0%" in status.text


def test_later_evaluations_wait_for_the_next_push_and_the_end_comes_at_once():
    def evaluated_every_step(cancel):
        for step in range(1, 201):
            time.sleep(0.002)
            yield "a", StepEvent(step, 1.0 / step, {})
            yield "a", EvalEvent(step, {"dev_accuracy": 0.5})
        yield "a", DoneEvent(200, False, 0.4, {})

    runner, batches, _ = collecting_runner(interval=0.1, plots_evaluations=True)
    runner.start(evaluated_every_step, "a")
    assert runner.wait(10)
    assert len(batches) < 12  # ~0.4 s at ten pushes a second, not one push per evaluation
    # the first step, then the first evaluation at once: a view that plots evaluations shows the run at once
    assert [type(e) for _, e in batches[0]] == [StepEvent] and [type(e) for _, e in batches[1]] == [EvalEvent]
    assert sum(isinstance(e, EvalEvent) for batch in batches for _, e in batch) == 200
    assert isinstance(batches[-1][-1][1], DoneEvent) and len(batches[-1]) < 120
    runner, batches, _ = collecting_runner(interval=0.1)  # curves drawn from steps: no push for the evaluation
    runner.start(evaluated_every_step, "a")
    assert runner.wait(10) and [type(e) for _, e in batches[1][:2]] == [EvalEvent, StepEvent]


def test_a_new_job_cancels_the_old_one_and_its_late_updates_are_dropped():
    runner, batches, status = collecting_runner(interval=0.01)
    runner.start(slow_steps("old", 10_000), "old")
    time.sleep(0.05)
    old_job = runner._job
    runner.start(slow_steps("new", 20), "new")
    assert old_job.cancel.is_set()
    assert runner.wait(10)
    old_job.thread.join(5)
    labels = [label for batch in batches for label, _ in batch]
    last_old = max(i for i, label in enumerate(labels) if label == "old")
    assert all(label == "new" for label in labels[last_old + 1:])
    assert "Finished new" in status.text


def test_stop_ends_a_run_at_once():
    runner, _, status = collecting_runner()
    runner.start(slow_steps("long", 100_000), "long")
    time.sleep(0.05)
    began = time.perf_counter()
    runner.stop()
    assert runner.wait(2)
    assert time.perf_counter() - began < 0.5
    assert status.text.startswith("Stopped long after") and status.kind == "info"


def test_errors_reach_the_status_line():
    runner, _, status = collecting_runner()

    def broken(cancel):
        yield "x", StepEvent(1, 1.0, {})
        raise ValueError("The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead.")

    runner.start(broken, "x")
    assert runner.wait(5)
    assert status.kind == "error"
    assert status.text == "Error: ValueError: The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead."
    assert "Traceback" in runner.last_error


def test_divergence_stays_on_screen_after_the_run_ends():
    runner, _, status = collecting_runner()

    def diverging(cancel):
        yield "big", StepEvent(1, 0.7, {})
        yield "big", DivergedEvent(2, float("nan"), "Cost became NaN at step 2 — try a smaller learning rate.")
        yield "big", DoneEvent(2, False, 0.0, {})

    runner.start(diverging, "big")
    assert runner.wait(5)
    assert status.kind == "warning"
    assert status.text == "big: Cost became NaN at step 2 — try a smaller learning rate."


def test_describe_metrics():
    assert describe_metrics({"train_accuracy": 0.973, "cost": 0.1234567}) == "train accuracy 97.3%, cost 0.1235"


def test_runner_threads_are_daemons():
    runner, _, _ = collecting_runner()
    runner.start(slow_steps("d", 5), "d")
    assert runner._job.thread.daemon and isinstance(runner._job.cancel, threading.Event)
    runner.wait(5)


def test_setup_runs_after_the_old_job_has_lost_the_views():
    runner, batches, _ = collecting_runner(interval=0.0)
    runner.start(slow_steps("old", 100_000, delay=0.0), "old")
    time.sleep(0.02)
    seen_at_setup = []
    runner.start(slow_steps("new", 5), "new", setup=lambda: seen_at_setup.append(len(batches)))
    assert runner.wait(5)
    assert all(label == "new" for batch in batches[seen_at_setup[0]:] for label, _ in batch)
