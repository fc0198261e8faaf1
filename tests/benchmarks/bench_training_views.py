"""What streaming costs in every training dashboard, and how soon a run's first point is drawn.

Not collected by pytest. Run it by hand:

    .venv/bin/python tests/benchmarks/bench_training_views.py [--repeats 3] [--max-seconds 15] [--only 04 07]

Each dashboard of labs 01, 04, 05, 07, 14 and 18 that trains is built as the notebook builds it, and its Train
button is pressed (the Stop button ends a run after --max-seconds). Widget messages are serialized to JSON the
way a kernel does before sending them, so the cost of pushing updates is the real one. For every run:

- first point: from the click to the end of the first push of events to the plots (the kernel side of the
  first-point latency; `bench_voila.py` times the same in the browser, ≤ 250 ms is the target there);
- streaming cost: time the worker thread spent in the pushes while the run went on (folding events into the
  history, redrawing the plots, updating the status line, serializing the messages) divided by the rest of the
  run (the training loop) — the pushes run on the training thread, so this is exactly what streaming adds to
  the bare loop (≤ 10 %);
- end of run: the last push, which also draws the run's results (misclassified photos, export links, the
  trained weights …) once; shown apart, in ms, because it does not grow with the run.

`bench_runner_overhead.py` checks the same for lab 07 as an A/B comparison with the loop iterated bare.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
from control_timing import SerializingComm  # noqa: E402

from lab.device import configure_threads, describe_device, select_device  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    factory: str  # "module:function"
    button: str = "train"  # the key of the button that starts a run in `Dashboard.controls`


CASES = [
    Case("01 learning rate", "widgets.dashboards.logistic_regression:learning_rate_dashboard"),
    Case("01 vector α", "widgets.dashboards.logistic_regression:vector_learning_rate_dashboard"),
    Case("04 deep network + init", "widgets.dashboards.deep_networks_initialization:deep_init_dashboard"),
    Case("05 regularization", "widgets.dashboards.bias_variance_regularization:regularization_dashboard"),
    Case("05 decision boundary", "widgets.dashboards.bias_variance_regularization:boundary_dashboard"),
    Case("07 batch size", "widgets.dashboards.optimization:batch_size_dashboard"),
    Case("07 optimizers", "widgets.dashboards.optimization:optimizer_dashboard"),
    Case("07 loss surface (paced)", "widgets.dashboards.optimization:loss_surface_dashboard"),
    Case("07 notes' mistakes", "widgets.dashboards.optimization:notes_mistakes_dashboard"),
    Case("14 YOLO detector", "widgets.dashboards.object_detection_yolo:detector_dashboard"),
    Case("18 skip-gram", "widgets.dashboards.word_embeddings:skipgram_dashboard"),
]


@dataclass
class Run:
    first_point: float  # s from the click to the end of the first push
    pushing: float  # s spent in the pushes before the last one
    last_push: float  # s of the last push (the end of the run and its results)
    pushes: int
    wall: float  # s from the click to the end of the run


def measure(dashboard, button: str, max_seconds: float) -> Run:
    runner = dashboard.runner
    original_push = runner._push
    durations, first = [], [0.0]

    def timed_push(job, batch):
        if not batch:
            return original_push(job, batch)  # nothing to draw: not a push
        start = time.perf_counter()
        original_push(job, batch)
        durations.append(time.perf_counter() - start)
        if len(durations) == 1:
            first[0] = time.perf_counter() - clicked

    runner._push = timed_push
    try:
        clicked = time.perf_counter()
        dashboard.controls[button].click()
        if not runner.wait(max_seconds):
            dashboard.controls["stop"].click()
            runner.wait(120)
        wall = time.perf_counter() - clicked
    finally:
        runner._push = original_push
    if runner.last_error:
        raise RuntimeError(runner.last_error)
    return Run(first[0], sum(durations[:-1]), durations[-1], len(durations), wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per dashboard (the first one is a warm-up)")
    parser.add_argument("--max-seconds", type=float, default=15.0, help="press Stop after this long")
    parser.add_argument("--only", nargs="*", default=None, help="lab numbers or name parts to keep, e.g. 04 07")
    args = parser.parse_args()
    comm.create_comm = SerializingComm  # ipywidgets looks it up at each widget's creation
    configure_threads()
    print(f"{describe_device(select_device())}; {args.repeats} runs per dashboard, the first one not counted; "
          f"each stopped after {args.max_seconds:g} s")
    print(f"{'dashboard':<26} {'first point (ms)':>18} {'pushes':>7} {'pushing (ms)':>13} {'loop (s)':>9} "
          f"{'streaming cost':>15} {'end of run (ms)':>16} {'MB/run':>8}")
    for case in CASES:
        if args.only and not any(part in case.name for part in args.only):
            continue
        module, function = case.factory.split(":")
        dashboard = getattr(importlib.import_module(module), function)()
        runs = []
        for _ in range(args.repeats):
            SerializingComm.sent_bytes = 0
            runs.append(measure(dashboard, case.button, args.max_seconds))
        counted = runs[1:] or runs
        costs = [r.pushing / max(r.wall - r.pushing - r.last_push, 1e-9) for r in counted]
        print(f"{case.name:<26} {statistics.median(r.first_point for r in counted) * 1e3:9.0f} "
              f"(≤{max(r.first_point for r in counted) * 1e3:5.0f}) "
              f"{statistics.median(r.pushes for r in counted):7.0f} "
              f"{statistics.median(r.pushing for r in counted) * 1e3:13.0f} "
              f"{statistics.median(r.wall - r.pushing - r.last_push for r in counted):9.2f} "
              f"{statistics.median(costs) * 100:14.1f}% {statistics.median(r.last_push for r in counted) * 1e3:16.0f} "
              f"{SerializingComm.sent_bytes / 1e6:8.2f}", flush=True)


if __name__ == "__main__":
    main()
