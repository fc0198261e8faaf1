"""Benchmark for lab 02 (not collected by pytest): run `python tests/benchmarks/bench_backprop.py [--repeats 30]`.

Prints, for every control of the four dashboards, the Python time one change takes on the kernel side (the
callback: computing and building the update message): median and p95 in ms of wall time, and the median CPU
time. Target: well under 100 ms per change. Then the time each dashboard takes to build (it runs when Voilà
runs the notebook), one gradient check of the 31-parameter network, and the loop-vs-vectorized timings the
"Time it" button shows for n = 10³ … 10⁷ (those run in a background thread, not in a control's callback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from control_timing import report, time_changes  # noqa: E402

from lab.device import configure_threads  # noqa: E402


def built(make):
    start = time.perf_counter()
    dashboard = make()
    print(f"{make.__name__ + ' builds in':<44} {(time.perf_counter() - start) * 1e3:7.1f} ms")
    return dashboard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    from lab.backprop import CheckNetwork, gradient_check, time_dot_products
    from widgets.dashboards.computation_graph_backprop import (
        computation_graph_dashboard,
        gradient_check_dashboard,
        layer_notation_dashboard,
        vectorization_dashboard,
    )

    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    graph = built(computation_graph_dashboard)
    notation = built(layer_notation_dashboard)
    built(vectorization_dashboard)
    check = built(gradient_check_dashboard)
    cases = [
        (graph, "graph: input a", "a", [1.0, -2.5, 7.0, 5.0]),
        (graph, "graph: backward step", "backward_step", [1, 2, 3, 4, 5, 6, 0]),
        (notation, "notation: unit", "notation_unit", [2, 3, 4, 1]),
        (notation, "notation: example", "example_index", [2, 5, 8, 1]),
        (notation, "notation: layer", "layer", [2, 1]),
        (notation, "notation: hidden units", "hidden_units", [6, 8, 4]),
        (notation, "notation: examples m", "notation_examples", [12, 16, 8]),
        (check, "gradient check: planted bug", "planted_bug", ["dw_factor", "activation_derivative", "none"]),
        (check, "gradient check: ε, seen before", "check_epsilon", [1e-7, 1e-5, 1e-3]),
    ]
    for dashboard, name, key, values in cases:
        report(name, *time_changes(dashboard.controls[key], values, args.repeats))
    fresh = iter(10 ** (-2 - 8 * k / 1000) for k in range(10_000))  # never the same ε twice: nothing cached
    epsilon = check.controls["check_epsilon"]
    report("gradient check: ε, never seen", *time_changes(epsilon, fresh, args.repeats, warmup=0))

    network = CheckNetwork()
    start = time.perf_counter()
    difference = gradient_check(network.cost_and_gradients, network.params)
    print(f"{'gradient_check, 31 parameters (62 costs)':<44} {(time.perf_counter() - start) * 1e3:7.1f} ms  "
          f"(relative difference {difference:.1e})")
    for n in (1e3, 1e5, 1e6, 1e7):
        start = time.perf_counter()
        t = time_dot_products(n)
        note = f" (extrapolated from {t.loop_elements:,})" if t.extrapolated else ""
        took = time.perf_counter() - start
        print(f"dot product n = {int(n):>10,}: loop {t.loop_seconds * 1e3:9.3f} ms{note}, vectorized "
              f"{t.vector_seconds * 1e3:8.4f} ms, ratio {t.speedup:8.1f}×, Time it took {took:.2f} s")


if __name__ == "__main__":
    main()
