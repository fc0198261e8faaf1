"""Each training lab's step time on the CPU and on CUDA, in the same run, with the ratio.

Needs only torch, numpy, scikit-learn and scikit-image (no plotly, no widgets, no GloVe): `.ci/gpu-check` runs it on
a bare GPU machine. Without CUDA it prints the CPU column and says that the CUDA half was skipped.

    python tests/benchmarks/bench_devices.py [--steps 30] [--only 04 07]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from lab_tasks import LAB_TASKS, ON_THE_CPU_BY_DESIGN  # noqa: E402

from lab.device import configure_threads, describe_device  # noqa: E402


def step_seconds(task, device: torch.device, steps: int) -> float:
    """Median seconds per `task.step()`, after a few warm-up steps (kernels compiled, caches filled)."""
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(3):
        task.step()
    sync()
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        cost, _ = task.step()
        float(cost)  # the loop reads the cost every step: include that host sync
        sync()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per lab and device")
    parser.add_argument("--only", nargs="*", default=None, help="lab numbers or name parts to keep")
    args = parser.parse_args()
    configure_threads()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print("devices: " + "; ".join(describe_device(d) for d in devices))
    if len(devices) == 1:
        print("CUDA is not available here: the CUDA column is skipped (run .ci/gpu-check on a GPU machine).")
    print(f"{'lab':<26} {'one step':<26} {'CPU ms':>8} {'CUDA ms':>8} {'CPU / CUDA':>10}")
    for case in LAB_TASKS:
        name, what = case.lab, case.step
        if args.only and not any(part in name for part in args.only):
            continue
        ms = [step_seconds(case.build(device), device, args.steps) * 1e3 for device in devices]
        cuda = f"{ms[1]:8.2f} {ms[0] / ms[1]:9.1f}×" if len(ms) > 1 else f"{'—':>8} {'—':>10}"
        print(f"{name:<26} {what:<26} {ms[0]:8.2f} {cuda}", flush=True)
    print(ON_THE_CPU_BY_DESIGN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
