"""How long does the cycle collector hold the GIL in a lab kernel, with and without `gc.freeze()`?

Not collected by pytest. Run it by hand:

    .venv/bin/python tests/benchmarks/bench_collector.py [--repeats 5]

It builds lab 07's optimizer dashboard and trains one run (which is what a lab kernel holds once a learner is
exploring), then times a full collection with the objects the dashboard froze (see `widgets/collector.py`) and
again with everything unfrozen, as kernels were before. The kernel's message traffic (plotly updates, widget
echoes) triggers such collections every few seconds; a slider press that arrives during one waits for it.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from widgets.dashboards.optimization import optimizer_dashboard  # noqa: E402


def full_collection_ms(repeats: int = 5) -> float:
    """The median time of a full collection, in ms: how long the GIL is held when one happens."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="full collections timed per side")
    args = parser.parse_args()
    dashboard = optimizer_dashboard()
    dashboard.controls["lr"].value = 0.2  # one run, as a learner's first press starts
    assert dashboard.runner.wait(300), "the run did not finish"
    frozen = gc.get_freeze_count()
    tracked = len(gc.get_objects())
    frozen_ms = full_collection_ms(args.repeats)
    gc.unfreeze()
    unfrozen_ms = full_collection_ms(args.repeats)
    print(f"objects the collector tracks: {tracked:,} outside the frozen set, {frozen:,} frozen")
    print(f"a full collection, median of {args.repeats}: frozen {frozen_ms:.1f} ms, unfrozen (before) "
          f"{unfrozen_ms:.1f} ms: {unfrozen_ms / max(frozen_ms, 0.01):.0f}× shorter frozen")


if __name__ == "__main__":
    main()
