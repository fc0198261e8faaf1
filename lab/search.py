"""Hyperparameter search: which configs to try, and running them as trials on any `concurrent.futures.Executor`.

Choosing configs (`sample_configs`):
- grid: k values per hyperparameter, every combination (k = ⌊budget^(1/d)⌋ for d hyperparameters);
- random: each trial draws every hyperparameter afresh. When only one of two hyperparameters matters, a 5 × 5
  grid tries 5 distinct values of it in 25 trials; 25 random trials try 25.
- the scale a value is drawn on: "linear" (uniform), "log" (α = 10^r with r uniform between log10 of the ends,
  so 0.0001–0.001 gets as many trials as 0.1–1) or "one_minus_log" (for an average's β: 1 − β = 10^r, so
  0.9–0.99 gets as many as 0.99–0.999 — where β near 1 is touchy, the trials are dense).

Running trials (`run_trials`): each trial is one call `objective(config) -> dict of metrics` submitted to an
executor — a local process pool (`LocalPool`), or a Dask cluster through `distributed.Client(...).get_executor()`
(`open_backend`). Results come back in the order the trials finish; a trial that raises comes back as its
exception and the others go on; a worker process that dies loses only its own trial.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import random
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from lab.params import Param, register, validate

register(
    Param("search_budget", "Trials (budget)", "How many configurations to train; a grid uses the largest k × k "
          "that fits.", 32, low=1, high=1024, step=1, integer=True, ui_low=4, ui_high=128),
    Param("search_method", "Search", "Grid: every combination of k values per hyperparameter. Random: every trial "
          "draws its own values.", "random", options=("random", "grid")),
    Param("search_scale", "Scale", "How values are spread between the ends of a range: evenly, evenly in log10, or "
          "evenly in log10 of 1 − β.", "log", options=("linear", "log", "one_minus_log")),
    Param("search_workers", "Workers", "Trials that run at the same time, one process each.", 2, low=1, high=64,
          step=1, integer=True, ui_high=4),
    Param("search_executor", "Run trials on", "A pool of local processes, a Dask cluster started here, or a Dask "
          "scheduler at an address.", "local_pool", options=("local_pool", "dask_local", "dask_address")),
)

SCHEDULER_VARIABLE = "LAB_DASK_SCHEDULER"  # environment variable: the address of an existing Dask scheduler
CONNECT_TIMEOUT = 3.0  # seconds to wait for a Dask scheduler before saying it does not answer


# ---------------------------------------------------------------- which configs to try


@dataclass(frozen=True)
class Axis:
    """One hyperparameter to search: a declared parameter name, its range and the scale it is drawn on."""

    name: str  # a declared parameter, e.g. "lr" or "beta"
    low: float  # smallest value tried
    high: float  # largest value tried
    scale: str = "linear"  # "linear", "log" or "one_minus_log"

    def __post_init__(self):
        validate(self.name, self.low)
        validate(self.name, self.high)
        validate("search_scale", self.scale)
        if not self.low < self.high:
            raise ValueError(f"The '{self.name}' range must have low < high. Got low={self.low!r}, "
                             f"high={self.high!r} instead.")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"The '{self.name}' range must be > 0 on a log scale. Got low={self.low!r} instead.")
        if self.scale == "one_minus_log" and self.high >= 1:
            raise ValueError(f"The '{self.name}' range must be < 1 on a 1 − β scale. Got high={self.high!r} "
                             "instead.")

    def value(self, u: float) -> float:
        """The value at position u ∈ [0, 1] along the range, on this axis's scale (u = 0 → low, u = 1 → high)."""
        if self.scale == "log":
            return 10 ** (math.log10(self.low) + u * (math.log10(self.high) - math.log10(self.low)))
        if self.scale == "one_minus_log":  # 1 − β from 1 − low down to 1 − high, evenly in log10
            a, b = math.log10(1 - self.low), math.log10(1 - self.high)
            return 1 - 10 ** (a + u * (b - a))
        return self.low + u * (self.high - self.low)


def grid_size(search_budget: int, dimensions: int = 2) -> int:
    """k, the values per hyperparameter of the largest k^d grid within the budget (at least 1)."""
    search_budget = validate("search_budget", search_budget)
    k = max(1, round(search_budget ** (1 / dimensions)))
    while k ** dimensions > search_budget:
        k -= 1
    return max(1, k)


DEFAULT_AXES = (Axis("lr", 1e-3, 3.0, "log"), Axis("beta", 0.8, 0.99, "one_minus_log"))


