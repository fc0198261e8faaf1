"""Benchmark for lab 11 (not collected by pytest): `python tests/benchmarks/bench_ml_strategy.py [--quick]`.

Prints
- the kernel time of every non-training control (threshold, latency limit, human-level error, mistake browser and
  tags), once its dashboard has trained: median and p95 in ms (target p95 ≤ 100 ms);
- transfer vs scratch: held-out 5–9 accuracy at n = 10, 50, 200 for the three modes (mean of 3 seeds), the
  one-off pre-training time and the time per fine-tuning run;
- multi-task vs four separate networks: mean held-out accuracy at 40 / 100 / 400 digits, 0% and 60% missing;
- the table human → train → train-dev → dev → test at the default distortions, and train time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
from control_timing import SerializingComm, report, time_changes  # noqa: E402

from lab.device import configure_threads, select_device  # noqa: E402
from lab.multitask import STEPS, MultiTaskTraining  # noqa: E402
from lab.training import train  # noqa: E402
from lab.transfer import MODES, fine_tuning, pretrained_hidden  # noqa: E402


def trained(board):
    board.controls["train"].click()
    time.sleep(0.2)
    assert board.runner.wait(600)
    return board


def control_times(repeats: int) -> None:
    comm.create_comm = SerializingComm
    from widgets.dashboards.ml_strategy import satisficing_dashboard, threshold_dashboard
    from widgets.dashboards.ml_strategy_mismatch import error_analysis_dashboard, mismatch_dashboard

    print("Non-training controls: kernel time of one change (ms)")
    board = trained(threshold_dashboard())
    report("  threshold t", *time_changes(board.controls["decision_threshold"], [0.1, 0.3, 0.7, 0.9], repeats))
    board = trained(satisficing_dashboard())
    report("  latency limit", *time_changes(board.controls["latency_limit_ms"], [0.05, 0.3, 3.0, 30.0], repeats))
    board = trained(mismatch_dashboard())
    report("  human-level error", *time_changes(board.controls["human_level_error"], [0, 5, 10, 15], repeats))
    board = trained(error_analysis_dashboard())
    report("  mistake browser", *time_changes(board.controls["mistake"], [1, 5, 9, 2], repeats))
    report("  tag a mistake", *time_changes(board.controls["tag blur"], [True, False], repeats))


def transfer_table(seeds: int, device) -> None:
    start = time.perf_counter()
    pretrained_hidden(64, device)
    print(f"\nTransfer (64 hidden units, 150 full-batch steps): pre-training on 0–4 took "
          f"{time.perf_counter() - start:.2f} s (once)")
    print(f"  {'n':>4}" + "".join(f"{name:>28}" for name in MODES.values()))
    for n in (10, 50, 200):
        cells = []
        for mode in MODES:
            accs, start = [], time.perf_counter()
            for seed in range(seeds):
                *_, done = train(fine_tuning(mode, n, 64, seed, device), 150)
                accs.append(done.metrics["accuracy"])
            per_run = (time.perf_counter() - start) / seeds
            cells.append(f"{sum(accs) / len(accs):6.1%} ({per_run:.2f} s/run)")
        print(f"  {n:>4}" + "".join(f"{c:>28}" for c in cells), flush=True)


def multitask_table(seeds: int, device) -> None:
    print(f"\nMulti-task: mean held-out accuracy of the four labels, {STEPS} Adam steps, mean of {seeds} seeds")
    print(f"  {'digits':>6} {'missing':>7} {'one network':>12} {'4 separate':>11}")
    for n in (40, 100, 400):
        for missing in (0.0, 0.6):
            cells = []
            for shared in (True, False):
                accs = [list(train(MultiTaskTraining(shared, n, missing, s, device), STEPS))[-1].metrics[
                    "mean_accuracy"] for s in range(seeds)]
                cells.append(sum(accs) / len(accs))
            print(f"  {n:>6} {missing:>7.0%} {cells[0]:>12.1%} {cells[1]:>11.1%}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds")
    args = parser.parse_args()
    configure_threads()
    device = select_device()
    print(f"device: {device}")
    control_times(5 if args.quick else 20)
    transfer_table(1 if args.quick else 3, device)
    multitask_table(1 if args.quick else 3, device)


if __name__ == "__main__":
    main()
