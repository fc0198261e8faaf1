"""Lab 02 in Voilà: a learner moves every control of the four dashboards once, and the plot it drives changes on
screen (and says the right thing where words are the point)."""

from __future__ import annotations

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider

pytestmark = pytest.mark.browser

NOTEBOOK = "02_computation_graph_backprop.ipynb"

# What a plot shows: trace data with texts and marker colours (the graph's values are texts), and annotations.
SHOWN_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  if (!gd) return null;
  const data = gd.data.map(t => [t.x, t.y, t.z, t.text, t.marker ? t.marker.color : null]);
  return JSON.stringify([data, (gd.layout.annotations || []).map(a => a.text), gd.layout.title.text]);
}"""


def changes(page, plot: str, act) -> None:
    """Do `act` and wait until the plot whose title starts with `plot` shows something else."""
    before = page.evaluate(SHOWN_JS, plot)
    assert before is not None, f"no plot titled {plot!r}"
    act()
    page.wait_for_function("([title, before]) => (" + SHOWN_JS + ")(title) !== before", arg=[plot, before],
                           timeout=60_000)


def says(page, text: str) -> None:
    page.wait_for_function("(text) => document.body.innerText.includes(text)", arg=text, timeout=60_000)


def no_errors(page, name: str) -> None:
    assert error_texts(page) == [] and page.errors.items == []
    screenshot(page, ARTIFACTS / f"voila-02-{name}.png")


def test_the_graph_follows_its_inputs_and_steps_backward(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    graph = "Computation graph of J"
    for label, fraction in (("a", 0.2), ("b", 0.8), ("c", 0.1)):
        changes(page, graph, lambda label=label, fraction=fraction: click_slider(page, label, fraction))
    changes(page, graph, lambda: click_slider(page, "Backward step", 0.5))
    says(page, "Step 3 of 6: dJ/da")
    changes(page, graph, lambda: page.locator("button", has_text="Next").first.click())
    says(page, "Step 4 of 6: dJ/du")
    no_errors(page, "graph")


def test_the_layer_notation_follows_layer_unit_example_and_sizes(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    grid = "A<sup>["
    changes(page, grid, lambda: click_slider(page, "Unit i", 0.95))
    says(page, "Layer 1, unit 4, example 1")
    changes(page, grid, lambda: click_slider(page, "Example (i)", 0.95))
    changes(page, grid, lambda: click_slider(page, "Hidden units n^[1]", 0.95))
    says(page, "(8, 64)")
    changes(page, grid, lambda: click_slider(page, "Examples m", 0.3))
    changes(page, grid, lambda: choose(page, "Layer l", "2 (output, σ)"))
    says(page, "Layer 2, unit 1")
    no_errors(page, "notation")


def test_time_it_times_the_chosen_length(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    click_slider(page, "Vector length n", 0.35)  # about 300 numbers: quick
    changes(page, "Time for one dot product", lambda: page.locator("button", has_text="Time it").click())
    says(page, "Both give the same sum")
    assert "1,000,000" not in page.evaluate(SHOWN_JS, "Time for one dot product")  # the new length, not the start
    no_errors(page, "vectorization")


def test_the_gradient_check_follows_eps_and_the_planted_bug(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)
    changes(page, "Error of the numerical gradient", lambda: click_slider(page, "Step ε", 0.2))
    changes(page, "Relative difference per parameter",
            lambda: choose(page, "Plant a bug in backprop", "dW[2] forgets the 1/m"))
    says(page, "the difference comes from W2")
    changes(page, "Relative difference per parameter",
            lambda: choose(page, "Plant a bug in backprop", "db[3] never returned"))
    says(page, "The check cannot run.")
    no_errors(page, "gradient-check")
