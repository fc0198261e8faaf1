"""How responsive is the Runner? The timings that used to be assertions in tests/widgets/test_runner.py.

Not collected by pytest (the file name does not start with test_). Run it by hand, on a quiet machine:

    .venv/bin/python tests/benchmarks/bench_runner.py [--repeats 15] [--dashboard] [--strict]

For each figure it prints the median and the 95th percentile over the repeats, and the target it used to be
asserted against:

- first push: from `runner.start` to the first `on_batch` (the first point drawn); target < 50 ms.
- stop: from `runner.stop()` to the job's thread having ended, with the status saying "Stopped …"; target < 0.5 s.
- pushes per second under the throttle (interval 0.1 s): about ten, plus the urgent first step and end; and the
  pushes for a 300-step job of 2 ms steps (it was asserted < 20).
- with --dashboard, the same on lab 01's learning-rate dashboard: a slider change → the first cost point on the
  plot, and Stop → the job's end (real training, real redraws).

`--strict` exits with status 1 when a median misses its target (for a CI job on a dedicated runner).
The jobs here sleep between steps (like the old tests) so that they measure the Runner, not the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lab.training import DoneEvent, StepEvent  # noqa: E402
from widgets.runner import Runner  # noqa: E402
from widgets.status import StatusLine  # noqa: E402

STEP_SECONDS = 0.002


def sleepy_steps(label: str, n: int, delay: float = STEP_SECONDS):
    def work(cancel: threading.Event):
        for step in range(1, n + 1):
            if cancel.is_set():
                yield label, DoneEvent(step - 1, True, 0.0)
                return
            time.sleep(delay)
            yield label, StepEvent(step, 1.0 / step, {"w": 1.0})
        yield label, DoneEvent(n, False, n * delay, {"test_accuracy": 0.5})
    return work


def first_push_seconds() -> float:
    """From start() to the end of the first on_batch."""
    first: list[float] = []
    runner = Runner(StatusLine(), lambda batch: first.append(time.perf_counter()) if not first else None)
    began = time.perf_counter()
    runner.start(sleepy_steps("a", 50), "a")
    if not runner.wait(60):
        raise RuntimeError("the job did not end")
    return first[0] - began


def stop_seconds() -> float:
    """From stop() to the job's thread having ended, after the job has run for 50 ms."""
    status = StatusLine()
    runner = Runner(status, lambda batch: None)
    runner.start(sleepy_steps("long", 1_000_000), "long")
    time.sleep(0.05)
    began = time.perf_counter()
    runner.stop()
    if not runner.wait(60):
        raise RuntimeError("the stopped job did not end")
    seconds = time.perf_counter() - began
    if not status.text.startswith("Stopped long after"):
        raise RuntimeError(f"unexpected status after stop: {status.kind}: {status.text}")
    return seconds


def pushes_per_second(duration: float = 1.0) -> float:
    """Pushes a second for a job of 2 ms steps under the default throttle, over `duration` seconds."""
    pushes: list[float] = []
    runner = Runner(StatusLine(), lambda batch: pushes.append(time.perf_counter()), interval=0.1)
    began = time.perf_counter()
    runner.start(sleepy_steps("a", 10_000_000), "a")
    time.sleep(duration)
    runner.stop()
    if not runner.wait(60):
        raise RuntimeError("the job did not end")
    inside = [t for t in pushes if t - began <= duration]
    return len(inside) / duration


def pushes_for_300_steps() -> int:
    batches: list = []
    runner = Runner(StatusLine(), batches.append, interval=0.1)
    runner.start(sleepy_steps("a", 300), "a")
    if not runner.wait(60):
        raise RuntimeError("the job did not end")
    return len(batches)


def dashboard_figures(repeats: int) -> tuple[list[float], list[float]]:
    """Lab 01's learning-rate dashboard: slider change → first cost point drawn; Stop → the job's end."""
    from widgets.dashboards.logistic_regression import learning_rate_dashboard

    dashboard = learning_rate_dashboard()
    lr = dashboard.controls["lr"]
    dashboard.controls["num_iterations"].value = dashboard.controls["num_iterations"].max
    dashboard.runner.stop()
    dashboard.runner.wait(60)
    firsts, stops = [], []
    values = [0.001, 0.002]
    for i in range(repeats):
        costs = dashboard.figures["costs"]
        dashboard.controls["clear"].click()  # an earlier run with the same label must not count as drawn
        began = time.perf_counter()
        lr.value = values[i % 2]
        label = dashboard.panel.run.label
        while not any(t.meta == label and t.y is not None and len(t.y) for t in costs.data):
            if time.perf_counter() - began > 60:
                raise RuntimeError("no cost point drawn within 60 s")
            time.sleep(0.001)
        firsts.append(time.perf_counter() - began)
        time.sleep(0.2)
        began = time.perf_counter()
        dashboard.controls["stop"].click()
        if not dashboard.runner.wait(60):
            raise RuntimeError("the stopped run did not end")
        stops.append(time.perf_counter() - began)
    return firsts, stops


def summary(name: str, values: list[float], unit: str, scale: float, target: float | None, below: bool = True):
    values = sorted(values)
    median = statistics.median(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    verdict = ""
    missed = False
    if target is not None:
        missed = median >= target if below else median < target
        verdict = f"  target {'<' if below else '≥'} {target * scale:g} {unit}: {'MISSED' if missed else 'ok'}"
    print(f"{name:<42} median {median * scale:8.1f} {unit}   p95 {p95 * scale:8.1f} {unit}   "
          f"(n={len(values)}){verdict}")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dashboard", action="store_true", help="also time lab 01's learning-rate dashboard")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a median misses its target")
    args = parser.parse_args()
    first_push_seconds(), stop_seconds()  # warm up: imports, thread start
    missed = False
    missed |= summary("first push (start → first on_batch)", [first_push_seconds() for _ in range(args.repeats)],
                      "ms", 1e3, 0.050)
    missed |= summary("stop (stop() → job ended)", [stop_seconds() for _ in range(args.repeats)], "ms", 1e3, 0.5)
    rates = [pushes_per_second() for _ in range(max(3, args.repeats // 3))]
    missed |= summary("pushes per second under the 0.1 s throttle", rates, "/s", 1, 13.0)
    counts = [pushes_for_300_steps() for _ in range(max(3, args.repeats // 3))]
    missed |= summary("pushes for 300 steps of 2 ms", [float(c) for c in counts], "", 1, 20.0)
    if args.dashboard:
        firsts, stops = dashboard_figures(args.repeats)
        missed |= summary("lab 01: slider → first cost point", firsts, "ms", 1e3, 0.5)
        missed |= summary("lab 01: Stop → run ended", stops, "ms", 1e3, 0.5)
    if args.strict and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
