"""Lab 06's speed figures: kernel time per control change of its three dashboards, and gradient descent's pace.

Not collected by pytest (the file name does not start with test_). Run it by hand:

    .venv/bin/python tests/benchmarks/bench_normalization.py [--repeats 20]

It prints, as medians over --repeats changes (after one warm-up change):
- the instant views: the time `recipes_dashboard` takes to redraw for a new table and `dev_statistics_dashboard`
  for a new dev shift — the whole callback, figure updates included; the budget is well under 100 ms;
- the training view: the kernel time of a change of the feature scale ratio (it builds the comparison, redraws
  both contour plots and starts the walks) and of the step size (no new contours), the time until the first
  point of the new run is on the cost plot, and the bytes of contour data a new ratio sends;
- the backend: a ScaleComparison, its contours, and the steps per second of one GradientWalk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lab.device import configure_threads  # noqa: E402
from lab.normalization import ScaleComparison  # noqa: E402
from widgets.dashboards.input_normalization import (  # noqa: E402
    dev_statistics_dashboard,
    feature_scale_dashboard,
    recipes_dashboard,
)


def median_ms(action, values, repeats: int) -> str:
    """Median (and best) milliseconds of `action(value)` over `repeats` values taken in turn from `values`, after a
    warm-up, as text: the best shows the cost on an idle machine, the median what a shared one gives."""
    action(values[-1])
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        action(values[i % len(values)])
        times.append((time.perf_counter() - start) * 1e3)
    return f"{statistics.median(times):7.1f} ms (best {min(times):6.1f} ms)"


def set_control(dashboard, name):
    def action(value):
        dashboard.controls[name].value = value
    return action


def first_point_ms(dashboard, name, values, repeats: int) -> str:
    """Median milliseconds from a control change until the cost plot shows the new run's first point."""
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        dashboard.controls[name].value = values[i % len(values)]
        while not any(t.x is not None and len(t.x) for t in dashboard.figures["costs"].data):
            time.sleep(0.0005)
        times.append((time.perf_counter() - start) * 1e3)
        dashboard.runner.stop()
        dashboard.runner.wait(30)
    return f"{statistics.median(times):7.1f} ms (best {min(times):6.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="control changes measured per figure")
    args = parser.parse_args()
    print(f"torch threads: {configure_threads()}; medians over {args.repeats} changes")

    recipes = recipes_dashboard()
    ms = median_ms(set_control(recipes, "feature_table"), ["breast_cancer", "wine"], args.repeats)
    print(f"recipes dashboard, new table:                 {ms} kernel time per change")
    dev = dev_statistics_dashboard()
    ms = median_ms(set_control(dev, "dev_shift"), [-2.0, -0.5, 0.7, 1.9, 3.0], args.repeats)
    print(f"dev statistics dashboard, new dev shift:      {ms} kernel time per change")

    scale = feature_scale_dashboard()  # the real pace: the walks keep running in the background while measured
    changes = {"feature_scale": [3.0, 30.0, 300.0, 10.0], "step_fraction": [0.5, 1.5, 0.8, 1.2]}
    for name, values in changes.items():
        ms = median_ms(set_control(scale, name), values, args.repeats)
        print(f"feature scale dashboard, new {name:<14}   {ms} kernel time per change (run started)")
    ms = first_point_ms(scale, "step_fraction", [0.6, 0.9], args.repeats)
    print(f"feature scale dashboard, change → first point: {ms}")
    scale.runner.stop()
    scale.runner.wait(30)
    size = sum(len(json.dumps(scale.figures[w].data[0].z)) + len(json.dumps(scale.figures[w].data[0].y))
               for w in ("raw", "normalized"))
    print(f"contour data a new ratio sends:               {size / 1024:7.1f} KiB (both plots)")

    ms = median_ms(lambda s: ScaleComparison(s, 1.0), [3.0, 30.0, 300.0], args.repeats)
    print(f"ScaleComparison (data, 2 × Newton, curvatures): {ms}")
    comparison = ScaleComparison(100.0)
    ms = median_ms(lambda _: comparison.contours(), [None], args.repeats)
    print(f"ScaleComparison.contours (both grids):        {ms}")
    walk = comparison.walks["raw features"]
    start, steps = time.perf_counter(), 2000
    for _ in range(steps):
        walk.step()
    print(f"GradientWalk: {steps / (time.perf_counter() - start):,.0f} steps/s (m = 300, float64, CPU)")


if __name__ == "__main__":
    main()
