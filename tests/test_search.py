"""lab.search: configs on the right scales, and trials on a local process pool and on a real Dask LocalCluster."""

from __future__ import annotations

import math
import threading
import time
import urllib.request
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool

import pytest

from lab.search import (
    Axis,
    BackendChoice,
    LocalPool,
    WorkerDiedError,
    _process_context,
    grid_size,
    open_backend,
    run_trials,
    sample_configs,
    zoom,
)
from lab.search_objective import DigitsTrial, FaultyTrial

QUICK = DigitsTrial(epochs=2)  # a real training, short enough for tests
CONFIGS = [{"lr": lr, "beta": 0.9, "seed": seed} for seed, lr in enumerate([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5])]


def test_random_search_tries_more_distinct_values_than_a_grid():
    axes = [Axis("lr", 1e-3, 1.0, "log"), Axis("beta", 0.9, 0.999, "one_minus_log")]
    grid, rand = sample_configs(axes, 16, "grid"), sample_configs(axes, 16, "random")
    assert len(grid) == len(rand) == 16
    assert len({c["lr"] for c in grid}) == 4  # a 4 × 4 grid: 4 values of α, each tried 4 times
    assert len({c["lr"] for c in rand}) == 16
    assert min(c["lr"] for c in grid) == pytest.approx(1e-3) and max(c["lr"] for c in grid) == pytest.approx(1.0)
    assert sorted({round(math.log10(c["lr"]), 9) for c in grid}) == pytest.approx([-3, -2, -1, 0])


def test_log_scale_gives_each_decade_the_same_share():
    configs = sample_configs([Axis("lr", 1e-4, 1.0, "log")], 1000, "random", seed=1)
    decades = [sum(10.0 ** -(k + 1) <= c["lr"] < 10.0 ** -k for c in configs) for k in range(4)]
    assert all(abs(n - 250) < 60 for n in decades), decades
    linear = sample_configs([Axis("lr", 1e-4, 1.0, "linear")], 1000, "random", seed=1)
    assert sum(c["lr"] >= 0.1 for c in linear) > 850  # on a linear scale 90% land in the top decade


def test_one_minus_beta_scale_is_dense_near_one():
    configs = sample_configs([Axis("beta", 0.9, 0.999, "one_minus_log")], 1000, "random", seed=2)
    assert all(0.9 <= c["beta"] <= 0.999 for c in configs)
    above = sum(c["beta"] > 0.99 for c in configs)  # 0.99–0.999 is one of the two decades of 1 − β
    assert 420 < above < 580
    grid = sorted(c["beta"] for c in sample_configs([Axis("beta", 0.9, 0.999, "one_minus_log")], 3, "grid"))
    assert grid == pytest.approx([0.9, 0.99, 0.999])


def test_configs_are_seeded_and_carry_their_seed():
    a, b = sample_configs(search_budget=8, seed=5), sample_configs(search_budget=8, seed=5)
    assert a == b and all(c["seed"] == 5 for c in a)
    assert sample_configs(search_budget=8, seed=6) != a
    assert grid_size(50, 2) == 7 and grid_size(64, 2) == 8 and grid_size(3, 2) == 1


@pytest.mark.parametrize(("axis", "words"), [
    (("lr", 0.1, 0.01, "log"), "'lr' range must have low < high"),
    (("lr", 0.1, 0.1, "log"), "'lr' range must have low < high"),
    (("beta", 0.9, 1.0, "one_minus_log"), "'beta' parameter"),  # β = 1 is refused by beta's own declaration
    (("lr", -1.0, 0.1, "log"), "'lr' parameter"),
    (("lr", 0.1, 0.2, "cubic"), "'search_scale' parameter"),
])
def test_bad_ranges_are_refused_naming_the_parameter(axis, words):
    with pytest.raises(ValueError, match=words):
        Axis(*axis)


def test_zoom_narrows_around_the_best_value_on_its_scale():
    axes = [Axis("lr", 1e-4, 1.0, "log"), Axis("beta", 0.9, 0.999, "one_minus_log")]
    fine = zoom(axes, {"lr": 0.01, "beta": 0.99}, factor=0.5)
    assert fine[0].low == pytest.approx(1e-3) and fine[0].high == pytest.approx(0.1)
    assert fine[1].low < 0.99 < fine[1].high and fine[1].scale == "one_minus_log"
    edge = zoom(axes, {"lr": 1.0, "beta": 0.99}, factor=0.5)[0]  # at the edge: shifted inside the old range
    assert edge.low == pytest.approx(1e-2) and edge.high == pytest.approx(1.0)


# ---------------------------------------------------------------- running trials


@pytest.fixture(scope="module")
def local_results():
    pool = LocalPool(2)
    try:
        results = list(run_trials(QUICK, CONFIGS, pool))
    finally:
        pool.shutdown()
    return results


def test_local_pool_runs_every_trial_in_worker_processes(local_results):
    assert sorted(c["seed"] for c, _ in local_results) == list(range(8))
    assert all(isinstance(r, dict) and 0 <= r["dev_error"] <= 1 for _, r in local_results)
    assert len({r["worker"] for _, r in local_results}) == 2  # two processes shared the trials
    by_seed = {c["seed"]: r["dev_error"] for c, r in local_results}
    for config in CONFIGS[:2]:  # the same numbers as a call in this process
        assert by_seed[config["seed"]] == QUICK(config)["dev_error"]


