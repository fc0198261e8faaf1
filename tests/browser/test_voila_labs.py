"""Each lab in Voilà: a learner moves one control and the plot it drives changes on screen."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, screenshot, slider
from lab_servers import ARTIFACTS
from test_voila import open_dashboard

pytestmark = pytest.mark.browser

# A fingerprint of what a plot holds and draws: trace data (images included), shapes and annotations.
FINGERPRINT_JS = """(title) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  if (!gd) return null;
  const data = gd.data.map(t => [t.name, t.x, t.y, t.z]);
  return JSON.stringify([data, gd.layout.shapes || [], (gd.layout.annotations || []).map(a => a.text)]);
}"""


def click_slider(page, label: str, fraction: float) -> None:
    track = slider(page, label).first.locator(".noUi-base")  # the first dashboard with that control
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    page.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)


def choose(page, label: str, option: str) -> None:
    dropdown = page.locator(".widget-dropdown").filter(has=page.locator("label", has_text=label))
    dropdown.first.locator("select").select_option(label=option)


def type_word(page, label: str, word: str) -> None:
    box = page.locator(".widget-text").filter(has=page.locator("label", has_text=re.compile(f"^{label}$")))
    box.first.locator("input").fill(word)
    box.first.locator("input").press("Enter")


# (notebook, what the learner does, the plot that must change, a status text to wait for or None)
CASES = [
    ("04_deep_networks_initialization.ipynb", lambda p: click_slider(p, "Layers L", 0.9),
     "Spread of the activations", None),
    ("05_bias_variance_regularization.ipynb", lambda p: click_slider(p, "L2 strength λ", 0.3),
     "Error rate: train vs dev", "Finished"),
    ("07_optimization.ipynb", lambda p: choose(p, "Optimizer", "adam"),
     "Mini-batch cost J: update rules compared", "Finished"),
    ("12_convolutions.ipynb", lambda p: choose(p, "Filter preset", "box blur"), "Output:", None),
    ("14_object_detection_yolo.ipynb", lambda p: click_slider(p, "Box B: left edge x", 0.1),
     "Box A, box B and their overlap", None),
    ("18_word_embeddings.ipynb", lambda p: type_word(p, "Word 2", "cold"), "Cosine similarity", None),
]


@pytest.mark.parametrize(("name", "act", "plot", "wait_for"), CASES, ids=[c[0].split("_")[0] for c in CASES])
def test_moving_a_control_redraws_its_plot(page, voila_url, name, act, plot, wait_for):
    open_dashboard(page, voila_url, name)
    before = page.evaluate(FINGERPRINT_JS, plot)
    assert before is not None, f"{name}: no plot titled {plot!r}"
    act(page)
    if wait_for:
        page.wait_for_function(
            "(text) => Array.from(document.querySelectorAll('.lab-status')).some(s => s.textContent.includes(text))",
            arg=wait_for, timeout=120_000)
    page.wait_for_function("([title, before]) => (" + FINGERPRINT_JS + ")(title) !== before",
                           arg=[plot, before], timeout=60_000)
    assert error_texts(page) == [] and page.errors.items == []
    screenshot(page, ARTIFACTS / f"voila-{name.removesuffix('.ipynb')}-moved.png")
