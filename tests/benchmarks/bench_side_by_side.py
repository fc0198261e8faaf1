"""How soon every model of a side-by-side job has its first point pushed to the views (not collected by pytest):
`python tests/benchmarks/bench_side_by_side.py`.

For the dashboards that train several models at once (lab 11's six widths, lab 03's network beside logistic
regression, lab 17's three recall cells): five runs each, started as a press starts them, and for each the time
from the start to the push that carries the first model's first point, and to the one that carries the last
model's. Run it in two checkouts to compare code (each imports its own: `PYTHONPATH=<checkout>`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from widgets.dashboards.activations_shallow_network import shallow_network_dashboard  # noqa: E402
from widgets.dashboards.ml_strategy import satisficing_dashboard  # noqa: E402
from widgets.dashboards.sequence_models import recall_dashboard  # noqa: E402

RUNS, RUN_SECONDS = 5, 1.0


def first_points(make) -> list[tuple[float, float]]:
    """(ms to the first model's first point, ms to the last model's) for each of RUNS runs of a new dashboard."""
    panel = make().panel
    draw = panel.runner.on_batch
    times = []
    for _ in range(RUNS):
        started, seen = time.perf_counter(), {}

        def timed(items, started=started, seen=seen):
            now = time.perf_counter()
            for label, _event in items:
                seen.setdefault(label, (now - started) * 1e3)
            draw(items)
        panel.runner.on_batch = timed
        panel.start()
        time.sleep(RUN_SECONDS)
        panel.runner.stop()
        assert panel.runner.wait(60), "the run did not stop"
        times.append((min(seen.values()), max(seen.values())))
    panel.runner.on_batch = draw
    return times


def main() -> None:
    for name, make in (("11 satisficing (6 widths)", satisficing_dashboard),
                       ("03 network and logistic regression", shallow_network_dashboard),
                       ("17 recall (3 cells)", recall_dashboard)):
        times = first_points(make)
        print(f"{name:<36} first model's first point {', '.join(f'{a:.0f}' for a, _ in times)} ms   "
              f"last model's {', '.join(f'{b:.0f}' for _, b in times)} ms", flush=True)


if __name__ == "__main__":
    main()
