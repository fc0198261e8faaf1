"""Benchmark for lab 17 (not collected by pytest): `python tests/benchmarks/bench_sequence_models.py [--quick]`.

Prints
- one backward pass through T = 100 steps (float64, as lab 17's view takes it) written out by hand
  (lab.through_time) and through autograd, per cell: median ms and the ratio;
- the kernel time of every control of the gradients-through-time view (one change: backward through T steps,
  the redraw, the widget messages encoded as a kernel would), median and p95. Target: p95 well under 100 ms;
- the recall task at the lab's default settings (α = 0.02, memory gate bias 3, 500 steps): held-out accuracy of
  each cell against the distance T (and at T = 80 with bias 5, at T = 40 with bias 0), and the seconds per run;
- the name model at the lab's default settings (GRU, 64 units, α = 0.01, batch 64, surnames), trained for 60 s
  of wall time: steps done, dev cost per letter, and of 1,000 samples at temperature 1 the share that reads as
  a name, copies a training name, and hits a dev name the model never saw;
- steps per second of each cell on the recall task and the name model, on this machine's device.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
import torch  # noqa: E402
from control_timing import SerializingComm, report, time_changes  # noqa: E402

from lab.device import configure_threads, select_device  # noqa: E402
from lab.name_model import NameTraining  # noqa: E402
from lab.recall_task import RecallTraining  # noqa: E402
from lab.sequence import hidden_of, make_cell  # noqa: E402
from lab.through_time import backprop_through_time  # noqa: E402
from lab.training import EvalEvent, train  # noqa: E402

CELLS = ("rnn", "gru", "lstm")


def through_autograd(cell, xs: torch.Tensor) -> None:
    """The same pass taken by autograd: the cell's steps recorded, then one backward for every state and parameter."""
    states, state = [], None
    for gi in cell.project(xs):
        state = cell.step(gi, state)
        states.append(state)
    hiddens = [hidden_of(s) for s in states]
    memories = [s[1] for s in states] if isinstance(states[0], tuple) else []
    torch.autograd.grad(0.5 * (hiddens[-1] ** 2).sum(), hiddens + memories + list(cell.parameters()))


def median_ms(run, repeats: int) -> float:
    run()  # once before timing
    spent = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        spent.append(1000 * (time.perf_counter() - start))
    return statistics.median(spent)


def by_hand_against_autograd(repeats: int) -> None:
    """The pass of lab 17's view (`gradients_through_time`): every state's and parameter's gradient."""
    print("Backward through T = 100 steps in float64 (32 units, batch 4): by hand vs autograd, median ms")
    for kind in (*CELLS, "gru_course"):
        cell = make_cell(kind, 8, 32, dtype=torch.float64)
        xs = torch.randn(100, 4, 8, dtype=torch.float64)
        by_hand = median_ms(functools.partial(backprop_through_time, cell, xs, lambda last: last), repeats)
        autograd = median_ms(functools.partial(through_autograd, cell, xs), repeats)
        print(f"  {kind:>10}: by hand {by_hand:5.1f}   autograd {autograd:5.1f}   "
              f"autograd / by hand {autograd / by_hand:4.1f}×")


def gradient_view(repeats: int) -> None:
    comm.create_comm = SerializingComm
    from widgets.dashboards import sequence_models
    from widgets.dashboards.sequence_models import gradients_through_time_dashboard

    # the view remembers settings seen before (the moves below repeat): timed here, every change takes its pass
    sequence_models.remembered_gradients = sequence_models.gradients_through_time
    print("Gradients through time: kernel time of one change, every pass computed anew (ms)")
    dashboard = gradients_through_time_dashboard()
    moves = {"rnn_cell": ["rnn", "lstm", "gru_course", "gru"], "sequence_length": [150, 120, 180, 200],
             "rnn_init_factor": [0.5, 3.0, 5.0, 1.0], "gate_bias": [2.0, 4.0, 6.0, 0.0],
             "clip_norm": [1.0, 5.0, 10.0, 0.0]}
    dashboard.controls["sequence_length"].value = 200  # the longest the slider offers: the slowest redraw
    for name, values in moves.items():
        wall, cpu = time_changes(dashboard.controls[name], values, repeats)
        report(f"  {name}", wall, cpu)


def recall_table(rows: list[tuple[int, float]], steps: int, device) -> None:
    print(f"\nRecall after T steps: held-out accuracy after {steps} steps (α=0.02), seconds per run")
    print(f"  {'T':>4} {'gate bias':>9}" + "".join(f"{c:>16}" for c in CELLS))
    for distance, bias in rows:
        cells = []
        for kind in CELLS:
            start = time.perf_counter()
            task = RecallTraining(kind, distance, lr=0.02, gate_bias=bias, device=device)
            *_, done = train(task, steps, blowup_ratio=None)
            cells.append(f"{done.metrics['accuracy']:6.1%} {time.perf_counter() - start:5.1f} s")
        print(f"  {distance:>4} {bias:>9g}" + "".join(f"{c:>16}" for c in cells), flush=True)


def name_model(seconds: float, device) -> None:
    print(f"\nName model (GRU, 64 units, α=0.01, batch 64, surnames), trained for {seconds:.0f} s")
    task = NameTraining("gru", device=device)
    start, steps = time.perf_counter(), 0
    for event in train(task, 100_000, eval_every=500, blowup_ratio=None):
        if isinstance(event, EvalEvent):
            print(f"  step {event.step:>5}  dev cost {event.metrics['dev_cost']:.3f}  "
                  f"{time.perf_counter() - start:5.1f} s", flush=True)
        steps = getattr(event, "step", steps)
        if time.perf_counter() - start > seconds:
            break
    report_ = task.sample_report(task.model.sample(1000, 1.0, seed=1))
    print(f"  after {steps} steps: {report_['pronounceable']:.1%} of 1,000 samples read as names, "
          f"{report_['copies']:.1%} copy a training name, {report_['dev_hits']:.1%} are dev names it never saw "
          f"(composing rather than reciting gives copies ≈ 9 × that = {9 * report_['dev_hits']:.1%})")
    print("  samples:", ", ".join(task.model.sample(12, 1.0, seed=7)))


def step_rates(device) -> None:
    print(f"\nTraining steps per second on {device}")
    for kind in CELLS:
        recall = RecallTraining(kind, 40, device=device)
        names = NameTraining(kind, device=device)
        rates = []
        for task in (recall, names):
            task.step()
            start = time.perf_counter()
            for _ in range(30):
                task.step()
            rates.append(30 / (time.perf_counter() - start))
        print(f"  {kind:>5}: recall (T=40, batch 64) {rates[0]:6.1f}/s   names (batch 64) {rates[1]:6.1f}/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats and distances, 20 s for the names")
    args = parser.parse_args()
    configure_threads()
    device = select_device()
    by_hand_against_autograd(8 if args.quick else 20)
    gradient_view(8 if args.quick else 20)
    rows = [(40, 3.0), (40, 0.0)] if args.quick else [(5, 3.0), (10, 3.0), (20, 3.0), (40, 3.0), (80, 3.0),
                                                       (80, 5.0), (40, 0.0)]
    recall_table(rows, 500, device)
    name_model(20 if args.quick else 60, device)
    step_rates(device)


if __name__ == "__main__":
    main()
