"""Lab 03 in Voilà: every control of both dashboards moved once in headless Chromium, and the plot it drives
redrawn; a click on the decision-boundary plot adds a point of the chosen class."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import FINGERPRINT_JS, choose, click_slider

pytestmark = pytest.mark.browser

NOTEBOOK = "03_activations_shallow_network.ipynb"
VALUE, SLOPE = "The activation g(z)", "Its slope g′(z)"
BOARD, UNITS, COSTS = "Decision boundary", "What each hidden unit computes", "Cost J while training"

POINTS_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  return gd ? [gd.data[1].x.length, gd.data[2].x.length] : null;
}"""
STATUS_JS = "() => Array.from(document.querySelectorAll('.lab-status')).map(s => s.textContent).join(' | ')"


def changes(page, plot: str, act, status: str | None = None) -> None:
    """Do `act`, then wait until plot `plot` shows something else and, if given, the status line reads `status`."""
    before = page.evaluate(FINGERPRINT_JS, plot)
    assert before is not None, f"no plot titled {plot!r}"
    act()
    page.wait_for_function("([title, before]) => (" + FINGERPRINT_JS + ")(title) !== before",
                           arg=[plot, before], timeout=60_000)
    if status:
        page.wait_for_function(f"() => ({STATUS_JS})().includes({status!r})", timeout=60_000)


def click_board(page, fx: float, fy: float) -> None:
    """A click at (fx, fy) of the decision-boundary plot's area, from its top left corner."""
    plot = page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=BOARD)).first
    area = plot.locator(".nsewdrag").first
    box = area.bounding_box()
    area.click(position={"x": fx * box["width"], "y": fy * box["height"]})


def test_every_control_moves_its_plot(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    # the activation functions: no training, an instant redraw
    changes(page, SLOPE, lambda: choose(page, "Activation to inspect", "tanh"))
    changes(page, VALUE, lambda: click_slider(page, "z", 0.8))
    choose(page, "Activation to inspect", "leaky relu")
    changes(page, VALUE, lambda: click_slider(page, "Leaky ReLU slope", 0.5))

    # the network: each change trains a new run
    button = lambda name: page.get_by_role("button", name=name, exact=True)  # noqa: E731
    changes(page, COSTS, lambda: button("Train").click(), "Finished tanh · 8 units")
    changes(page, COSTS, lambda: choose(page, "Hidden activation", "leaky relu"), "Finished Leaky ReLU 0.01")
    changes(page, COSTS, lambda: click_slider(page, "Leaky ReLU slope", 0.3, 1), "Finished Leaky ReLU 0.3")
    changes(page, UNITS, lambda: click_slider(page, "Hidden units n_h", 0.05), "Finished")
    changes(page, COSTS, lambda: click_slider(page, "Learning rate α", 0.6), "Finished")
    changes(page, COSTS, lambda: click_slider(page, "Init factor", 0.7), "Finished")
    changes(page, COSTS, lambda: click_slider(page, "Iterations", 0.05), "Finished")
    changes(page, BOARD, lambda: page.locator(".widget-checkbox", has_text="Compare with logistic regression")
            .locator("input").click(), "Finished")
    assert page.evaluate(POINTS_JS, BOARD) == [100, 100]

    changes(page, BOARD, lambda: choose(page, "Start from", "two moons"), "· moons")
    choose(page, "New points are", "orange (class 0)")
    changes(page, BOARD, lambda: click_board(page, 0.1, 0.1), "moons + your points")
    assert page.evaluate(POINTS_JS, BOARD) == [101, 100]  # the click added one orange point
    changes(page, BOARD, lambda: button("Clear points").click(), "There are no points yet")
    assert page.evaluate(POINTS_JS, BOARD) == [0, 0]

    choose(page, "Start from", "flower")
    page.wait_for_function(f"() => ({STATUS_JS})().includes('Finished')", timeout=60_000)
    click_slider(page, "Iterations", 0.97)  # a long run: Stop it once it has begun
    page.wait_for_function(f"() => /Training .*: iteration/.test(({STATUS_JS})())", timeout=60_000)
    button("Stop").click()
    page.wait_for_function(f"() => /Stopped|Finished/.test(({STATUS_JS})())", timeout=60_000)
    changes(page, COSTS, lambda: button("Clear runs").click())
    assert re.search(r"Stopped|Finished", page.evaluate(STATUS_JS))

    assert error_texts(page) == [] and page.errors.items == []
    screenshot(page, ARTIFACTS / "voila-03_activations_shallow_network-moved.png")
