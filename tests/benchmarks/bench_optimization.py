"""Lab 07's batch-size figure: compute seconds per epoch of the digits MLP for batch sizes 1, 64 and m.

Not collected by pytest (the file name does not start with test_). Run it by hand:

    .venv/bin/python tests/benchmarks/bench_optimization.py [--epochs 3] [--device cpu]

Each batch size trains a fresh MLP (lab.optimization.MiniBatchTraining, gradient descent, α = 0.1) for
--epochs epochs after one warm-up epoch, as the batch-size dashboard does. It prints, per batch size, the steps
per epoch, the compute seconds per epoch (time inside step(), what the dashboard's bar chart shows) and the wall
seconds per epoch of the whole training loop, then the ratios to batch gradient descent (batch size m).
Expected: one epoch of batch size 1 (m steps of one example) costs far more than one of batch size m (a
single step over all m), and 64 lies between them: the per-step overhead dominates on small batches.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lab.data.digits import load_digits  # noqa: E402
from lab.device import configure_threads, describe_device, select_device  # noqa: E402
from lab.optimization import MiniBatchTraining  # noqa: E402
from lab.training import train  # noqa: E402


def seconds_per_epoch(data, batch_size: int, epochs: int) -> tuple[int, float, float]:
    """(steps per epoch, compute seconds per epoch, wall seconds per epoch) over `epochs` epochs, after a
    warm-up epoch on the same model."""
    task = MiniBatchTraining(data, batch_size=batch_size, optimizer="gd", lr=0.1)
    per_epoch = task.steps_per_epoch
    for _ in train(task, per_epoch, eval_every=per_epoch, blowup_ratio=None):  # warm-up: allocations, kernels, caches
        pass
    task.compute_seconds, task.steps_done = 0.0, 0
    start = time.perf_counter()
    # blowup_ratio=None: a single example's cost may well jump tenfold; this measures speed, not convergence
    for _ in train(task, epochs * per_epoch, eval_every=per_epoch, blowup_ratio=None):
        pass
    return per_epoch, task.seconds_per_epoch(), (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs measured per batch size (after a warm-up)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the lab's choice)")
    args = parser.parse_args()

    threads = configure_threads()
    device = select_device(args.device)
    data = load_digits().to(device)
    m = data.X_train.shape[1]
    print(f"device: {describe_device(device)} (torch threads: {threads}); m = {m} training digits; "
          f"{args.epochs} epochs per batch size after one warm-up epoch")
    results = {}
    for batch_size in (1, 64, m):
        steps, compute, wall = seconds_per_epoch(data, batch_size, args.epochs)
        results[batch_size] = compute
        print(f"batch {batch_size:>5}: {steps:>5} steps per epoch, {compute * 1e3:8.1f} ms compute per epoch, "
              f"{wall * 1e3:8.1f} ms wall per epoch ({compute / steps * 1e6:7.1f} µs per step)")
    print(f"ratio batch 1 / batch {m}:  {results[1] / results[m]:6.1f}×  (one epoch of SGD vs one of batch GD)")
    print(f"ratio batch 64 / batch {m}: {results[64] / results[m]:6.1f}×")
    print(f"ratio batch 1 / batch 64:   {results[1] / results[64]:6.1f}×")


if __name__ == "__main__":
    main()
