"""How much does streaming through the Runner cost over iterating `lab.training.train` directly?

Not collected by pytest (the file name does not start with test_). Run it by hand:

    .venv/bin/python tests/benchmarks/bench_runner_overhead.py [--steps 400] [--repeats 7]

Both sides train the same MLP on the digits (lab 07's task) for the same number of mini-batch steps.
The runner side uses `widgets.runner.Runner` with an on_batch that does what the optimizer dashboard
does: fold the events into a RunHistory, redraw the cost curve (x in epochs) and the gradient-norm
plot inside `batch_update()`. Runs alternate (bare, runner, bare, …) so that load on a shared machine
hits both alike; the medians are compared. Target: overhead ≤ 10%.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from lab.data.digits import load_digits  # noqa: E402
from lab.history import RunHistory  # noqa: E402
from lab.optimization import MiniBatchTraining  # noqa: E402
from lab.training import train  # noqa: E402
from widgets.dashboard import lab_device  # noqa: E402
from widgets.runner import Runner  # noqa: E402
from widgets.status import StatusLine  # noqa: E402
from widgets.views.cost_curves import CostCurves  # noqa: E402
from widgets.views.gradient_norms import GradientNorms  # noqa: E402


def make_task(data, batch_size: int) -> MiniBatchTraining:
    return MiniBatchTraining(data, batch_size=batch_size, optimizer="adam", lr=0.01, seed=0)


def bare(data, batch_size: int, steps: int) -> float:
    """The loop alone, iterated in a worker thread like the Runner's (torch's CPU threading can differ
    between the main thread and others, so both sides must run in the same kind of thread)."""
    task = make_task(data, batch_size)
    elapsed = [0.0]

    def loop() -> None:
        start = time.perf_counter()
        for _ in train(task, steps, eval_every=task.steps_per_epoch):
            pass
        elapsed[0] = time.perf_counter() - start

    thread = threading.Thread(target=loop)
    thread.start()
    thread.join()
    return elapsed[0]


def streamed(data, batch_size: int, steps: int, gradients: bool = True) -> tuple[float, float, int, float]:
    """Wall time through the Runner, time spent inside on_batch, batches pushed, and the delay from
    `runner.start` to the end of the first on_batch (the first point drawn)."""
    costs, grads = CostCurves(), GradientNorms()
    label = "bench"
    history = RunHistory(label, {})
    task = make_task(data, batch_size)
    spent, pushes, first = [0.0], [0], [0.0]

    def on_batch(items) -> None:  # what _DigitsRuns._on_batch does, plus the gradient plot
        t0 = time.perf_counter()
        for _, event in items:
            history.record(event)
        costs.update_run(label, [s / task.steps_per_epoch for s in history.steps], history.costs)
        if gradients:
            grads.show(history.steps, history.grad_norms)
        spent[0] += time.perf_counter() - t0
        pushes[0] += 1
        if pushes[0] == 1:
            first[0] = time.perf_counter() - start

    runner = Runner(StatusLine(), on_batch)

    def work(cancel):
        for event in train(task, steps, cancel=cancel, eval_every=task.steps_per_epoch):
            yield label, event

    start = time.perf_counter()  # read by on_batch for the first-point delay
    runner.start(work, label, setup=lambda: costs.add_run(label))
    runner.wait(600)
    elapsed = time.perf_counter() - start
    assert len(history.steps) == steps and isinstance(history, RunHistory)
    return elapsed, spent[0], pushes[0], first[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 128])
    parser.add_argument("--no-gradient-plot", action="store_true",
                        help="on_batch redraws only the cost curve, as lab 07's dashboards do")
    args = parser.parse_args()
    device = lab_device()
    data = load_digits().to(device)
    print(f"device: {device} ({torch.get_num_threads()} CPU threads), steps per run: {args.steps}, "
          f"repeats: {args.repeats}, on_batch redraws: cost curve"
          + ("" if args.no_gradient_plot else " + gradient norms"))
    for batch_size in args.batch_sizes:
        bare(data, batch_size, 20), streamed(data, batch_size, 20)  # warm up both paths
        b, s, inside, pushes, firsts = [], [], [], [], []
        for _ in range(args.repeats):
            b.append(bare(data, batch_size, args.steps))
            elapsed, spent, pushed, first = streamed(data, batch_size, args.steps, not args.no_gradient_plot)
            firsts.append(first)
            s.append(elapsed)
            inside.append(spent)
            pushes.append(pushed)
        mb, ms = statistics.median(b), statistics.median(s)
        print(f"batch {batch_size:>5}: bare loop {mb * 1e3:8.1f} ms ({mb / args.steps * 1e3:.3f} ms/step), "
              f"through Runner {ms * 1e3:8.1f} ms → overhead {(ms / mb - 1) * 100:+5.1f}% "
              f"(on_batch {statistics.median(inside) * 1e3:.1f} ms in {statistics.median(pushes):.0f} pushes; "
              f"min-based {(min(s) / min(b) - 1) * 100:+.1f}%); first point drawn after "
              f"{statistics.median(firsts) * 1e3:.0f} ms (median), {max(firsts) * 1e3:.0f} ms (worst)")


if __name__ == "__main__":
    main()