def test_dask_local_cluster_gives_the_local_pools_results(local_results):
    started = time.perf_counter()
    backend = open_backend(BackendChoice("dask_local", 2))
    try:
        assert backend.workers == 2
        with urllib.request.urlopen(backend.dashboard_link, timeout=20) as page:  # the link the dashboard shows
            assert page.status == 200 and b"Dask" in page.read()
        dask_results = list(run_trials(QUICK, CONFIGS, backend.executor))
    finally:
        backend.close()
    assert backend.closed
    assert {c["seed"]: r["dev_error"] for c, r in dask_results} == {c["seed"]: r["dev_error"]
                                                                  for c, r in local_results}
    assert len({r["worker"] for _, r in dask_results}) == 2
    assert time.perf_counter() - started < 90


def test_a_trial_that_raises_is_yielded_as_its_exception_and_the_rest_go_on():
    results = dict((c["seed"], r) for c, r in run_trials(FaultyTrial(QUICK, fail_seed=3), CONFIGS[:5]))
    assert isinstance(results[3], RuntimeError) and "seed 3" in str(results[3])
    assert all(isinstance(results[s], dict) for s in (0, 1, 2, 4))


def test_a_worker_that_dies_loses_only_its_own_trial():
    pool = LocalPool(2)
    try:
        results = dict((c["seed"], r) for c, r in run_trials(FaultyTrial(QUICK, fail_seed=2, how="exit"),
                                                             CONFIGS[:6], pool))
    finally:
        pool.shutdown()
    assert sorted(results) == list(range(6))
    assert isinstance(results[2], WorkerDiedError)
    assert all(isinstance(results[s], dict) for s in (0, 1, 3, 4, 5)), results


class Recording(futures.Executor):
    """An executor that keeps every future it hands out, to check what a cancel left behind."""

    def __init__(self, inner: futures.Executor):
        self.inner, self.futures = inner, []

    def submit(self, fn, /, *args, **kwargs):
        future = self.inner.submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future


def test_cancel_stops_launching_and_leaves_no_pending_futures():
    pool = LocalPool(2)
    recording, cancel = Recording(pool), threading.Event()
    try:
        seen = []
        for config, result in run_trials(QUICK, CONFIGS * 3, recording, cancel=cancel, max_pending=4):
            seen.append((config, result))
            cancel.set()
        assert len(seen) == 1
        assert len(recording.futures) <= 5  # never more than max_pending in flight, then nothing new
        assert not any(f._state == "PENDING" for f in recording.futures)  # cancelled, running or done
    finally:
        pool.shutdown()


def test_local_pool_starts_no_process_before_the_first_trial():
    pool = LocalPool(2)
    assert pool._pool is None
    backend = open_backend(BackendChoice("local_pool", 3))
    assert backend.workers == 3 and backend.executor._pool is None
    backend.close()
    backend.close()  # twice is fine
    assert backend.closed


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "garbage"])
def test_a_scheduler_that_does_not_answer_is_named_within_seconds(address, monkeypatch):
    monkeypatch.setenv("LAB_DASK_SCHEDULER", address)
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match=address):
        open_backend(BackendChoice("dask_address"), timeout=2)
    assert time.perf_counter() - started < 10


def test_backend_choice_is_validated(monkeypatch):
    with pytest.raises(ValueError, match="search_executor"):
        BackendChoice("ray")
    with pytest.raises(ValueError, match="search_workers"):
        BackendChoice("local_pool", 0)
    monkeypatch.delenv("LAB_DASK_SCHEDULER", raising=False)
    with pytest.raises(ValueError, match="LAB_DASK_SCHEDULER"):
        open_backend(BackendChoice("dask_address"))


class Immediate(futures.Executor):
    """Runs each trial at submit: every future is already done, so one wait returns several at once."""

    def submit(self, fn, /, *args, **kwargs):
        future = futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_trials_that_finish_together_yield_nothing_after_a_cancel():
    cancel = threading.Event()
    seen = []
    for config, _result in run_trials(lambda c: {"dev_error": c["lr"]}, [{"lr": r} for r in (0.1, 0.2, 0.3, 0.4)],
                                      Immediate(), cancel=cancel, max_pending=4):
        seen.append(config)
        cancel.set()
    assert len(seen) == 1


def test_renewing_a_broken_pool_ends_a_worker_it_started_as_it_broke():
    """A trial submitted just as the pool broke can make CPython's pool start one more worker after it ended the
    others; the pool then waits for that worker forever, and so does the interpreter at exit. `renew` ends every
    process the old pool still holds: here a stand-in for that late worker, added once the pool is done."""
    pool = LocalPool(2)
    try:
        doomed = pool.submit(FaultyTrial(QUICK, fail_seed=CONFIGS[0]["seed"], how="exit"), CONFIGS[0])
        with pytest.raises(BrokenProcessPool):
            doomed.result(timeout=120)
        broken = pool.pool
        broken._executor_manager_thread.join(timeout=60)  # noqa: SLF001 (it has ended the workers it knew)
        late = _process_context().Process(target=time.sleep, args=(600,), daemon=True)
        late.start()
        broken._processes[late.pid] = late  # noqa: SLF001
        pool.renew()
        late.join(timeout=30)
        assert not late.is_alive()
    finally:
        pool.shutdown()
