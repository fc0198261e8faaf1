"""Benchmark for lab 12 (not collected by pytest): run `python tests/benchmarks/bench_convolutions.py [--repeats 50]`.

Prints, for every control of the filter editor and of the pooling view, the Python time one change takes on
the kernel side (the callback: filtering or pooling the photo, building the update message): median and p95
in ms of wall time, and the median CPU time. Target: a cell edit well under 50 ms of CPU time (about 5 ms on
an idle core), so typing into the grid feels instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from control_timing import report, time_changes  # noqa: E402

from lab.device import configure_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    from widgets.dashboards.convolutions import convolution_dashboard, pooling_dashboard

    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    editor = convolution_dashboard()
    cases = [
        ("filter editor: one cell edit", "kernel_00", [round(1.0 + 0.1 * i, 1) for i in range(1, 20)]),
        ("filter editor: filter preset", "conv_filter", ["sobel_x", "gaussian_blur", "sharpen", "vertical_edge"]),
        ("filter editor: padding", "padding", [1, 2, 0]),
        ("filter editor: stride", "stride", [2, 3, 1]),
        ("filter editor: photo", "photo", ["camera", "brick", "chelsea"]),
    ]
    for name, key, values in cases:
        report(name, *time_changes(editor.controls[key], values, args.repeats), width=34)
    pooling = pooling_dashboard()
    for name, key, values in [("pooling: mode", "pool_mode", ["average", "max"]),
                              ("pooling: window", "pool_size", [3, 4, 2]),
                              ("pooling: stride", "stride", [3, 4, 2]),
                              ("pooling: photo", "photo", ["camera", "brick", "chelsea"])]:
        report(name, *time_changes(pooling.controls[key], values, args.repeats), width=34)


if __name__ == "__main__":
    main()
