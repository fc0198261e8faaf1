"""Benchmark for lab 16 (not collected by pytest): `python tests/benchmarks/bench_style_transfer.py [--quick]`.

Prints, at the lab's default settings (chelsea × immunohistochemistry, 128 px, α = 1, β = 1000, random features):
- seconds from the start of a run (the feature network's activations of both pictures included) to the first
  "visibly stylised" image: J_style at most 5% of the content photo's own (`lab.style_transfer.STYLISED_DROP`);
- iterations per second of the painting, on this machine's device;
- through the dashboard: the time from a control change to the first point, the image pushes per second
  while painting, and the kernel time of the Gram-layer chooser (median and p95; it does not retrain);
- the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
from control_timing import SerializingComm, report, time_changes  # noqa: E402

from lab.device import configure_threads, describe_device, select_device  # noqa: E402
from lab.feature_network import RandomFeatures  # noqa: E402
from lab.style_transfer import StyleConfig, StyleTransfer, is_stylised  # noqa: E402


def painting(runs: int, steps: int, device) -> None:
    network = RandomFeatures().to(device)
    StyleTransfer(StyleConfig(style_image_side=32), network, device).step()  # warm-up: photos loaded, kernels built
    print(f"Painting at the default settings on {describe_device(device)}")
    firsts, rates = [], []
    for _ in range(runs):
        start = time.perf_counter()
        task = StyleTransfer(StyleConfig(), network, device)
        first = None
        loop = time.perf_counter()
        for step in range(1, steps + 1):
            task.step()
            if first is None and is_stylised(task.history[-1][1], task.start_style_cost):
                first = (step, time.perf_counter() - start)
        rates.append(steps / (time.perf_counter() - loop))
        firsts.append(first)
        print(f"  visibly stylised after {first[0]} iterations, {first[1]:.2f} s; {rates[-1]:.1f} iterations/s",
              flush=True)
    print(f"  median: first stylised image {statistics.median(f[1] for f in firsts):.2f} s, "
          f"{statistics.median(rates):.1f} iterations/s")


def dashboard(repeats: int, steps: int) -> None:
    comm.create_comm = SerializingComm
    from widgets.dashboards.neural_style_transfer import style_transfer_dashboard

    board = style_transfer_dashboard()
    print("\nThrough the dashboard")
    firsts, push_rates = [], []
    for i in range(repeats):
        views = board.views
        start = time.perf_counter()
        board.controls["style_steps"].value = steps + i  # a change starts a new run
        while not views.state.image_pushes:
            time.sleep(0.002)
        firsts.append(time.perf_counter() - start)
        board.runner.wait(300)
        pushes = views.state.image_pushes
        push_rates.append((len(pushes) - 1) / (pushes[-1] - pushes[0]))
    print(f"  first point of a run: median {1000 * statistics.median(firsts):.0f} ms, max {1000 * max(firsts):.0f} ms")
    print(f"  image pushes while painting: median {statistics.median(push_rates):.1f} per second")
    wall, cpu = time_changes(board.controls["gram_layer"], ["layer 1", "layer 3", "layer 5", "layer 2"], 20)
    report("  Gram-layer chooser (ms)", wall, cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    configure_threads()
    device = select_device()
    painting(2 if args.quick else 5, 100 if args.quick else 200, device)
    dashboard(2 if args.quick else 5, 60 if args.quick else 120)
    print(f"\npeak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
