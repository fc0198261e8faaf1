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
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lab.data.digits import load_digits, load_digits_parity  # noqa: E402
from lab.data.faces import load_faces  # noqa: E402
from lab.deep_network import DeepNetwork, DeepNetworkTask  # noqa: E402
from lab.device import configure_threads, describe_device  # noqa: E402
from lab.logistic import LogisticRegression  # noqa: E402
from lab.optimization import MiniBatchTraining  # noqa: E402
from lab.seeding import make_generator  # noqa: E402
from lab.yolo import DetectorConfig, DetectorTraining  # noqa: E402


def logistic(device: torch.device):
    return LogisticRegression(load_faces().to(device), 0.005, "cross_entropy")


def deep_network(device: torch.device):
    data = load_digits_parity().to(device)
    network = DeepNetwork([64] + [16] * 7 + [1], "tanh", "he", generator=make_generator(0, device), device=device)
    return DeepNetworkTask(network, data.X_train, data.Y_train, 0.1)


def regularized(device: torch.device):
    data = load_digits_parity(sizes=(100, 400, 400)).to(device)
    network = DeepNetwork([64, 64, 64, 1], "relu", "he", generator=make_generator(0, device), device=device)
    return DeepNetworkTask(network, data.X_train, data.Y_train, 0.2, lambd=0.5, keep_prob=0.8)


def mini_batches(device: torch.device):
    return MiniBatchTraining(load_digits().to(device), batch_size=128, optimizer="adam", lr=0.001)


def detector(device: torch.device):
    return DetectorTraining(DetectorConfig(), device)


# (lab, what one step is, how to build the task on a device)
CASES: list[tuple[str, str, Callable[[torch.device], object]]] = [
    ("01 logistic regression", "full batch, 150 photos", logistic),
    ("04 deep network (L=8)", "full batch, 1,200 digits", deep_network),
    ("05 regularization", "full batch, λ and dropout", regularized),
    ("07 mini-batch Adam", "128 digits", mini_batches),
    ("14 YOLO detector", "32 scenes, conv net", detector),
]


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
    for name, what, build in CASES:
        if args.only and not any(part in name for part in args.only):
            continue
        ms = [step_seconds(build(device), device, args.steps) * 1e3 for device in devices]
        cuda = f"{ms[1]:8.2f} {ms[0] / ms[1]:9.1f}×" if len(ms) > 1 else f"{'—':>8} {'—':>10}"
        print(f"{name:<26} {what:<26} {ms[0]:8.2f} {cuda}", flush=True)
    print("18 skip-gram runs on the CPU by design (a step moves a few thousand numbers): not timed here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
