"""Lab 15's figures: seconds to train the embedding, one-shot accuracy and ROC area on the digits never seen (and on
new images of the trained ones) against chance and raw pixels, and the Python time of the dashboard's updates.

Not collected by pytest (the file name does not start with test_). Run it by hand:

    .venv/bin/python tests/benchmarks/bench_face_verification.py [--steps 400] [--seeds 3] [--repeats 30]

Targets: a view that does not train (τ, the triplet shown) well under 100 ms of Python per move; the first point
of a run within 250 ms of the control's change. Timings on a busy machine are noisy: medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from control_timing import percentile  # noqa: E402  (beside this file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from lab.device import configure_threads

    configure_threads()
    from lab.face_verification import TripletTraining, digit_test_sets
    from lab.training import train

    tests = digit_test_sets()
    for mode in ("random", "hard"):
        seconds, results = [], {key: [] for key in tests}
        for seed in range(args.seeds):
            start = time.perf_counter()
            task = TripletTraining(triplet_mode=mode, seed=seed)
            for _ in train(task, args.steps, blowup_ratio=None):
                pass
            seconds.append(time.perf_counter() - start)
            for key, judgement in task.snapshot.judgements.items():
                results[key].append((judgement.one_shot, judgement.roc.auc))
        print(f"{mode} triplets, {args.steps} steps: {statistics.median(seconds):.1f} s to train (median of "
              f"{args.seeds} seeds)")
        for key, test in tests.items():
            one_shot = statistics.median(r[0] for r in results[key])
            auc = statistics.median(r[1] for r in results[key])
            print(f"  {test.name}: one-shot {one_shot:.1%} (chance {1 / len(test.identities):.0%}, raw pixels "
                  f"{test.pixel_one_shot:.1%}), ROC area {auc:.3f}")

    from widgets.dashboards.face_verification import face_verification_dashboard

    start = time.perf_counter()
    dashboard = face_verification_dashboard()
    print(f"dashboard built in {time.perf_counter() - start:.2f} s")
    for name, values in (("verify_threshold", [0.2 + 0.1 * (i % 30) for i in range(args.repeats)]),
                         ("triplet_index", [i % 40 for i in range(1, args.repeats + 1)])):
        times = []
        for value in values:
            start = time.perf_counter()
            dashboard.controls[name].value = value
            times.append((time.perf_counter() - start) * 1e3)
        print(f"{name}: Python time per move {statistics.median(times):.1f} ms median, {percentile(times, 0.95):.1f} "
              f"ms p95")
    firsts = []
    for margin in (0.3, 0.4, 0.5, 0.6):
        start = time.perf_counter()
        dashboard.controls["triplet_margin"].value = margin
        while not (dashboard.panel.run and dashboard.panel.run.config["triplet_margin"] == margin
                   and dashboard.panel.run.histories):
            time.sleep(0.001)
        firsts.append((time.perf_counter() - start) * 1e3)
        dashboard.runner.stop()
        dashboard.runner.wait(30)
    print(f"first point of a new run: {statistics.median(firsts):.0f} ms median of {len(firsts)} "
          f"({', '.join(f'{t:.0f}' for t in firsts)})")


if __name__ == "__main__":
    main()