def sample_configs(axes: Iterable[Axis] = DEFAULT_AXES, search_budget: int = 32, search_method: str = "random",
                   seed: int = 0, fixed: dict | None = None) -> list[dict]:
    """The configs to try: dicts {axis name: value, …, **fixed}, plus "seed" (the same for all trials, so they
    differ only in their hyperparameters) unless `fixed` sets it.

    random: `search_budget` configs, each value drawn uniformly on its axis's scale from `seed`.
    grid: k^d configs (`grid_size`), k evenly spaced values per axis on its scale, ends included (k = 1: the
    middle of the range).
    """
    axes = list(axes)
    if not axes:
        raise ValueError("sample_configs needs at least one Axis to search.")
    search_budget, search_method = validate("search_budget", search_budget), validate("search_method", search_method)
    seed = validate("seed", seed)
    base = {"seed": seed, **(fixed or {})}
    if search_method == "grid":
        k = grid_size(search_budget, len(axes))
        positions = [i / (k - 1) for i in range(k)] if k > 1 else [0.5]
        return [{**{a.name: a.value(u) for a, u in zip(axes, point, strict=True)}, **base}
                for point in itertools.product(positions, repeat=len(axes))]
    rng = random.Random(seed)
    return [{**{a.name: a.value(rng.random()) for a in axes}, **base} for _ in range(search_budget)]


def zoom(axes: Iterable[Axis], best: dict, factor: float = 0.25) -> list[Axis]:
    """Coarse to fine: each axis narrowed around the best config's value to `factor` of its width (measured on
    its own scale), kept inside the old range."""
    if not 0 < factor <= 1:
        raise ValueError(f"The 'factor' of a zoom must be in (0, 1]. Got {factor!r} instead.")
    out = []
    for a in axes:
        to_u = {"log": math.log10, "one_minus_log": lambda v: -math.log10(1 - v)}.get(a.scale, lambda v: v)
        lo, hi, at = to_u(a.low), to_u(a.high), to_u(best[a.name])
        half = factor * (hi - lo) / 2
        centre = min(max(at, lo + half), hi - half)
        out.append(Axis(a.name, a.value((centre - half - lo) / (hi - lo)), a.value((centre + half - lo) / (hi - lo)),
                        a.scale))
    return out


# ---------------------------------------------------------------- running trials


class WorkerDiedError(RuntimeError):
    """The process running a trial ended without an answer (a crash, os._exit, an out-of-memory kill)."""


def _limit_threads() -> None:
    """Pool initializer: one torch thread per worker process (two workers on two cores, not four threads)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _process_context(preload: tuple[str, ...] = ()) -> multiprocessing.context.BaseContext:
    """Where worker processes come from: a fork server (not the kernel with its threads) that imports torch and
    the trial once, so each worker, renewed pool or Dask worker starts in milliseconds; "spawn" without one."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lab.search_objective", *preload])  # no effect once the server runs
    return context


class LocalPool(futures.Executor):
    """A pool of `workers` local processes that survives a worker dying.

    `concurrent.futures.ProcessPoolExecutor` marks itself broken when one of its processes dies, and fails every
    trial it holds. `renew()` swaps in a fresh pool, so `run_trials` can rerun the others there. Processes are
    forked from a small server process (forkserver), not from the kernel with its threads, and each uses one torch
    thread. Nothing starts before the first `submit`.
    """

    def __init__(self, workers: int = 2):
        self.workers = validate("search_workers", workers)
        self._pool: futures.ProcessPoolExecutor | None = None

    @property
    def pool(self) -> futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = futures.ProcessPoolExecutor(self.workers, mp_context=_process_context(),
                                                     initializer=_limit_threads)
        return self._pool

    def submit(self, fn, /, *args, **kwargs) -> futures.Future:
        return self.pool.submit(fn, *args, **kwargs)

    def renew(self) -> None:
        """Drop the (broken) process pool; the next submit starts a fresh one. The old pool's processes still
        running are ended here: CPython 3.11's pool can start a worker for a trial submitted just as the pool
        broke, after it ended the others, and then waits for that worker forever (the interpreter too, at exit:
        a CI run once hung there after its last test)."""
        old, self._pool = self._pool, None
        if old is not None:
            processes = list((old._processes or {}).values())  # noqa: SLF001 (no public handle; shutdown drops it)
            old.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
            self._pool = None


def worker_count(executor: futures.Executor) -> int:
    """How many trials `executor` runs at once: a LocalPool's workers, a Dask cluster's threads, else 1."""
    if isinstance(executor, LocalPool):
        return executor.workers
    if isinstance(executor, futures.ProcessPoolExecutor):
        return executor._max_workers  # noqa: SLF001 (no public accessor)
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return max(1, getattr(executor, "_max_workers", 1))


