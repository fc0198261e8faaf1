"""Lab 08's dashboard: set the search as a learner would, press Start, check the scatter, the curve and the status."""

import time

import pytest

from lab.search_objective import DigitsTrial, FaultyTrial
from widgets.dashboards.hyperparameter_search import hyperparameter_search_dashboard

QUICK = DigitsTrial(epochs=2)


@pytest.fixture
def dashboard():
    board = hyperparameter_search_dashboard(QUICK)
    yield board
    board.runner.stop()
    board.runner.wait(30)
    board.backends.close()


def start(board, timeout: float = 120.0, **values):
    for name, value in values.items():
        board.controls[name].value = value
    board.controls["train"].click()
    assert board.runner.wait(timeout), f"the search did not finish within {timeout:g} s"
    return board


def test_nothing_starts_at_load(monkeypatch, dashboard):
    monkeypatch.delenv("LAB_DASK_SCHEDULER", raising=False)
    assert dashboard.backends.current is None and not dashboard.runner.running
    assert dashboard.figures["trials"].data[0].x in (None, ())
    assert "Start search" in dashboard.status.text
    dashboard.controls["search_budget"].value = 6  # moving a control does not start a search either
    assert dashboard.backends.current is None and not dashboard.runner.running


def test_a_random_search_fills_the_scatter_and_the_best_so_far_curve(dashboard):
    start(dashboard, search_budget=6, search_method="random", search_workers=2)
    scatter = dashboard.figures["trials"].data[0]
    assert len(scatter.x) == 6 and len(set(scatter.x)) == 6
    assert all(1e-3 <= x <= 3.0 for x in scatter.x) and all(0 < y <= 1 for y in scatter.y)
    best = dashboard.figures["best"].data[-1]
    assert list(best.x) == [1, 2, 3, 4, 5, 6] and list(best.y) == sorted(best.y, reverse=True)
    assert min(scatter.y) == pytest.approx(best.y[-1])
    assert "Finished random · 6 trials" in dashboard.status.text and "best dev accuracy" in dashboard.status.text
    assert dashboard.backends.current.workers == 2
    assert {"launched", "planned_drawn", "first_point"} <= set(dashboard.search.timings)
    assert dashboard.figures["trials"].data[2].x in (None, ())  # every planned trial finished: no tick left


def test_the_plan_is_drawn_before_any_trial_finishes():
    """Start draws every planned α as a tick along the bottom at once; each finished trial takes its tick away."""
    board = hyperparameter_search_dashboard(DigitsTrial(epochs=60))  # long enough to look before one finishes
    try:
        board.controls["search_budget"].value = 9
        board.controls["search_method"].value = "grid"
        board.controls["train"].click()
        deadline = time.perf_counter() + 60
        while "planned_drawn" not in board.search.timings and time.perf_counter() < deadline:
            time.sleep(0.01)
        figure = board.figures["trials"]
        ticks, finished = list(figure.data[2].x), len(figure.data[0].x or ())
        assert len(ticks) + finished == 9 and len(ticks) >= 5, (ticks, finished)
        assert len({round(x, 12) for x in ticks}) <= 3  # a 3 × 3 grid: three values of α
        assert all(y == 0.025 for y in figure.data[2].y) and figure.data[2].yaxis == "y2"
        assert board.search.timings["planned_drawn"] < board.search.timings.get("first_point", float("inf"))
        assert board.runner.wait(120)
        assert len(figure.data[0].x) == 9 and figure.data[2].x in (None, ())
    finally:
        board.runner.stop()
        board.runner.wait(30)
        board.backends.close()


def test_a_grid_tries_fewer_distinct_learning_rates(dashboard):
    start(dashboard, search_budget=9, search_method="grid")
    xs = dashboard.figures["trials"].data[0].x
    assert len(xs) == 9 and len({round(x, 12) for x in xs}) == 3
    assert "grid · 9 trials" in dashboard.figures["best"].data[-1].meta


def test_a_failing_trial_is_a_cross_and_the_rest_go_on():
    board = hyperparameter_search_dashboard(FaultyTrial(QUICK, fail_seed=-1, fail_lr_above=1.0))
    try:
        start(board, search_budget=4, search_method="grid")  # α = 0.001 twice, α = 3 twice: those fail
        assert list(board.figures["trials"].data[1].x) == pytest.approx([3.0, 3.0])  # crosses
        assert list(board.figures["trials"].data[0].x) == pytest.approx([1e-3, 1e-3])  # the others finished
        assert "2 failed" in board.readout.value and "failed on purpose" in board.readout.value
    finally:
        board.backends.close()


def test_zoom_narrows_the_ranges_around_the_best_trial(dashboard):
    dashboard.controls["zoom"].click()
    assert "Run a search first" in dashboard.status.text
    start(dashboard, search_budget=4)
    best = dashboard.search.best().config
    dashboard.controls["zoom"].click()
    low, high = dashboard.controls["lr_low"].value, dashboard.controls["lr_high"].value
    assert low <= best["lr"] <= high and high / low == pytest.approx((3.0 / 1e-3) ** 0.25, rel=0.05)
    assert "Zoomed in" in dashboard.status.text


def test_a_reversed_range_is_refused_on_the_status_line(dashboard):
    start(dashboard, lr_low=1.0, lr_high=0.01)
    assert dashboard.status.kind == "warning" and "'lr' range must have low < high" in dashboard.status.text
    assert dashboard.backends.current is None


def test_a_silent_dask_address_is_named_and_the_local_pool_still_works(dashboard):
    started = time.perf_counter()
    start(dashboard, search_executor="dask_address", address="tcp://127.0.0.1:1", search_budget=4)
    assert time.perf_counter() - started < 15
    assert "tcp://127.0.0.1:1" in dashboard.status.text and "did not answer" in dashboard.status.text
    start(dashboard, search_executor="local_pool")
    assert "Finished" in dashboard.status.text and len(dashboard.figures["trials"].data[0].x) == 4


def test_stop_ends_the_search_before_every_trial_ran():
    # trials long enough that the search outlasts a few pushes (at most four a second): 40 quick ones took 0.3 s
    dashboard = hyperparameter_search_dashboard(DigitsTrial(epochs=30))
    try:
        dashboard.controls["search_budget"].value = 40
        dashboard.controls["train"].click()
        deadline = time.perf_counter() + 60
        while not dashboard.search.trials and time.perf_counter() < deadline:
            time.sleep(0.05)
        dashboard.controls["stop"].click()
        assert dashboard.runner.wait(30)
        assert "Stopped" in dashboard.status.text and len(dashboard.search.trials) < 40
        never_run = 40 - len(dashboard.search.trials)
        assert f"{never_run} never run (stopped)" in dashboard.readout.value
        assert dashboard.figures["trials"].data[2].x in (None, ())  # no tick left for a trial that will never run
    finally:
        dashboard.runner.stop()
        dashboard.runner.wait(30)
        dashboard.backends.close()
