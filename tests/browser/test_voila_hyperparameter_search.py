"""Lab 08 in Voilà: a learner runs a small search on a Dask local cluster and then on the local pool; the scatter
fills with one point per trial inside the chosen α range, the best-so-far curve has one point per trial, the
Dask dashboard link shows, and a reversed range is refused on the status line. The times from Start to the
"trials launched" progress line and to the first trial drawn are written to test-artifacts/ for the report."""

from __future__ import annotations

import json
import re
import time

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from playwright.sync_api import expect
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, eventually, plot_data, readout

pytestmark = pytest.mark.browser

NOTEBOOK = "08_hyperparameter_search.ipynb"
TRIALS = "Dev error of every finished trial"
BEST = "Best dev error so far"
SEARCH_TIMEOUT_MS = 240_000  # a cluster start and a few one-second trainings on a busy machine

POINTS_JS = """(title, trace) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  return gd && gd.data[trace] && gd.data[trace].x ? gd.data[trace].x.length : 0;
}"""
FINISHED, PLANNED = 0, 2  # the scatter's traces: finished trials, and ticks for the trials not finished yet


def start_search(board) -> dict[str, float]:
    """Press Start search; seconds until the progress line ("0 / 4 trials, …"), until the plan's ticks along the
    bottom of the scatter (one per trial, before any finishes: a trial trains for about a second), and until the
    first finished trial's point."""
    page = board.page
    clicked = time.monotonic()
    board.locator("button", has_text=re.compile(r"^\s*Start search\s*$")).click()
    page.wait_for_function("() => /\\d+ \\/ \\d+ trials/.test(document.body.innerText)", polling=20,
                           timeout=SEARCH_TIMEOUT_MS)
    launched = time.monotonic() - clicked
    page.wait_for_function(f"() => ({POINTS_JS})({json.dumps(TRIALS)}, {PLANNED}) > 0", polling=20,
                           timeout=SEARCH_TIMEOUT_MS)
    planned = time.monotonic() - clicked
    page.wait_for_function(f"() => ({POINTS_JS})({json.dumps(TRIALS)}, {FINISHED}) > 0", polling=20,
                           timeout=SEARCH_TIMEOUT_MS)
    return {"launched_s": launched, "plan_drawn_s": planned, "first_point_s": time.monotonic() - clicked}


def check_search(board, trials: int) -> None:
    expect(board.locator(".lab-status")).to_contain_text(f"Finished random · {trials} trials",
                                                         timeout=SEARCH_TIMEOUT_MS)
    low, high = readout(board, "α from"), readout(board, "α to")
    points = plot_data(board, TRIALS)["traces"][0]
    assert len(points["x"]) == trials and all(low * 0.99 <= x <= high * 1.01 for x in points["x"])
    assert all(0 < y <= 1 for y in points["y"])
    best = plot_data(board, BEST)["traces"][-1]
    assert best["x"] == list(range(1, trials + 1)) and best["y"][-1] == pytest.approx(min(points["y"]))


def test_a_search_runs_on_a_dask_cluster_and_on_the_local_pool(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    # on a busy machine plotly may still be drawing when the widgets are all there
    try:
        expect(page.locator(".js-plotly-plot .gtitle", has_text=TRIALS)).to_have_count(1, timeout=180_000)
    except AssertionError:
        outputs = page.locator(".jp-OutputArea-output")
        outputs.last.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "FAILED-voila-08-no-plot.png")
        raise AssertionError(f"no trial plot: {page.locator('.js-plotly-plot').count()} plotly plots, "
                             f"{page.locator('.widget-button').count()} buttons, outputs: "
                             f"{[t[:80] for t in outputs.all_inner_texts()]}") from None
    board = dashboard(page, TRIALS)
    click_slider(board, "Trials (budget)", 0.0)  # the fewest: 4
    eventually(page, lambda: assert_equal(readout(board, "Trials (budget)"), 4))

    choose(board, "Run trials on", "dask local")
    timings = {"dask_local_first_search": start_search(board)}
    check_search(board, 4)
    link = board.locator("a", has_text="Open the Dask dashboard")
    expect(link).to_be_visible()
    assert re.match(r"http://127\.0\.0\.1:\d+/status", link.get_attribute("href"))
    timings["dask_local_second_search"] = start_search(board)  # the cluster is running now
    check_search(board, 4)

    choose(board, "Run trials on", "local pool")
    timings["local_pool_first_search"] = start_search(board)
    check_search(board, 4)
    timings["local_pool_second_search"] = start_search(board)
    check_search(board, 4)
    assert "a local pool of 2 processes" in board.inner_text()
    (ARTIFACTS / "voila-08-search-timings.json").write_text(json.dumps(timings, indent=2))
    screenshot(page, ARTIFACTS / "voila-08_hyperparameter_search-moved.png")

    click_slider(board, "α from", 0.98)  # near the top (1.0 is the track's very edge, outside it): above "α to"
    eventually(page, lambda: assert_above(readout(board, "α from"), readout(board, "α to")))
    board.locator("button", has_text=re.compile(r"^\s*Start search\s*$")).click()
    expect(board.locator(".lab-status")).to_contain_text("'lr' range must have low < high", timeout=30_000)
    assert error_texts(page) == [] and page.errors.items == []


def assert_above(a, b) -> None:
    assert a > b, (a, b)


def assert_equal(a, b) -> None:
    assert a == b, (a, b)