@dataclass
class _Trial:
    config: dict
    alone: bool = False  # rerun by itself after a pool broke: if the pool breaks now, this trial broke it


def run_trials(objective: Callable[[dict], dict], configs: Iterable[dict], executor: futures.Executor | None = None,
               *, cancel=None, max_pending: int | None = None) -> Iterator[tuple[dict, dict | BaseException]]:
    """Run `objective(config)` for every config on `executor`; yield `(config, result)` as each trial finishes.

    - `objective` must be picklable (a module-level function or a dataclass instance), as it travels to the
      workers. `executor` None: a `LocalPool` of 2 workers, shut down when the generator ends.
    - Completion order, not submission order. A trial that raises yields `(config, exception)`; the rest go on.
    - At most `max_pending` trials (default: the executor's worker count) are submitted at a time, so a cancel
      has little to take back: once `cancel.is_set()` nothing more is launched, every future not yet running is
      cancelled, and the generator ends (trials already running on a process pool finish unseen).
    - A worker process that dies breaks a `ProcessPoolExecutor` and fails every trial it holds. With a LocalPool
      the pool is renewed and those trials are rerun one at a time: the one that breaks the pool alone is
      yielded as `WorkerDiedError`, the others run as usual.
    """
    owned = executor is None
    executor = LocalPool(2) if owned else executor
    limit = max_pending or worker_count(executor)
    waiting, suspects = deque(_Trial(dict(c)) for c in configs), deque()
    running: dict[futures.Future, _Trial] = {}
    try:
        while waiting or suspects or running:
            if cancel is not None and cancel.is_set():
                break
            while suspects and not running:  # a suspect runs with nothing beside it
                trial = suspects.popleft()
                trial.alone = True
                running[executor.submit(objective, trial.config)] = trial
            while waiting and not suspects and len(running) < limit:
                trial = waiting.popleft()
                running[executor.submit(objective, trial.config)] = trial
            done, _ = futures.wait(running, timeout=0.1, return_when=futures.FIRST_COMPLETED)
            broke = False
            for future in done:
                if cancel is not None and cancel.is_set():  # trials that finished together: none after a cancel
                    break
                trial = running.pop(future)
                error = future.exception() if not future.cancelled() else futures.CancelledError()
                if isinstance(error, BrokenProcessPool) and isinstance(executor, LocalPool):
                    broke = True
                    if trial.alone:
                        yield trial.config, WorkerDiedError("the worker process running this trial died before it "
                                                       "answered")
                    else:
                        suspects.append(trial)
                else:
                    yield trial.config, (error if error is not None else future.result())
            if broke:
                for future, trial in list(running.items()):  # the rest of the broken pool's trials fail soon too
                    suspects.append(trial)
                    del running[future]
                executor.renew()
    finally:
        for future in running:
            future.cancel()
        if owned:
            executor.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- where trials run


@dataclass
class Backend:
    """An executor and what it runs on: a description for the status line, its worker count, the Dask
    dashboard's address (None for a local pool), and `close()` to shut everything it started down."""

    kind: str  # "local_pool", "dask_local" or "dask_address"
    executor: futures.Executor
    workers: int
    description: str  # e.g. "a local pool of 2 processes"
    dashboard_link: str | None = None
    address: str | None = None  # the Dask scheduler's address, when there is one
    _parts: list[Any] = field(default_factory=list)  # the Dask client and cluster, closed in reverse order

    def __post_init__(self):
        self._finalizer = weakref.finalize(self, _close_parts, self.executor, list(self._parts))

    def close(self) -> None:
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def _close_parts(executor: futures.Executor, parts: list[Any]) -> None:
    for action in (lambda: executor.shutdown(wait=False, cancel_futures=True), *(p.close for p in reversed(parts))):
        with contextlib.suppress(Exception):  # closing at exit: a part that is already gone is fine
            action()


def scheduler_address() -> str | None:
    """The Dask scheduler address in LAB_DASK_SCHEDULER, if set (not checked here)."""
    return os.environ.get(SCHEDULER_VARIABLE, "").strip() or None


@dataclass(frozen=True)
class BackendChoice:
    """Where the trials should run; validated, and cheap: nothing starts until `open_backend(choice)`."""

    search_executor: str = "local_pool"  # "local_pool", "dask_local" or "dask_address"
    search_workers: int = 2  # processes of a local pool or a Dask local cluster (an address brings its own)
    address: str | None = None  # the scheduler of "dask_address"; None: LAB_DASK_SCHEDULER

    def __post_init__(self):
        validate("search_executor", self.search_executor)
        validate("search_workers", self.search_workers)


