"""Lab 18's figures: GloVe load time and memory, analogy speed over the full vocabulary, dashboard update cost,
and skip-gram training speed.

Not collected by pytest (the file name does not start with test_). Run it by hand:

    .venv/bin/python tests/benchmarks/bench_embeddings.py [--repeats 50]

Targets: an analogy over all 400,000 words ≤ 12 ms median (a bare 400k × 50 matrix–vector product is
measured beside it for scale); the Python time of a dashboard update a few ms above that.
Load time and memory are measured in a fresh interpreter, so nothing is cached yet.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LOAD_SCRIPT = """
import resource, time
import numpy, pyarrow.parquet, torch  # the libraries, imported before the clock starts
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
from lab.embeddings import WordVectors
vectors = WordVectors.load()
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
again = time.perf_counter(); WordVectors.load(); cached = time.perf_counter() - again
print(seconds, vectors.load_seconds, (after - before) / 1024, cached)
"""


def median_ms(fn, repeats: int) -> tuple[float, float]:
    """(median, 90th percentile) in milliseconds of `repeats` calls after two warm-up calls."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, inner, megabytes, cached = map(float, out.stdout.split())
    print(f"GloVe load (fresh process): {seconds:.2f} s ({inner:.2f} s inside load()), "
          f"+{megabytes:.0f} MB peak resident; a second load() returns the cached object in {cached * 1e6:.0f} µs")

    import torch

    from lab.device import configure_threads
    from lab.embeddings import WordVectors
    threads = configure_threads()
    vectors = WordVectors.load()
    query = vectors.unit[vectors.id("king")].clone()
    matvec = median_ms(lambda: vectors.unit @ query, args.repeats)
    analogy = median_ms(lambda: vectors.analogy("man", "woman", "king", 5), args.repeats)
    nearest = median_ms(lambda: vectors.nearest("frog", 10), args.repeats)
    print(f"torch threads: {threads}")
    print(f"bare 400k × 50 matrix–vector product: median {matvec[0]:.2f} ms (p90 {matvec[1]:.2f})")
    print(f"analogy over the full vocabulary:     median {analogy[0]:.2f} ms (p90 {analogy[1]:.2f})  target ≤ 12 ms")
    print(f"nearest neighbours (k = 10):          median {nearest[0]:.2f} ms (p90 {nearest[1]:.2f})")
    unknown = median_ms(lambda: vectors.check("kign"), max(5, args.repeats // 5))
    print(f"unknown-word message with suggestions: median {unknown[0]:.1f} ms")

    from widgets.dashboards.word_embeddings import analogy_dashboard, nearest_dashboard, similarity_dashboard
    for name, build in [("analogy", analogy_dashboard), ("nearest", nearest_dashboard),
                        ("similarity", similarity_dashboard)]:
        start = time.perf_counter()
        dashboard = build(vectors)
        built = (time.perf_counter() - start) * 1e3
        box = next(iter(dashboard.controls.values()))
        words = iter(["woman", "queen", "paris", "king"] * (args.repeats + 2))

        def update(box=box, words=words):
            box.value = next(words)
        update_ms = median_ms(update, args.repeats)
        print(f"{name} dashboard: built in {built:.0f} ms; a word typed → readout and figure updated in Python: "
              f"median {update_ms[0]:.1f} ms (p90 {update_ms[1]:.1f})")

    from lab.data.corpus import make_corpus
    from lab.skipgram import SkipGram
    from lab.training import train
    start = time.perf_counter()
    task = SkipGram(make_corpus())
    built = time.perf_counter() - start
    start = time.perf_counter()
    events = list(train(task, 3000))
    seconds = time.perf_counter() - start
    metrics = events[-1].metrics
    print(f"skip-gram: corpus and pairs in {built:.2f} s; 3000 steps in {seconds:.1f} s "
          f"({seconds / 3000 * 1e3:.2f} ms a step, one thread); planted analogies solved "
          f"{metrics['analogy_accuracy']:.0%}; torch {torch.__version__}")


if __name__ == "__main__":
    main()
