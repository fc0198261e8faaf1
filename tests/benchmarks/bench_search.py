"""Benchmark for lab 08 (not collected by pytest): `python tests/benchmarks/bench_search.py [--trials 32] [--dask]`.

Prints
- the same `--trials` trainings (lab.search_objective.DigitsTrial, `--epochs` each: the default is the
  dashboard's own trial, 200 epochs, about a second on one core) run on a local pool of 1 worker and of 2 workers
  in the same run, the wall time of each and the ratio (near 2 on 2 free cores; less when other work shares the
  machine: run it under `flock /tmp/dl-lab-heavy.lock` and say how busy the machine was);
- with `--dask`, the same trials on a Dask LocalCluster of 2 workers (cluster start counted separately);
- the headless dashboard: seconds from Start to the "trials launched" event, to the plan's ticks drawn and to the
  first trial drawn, for a
  first search (the pool starts) and a second one (the pool is warm), and the p95 of moving a non-training
  control (the search starts only from its button, so a slider move should cost well under 100 ms);
- the memory: this process (the kernel's stand-in) and each worker process, RSS in MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil  # noqa: E402

from lab.device import configure_threads  # noqa: E402
from lab.search import DEFAULT_AXES, BackendChoice, LocalPool, open_backend, run_trials, sample_configs  # noqa: E402
from lab.search_objective import DigitsTrial  # noqa: E402


def timed_search(trial: DigitsTrial, executor, configs) -> tuple[float, list[float]]:
    start = time.perf_counter()
    results = list(run_trials(trial, configs, executor))
    assert all(isinstance(r, dict) for _, r in results), [r for _, r in results if not isinstance(r, dict)]
    return time.perf_counter() - start, [r["seconds"] for _, r in results]


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def workers_memory() -> str:
    children = psutil.Process().children(recursive=True)
    return ", ".join(f"pid {c.pid} {rss_mb(c):.0f} MB" for c in children) or "none"


def bench_pools(trial: DigitsTrial, trials: int) -> None:
    configs = sample_configs(DEFAULT_AXES, trials, "random", seed=0)
    walls = {}
    for workers in (1, 2):
        pool = LocalPool(workers)
        list(run_trials(DigitsTrial(epochs=1), configs[:workers], pool))  # start the processes first
        walls[workers], seconds = timed_search(trial, pool, configs)
        print(f"{trial.epochs}-epoch trials, {workers} worker(s): {trials} trials in {walls[workers]:.1f} s "
              f"(median trial {statistics.median(seconds):.2f} s); workers: {workers_memory()}", flush=True)
        pool.shutdown()
    print(f"{trial.epochs}-epoch trials, speed-up with 2 workers: {walls[1] / walls[2]:.2f}×", flush=True)


def bench_dask(trial: DigitsTrial, trials: int) -> None:
    configs = sample_configs(DEFAULT_AXES, trials, "random", seed=0)
    start = time.perf_counter()
    backend = open_backend(BackendChoice("dask_local", 2))
    print(f"Dask LocalCluster of 2 started in {time.perf_counter() - start:.1f} s", flush=True)
    wall, seconds = timed_search(trial, backend.executor, configs)
    print(f"Dask, 2 workers, {trial.epochs}-epoch trials: {trials} trials in {wall:.1f} s (median trial "
          f"{statistics.median(seconds):.2f} s); processes: {workers_memory()}", flush=True)
    backend.close()


def bench_dashboard() -> None:
    from widgets.dashboards.hyperparameter_search import hyperparameter_search_dashboard

    board = hyperparameter_search_dashboard()
    moves = []
    slider = board.controls["search_budget"]
    for value in [8, 16, 24, 32] * 10:
        start = time.perf_counter()
        slider.value = value
        moves.append(time.perf_counter() - start)
    moves.sort()
    print(f"moving a control (no search starts): median {statistics.median(moves) * 1e3:.2f} ms, "
          f"p95 {moves[int(0.95 * len(moves)) - 1] * 1e3:.2f} ms", flush=True)
    slider.value = 8
    for run in ("first search (pool starts)", "second search (pool warm)"):
        board.controls["train"].click()
        assert board.runner.wait(300)
        t = board.search.timings
        print(f"dashboard, {run}: Start → trials launched {t['launched'] * 1e3:.0f} ms, → the plan's ticks drawn "
              f"{t['planned_drawn'] * 1e3:.0f} ms, → first trial drawn "
              f"{t['first_point'] * 1e3:.0f} ms; 8 trials done; kernel {rss_mb(psutil.Process()):.0f} MB, "
              f"workers: {workers_memory()}", flush=True)
    board.backends.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=DigitsTrial.epochs, help="epochs per trial (default: the "
                        "dashboard's)")
    parser.add_argument("--dask", action="store_true")
    args = parser.parse_args()
    configure_threads()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs", flush=True)
    bench_dashboard()
    trial = DigitsTrial(epochs=args.epochs)
    bench_pools(trial, args.trials)
    if args.dask:
        bench_dask(trial, args.trials)
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