def open_backend(choice: BackendChoice, timeout: float = CONNECT_TIMEOUT) -> Backend:
    """Start (or connect to) what runs the trials. Nothing is started before this is called.

    - "local_pool": a `LocalPool` of `search_workers` processes (they start with the first trial).
    - "dask_local": a `distributed.LocalCluster` of `search_workers` single-threaded worker processes on this
      machine, its dashboard on a free port.
    - "dask_address": a client of the scheduler at `choice.address` (default: LAB_DASK_SCHEDULER); one that does
      not answer within `timeout` seconds is a ConnectionError naming the address.
    Close the backend with `close()`; it is closed anyway when it is garbage-collected or Python exits.
    """
    kind, workers = choice.search_executor, choice.search_workers
    plural = "es" if workers > 1 else ""
    if kind == "local_pool":
        return Backend(kind, LocalPool(workers), workers, f"a local pool of {workers} process{plural}")
    import distributed

    if kind == "dask_local":
        if "forkserver" in multiprocessing.get_all_start_methods():  # workers fork from the preloaded server
            import dask
            import distributed.utils

            dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
            distributed.utils.get_mp_context()  # distributed sets its own preload list first …
            _process_context(("distributed",))  # … and ours, which adds torch and the trial, replaces it
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address="127.0.0.1:0", memory_limit="2GiB",
                                           env={"OMP_NUM_THREADS": "1"})
        client = distributed.Client(cluster, set_as_default=False)
        return Backend(kind, client.get_executor(pure=False), workers,
                       f"a Dask local cluster of {workers} worker process{plural}",
                       _dashboard_link(client), cluster.scheduler_address, [cluster, client])
    address = choice.address or scheduler_address()
    if not address:
        raise ValueError(f"No Dask scheduler address: type one, or set {SCHEDULER_VARIABLE}.")
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except Exception as error:  # noqa: BLE001 (refused, timed out, unparsable: all said the same way)
        raise ConnectionError(f"The Dask scheduler at {address!r} did not answer within {timeout:g} s "
                              f"({type(error).__name__}: {error}).") from None
    count = max(1, sum(client.nthreads().values()))
    return Backend(kind, client.get_executor(pure=False), count,
                   f"the Dask cluster at {address} ({count} worker thread{'s' if count > 1 else ''})",
                   _dashboard_link(client), address, [client])


def _dashboard_link(client) -> str | None:
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 (no dashboard, e.g. bokeh missing on the scheduler)
        return None


# ---------------------------------------------------------------- the course's arguments, as text


def distinct_values_report(search_budget: int = 25, seed: int = 0) -> str:
    """How many distinct values of each hyperparameter a grid and a random search try within one budget."""
    lines = []
    for method in ("grid", "random"):
        configs = sample_configs(DEFAULT_AXES, search_budget, method, seed=seed)
        counts = ", ".join(f"{len({c[a.name] for c in configs})} values of {a.name}" for a in DEFAULT_AXES)
        lines.append(f"{method:>6}: {len(configs)} trials try {counts}")
    return "\n".join(lines)


def scale_report(search_budget: int = 1000, seed: int = 0) -> str:
    """Where random α in [0.0001, 1] and β in [0.9, 0.999] land, drawn on a linear scale and on the right one."""
    lines = []
    for axis, bins in ((Axis("lr", 1e-4, 1.0, "linear"), (1e-4, 1e-3, 1e-2, 1e-1, 1.0)),
                       (Axis("lr", 1e-4, 1.0, "log"), (1e-4, 1e-3, 1e-2, 1e-1, 1.0)),
                       (Axis("beta", 0.9, 0.999, "linear"), (0.9, 0.99, 0.999)),
                       (Axis("beta", 0.9, 0.999, "one_minus_log"), (0.9, 0.99, 0.999))):
        values = [c[axis.name] for c in sample_configs([axis], search_budget, "random", seed=seed)]
        shares = [sum(lo <= v <= hi for v in values) / len(values) for lo, hi in itertools.pairwise(bins)]
        parts = "  ".join(f"{lo:g}–{hi:g}: {s:4.0%}" for (lo, hi), s in zip(itertools.pairwise(bins), shares,
                                                                          strict=True))
        lines.append(f"{axis.name:>4} on a {axis.scale.replace('_', ' ')} scale:".ljust(32) + parts)
    return "\n".join(lines)
