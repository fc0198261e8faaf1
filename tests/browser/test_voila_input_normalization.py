"""Lab 06 in Voilà: a learner moves every control of its three dashboards once and the plot it drives changes."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, plot_summary, screenshot, slider
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import FINGERPRINT_JS, choose, click_slider, eventually

pytestmark = pytest.mark.browser

NAME = "06_input_normalization.ipynb"
RAW, NORMALIZED, COSTS = "Raw features", "Normalized features", "Cost J while training"
SPREADS = "Spread of each feature"
DEV_TRAINING, DEV_OWN = "Dev set normalized with the training", "Dev set normalized with its own"

TITLE_JS = """(start) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(start));
  return gd ? String(gd.layout.title.text) : null;
}"""
CHANGED_JS = "([title, before]) => (" + FINGERPRINT_JS + ")(title) !== before"
BODY_JS = "(text) => document.body.innerText.includes(text)"
STATUS_JS = "(text) => Array.from(document.querySelectorAll('.lab-status')).some(s => s.textContent.includes(text))"


def fingerprint(page, title: str) -> str:
    found = page.evaluate(FINGERPRINT_JS, title)
    assert found is not None, f"no plot titled {title!r}"
    return found


def wait_for_change(page, title: str, before: str, timeout: float = 90_000) -> None:
    page.wait_for_function(CHANGED_JS, arg=[title, before], timeout=timeout)


def title(page, start: str) -> str:
    return page.evaluate(TITLE_JS, start)


def readout(page, label: str) -> str:
    return slider(page, label).first.locator(".widget-readout").inner_text()


def kappa(text: str) -> float:
    """κ from a plot title such as 'Raw features: κ = 11,000' or '… κ = 1.1·10⁶'."""
    value = text.split("κ = ")[1].replace(",", "")
    if "·10" in value:
        mantissa, power = value.split("·10")
        return float(mantissa) * 10 ** int(power.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")))
    return float(value)


def test_every_control_of_lab_06_redraws_its_plot(page, voila_url):
    open_dashboard(page, voila_url, NAME)
    assert title(page, RAW) == "Raw features: κ = 11,000"  # the start: scale ratio 100

    # feature scale ratio → new raw contours and both paths walked
    before = fingerprint(page, RAW)
    click_slider(page, "Feature scale ratio", 1 / 3)  # about 10 on the 1…1000 log slider
    wait_for_change(page, RAW, before)
    page.wait_for_function(STATUS_JS, arg="Finished", timeout=120_000)
    assert 30 < kappa(title(page, RAW)) < 1000, title(page, RAW)
    assert kappa(title(page, NORMALIZED)) < 1.3
    assert plot_summary(page, COSTS)["traces"] == 2

    # step size f → both α's change, a new pair of cost curves
    before = fingerprint(page, COSTS)
    click_slider(page, "Step size f (α = f / L)", 0.2)
    wait_for_change(page, COSTS, before)
    f = float(readout(page, "Step size f (α = f / L)"))
    assert f < 0.9

    def alpha_follows_f() -> None:  # the line and the plot are two messages: read until the line has its update
        text = page.inner_text("body")
        alpha = float(re.search(r"normalized features: α = (\d+(?:\.\d+)?)", text).group(1))
        assert alpha == pytest.approx(3.85 * f, rel=0.06)  # α = f / L, L ≈ 0.26 for normalized inputs

    eventually(page, alpha_follows_f)

    # iterations → each path and each cost curve has that many steps once the run ends
    click_slider(page, "Iterations (each run)", 0.05)
    steps = int(readout(page, "Iterations (each run)"))
    page.wait_for_function("([title, n]) => { const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".find(p => p.layout && String(p.layout.title.text || '').startsWith(title));"
                           " return gd && gd.data.length === 2 && gd.data.every(t => t.x && t.x.length === n); }",
                           arg=[COSTS, steps], timeout=120_000)
    # the raw run, at ratio ≈ 10; the summary is written once the run has ended, just after the status line says
    # "Finished", so it is waited for rather than read at once
    page.wait_for_function(BODY_JS, arg=f"not reached in {steps} iterations", timeout=60_000)

    # Run, then Stop at once; Clear empties the cost plot
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(STATUS_JS, arg="Stopped", timeout=30_000)
    page.get_by_role("button", name="Clear runs").click()
    page.wait_for_function("(title) => { const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))"
                           ".find(p => p.layout && String(p.layout.title.text || '').startsWith(title));"
                           " return gd && gd.data.length === 0; }", arg=COSTS, timeout=30_000)

    # data set → a bar per breast-cancer feature for each recipe
    before = fingerprint(page, SPREADS)
    choose(page, "Data set", "breast cancer")
    wait_for_change(page, SPREADS, before, timeout=30_000)
    assert plot_summary(page, SPREADS)["points"] == 3 * 30

    # dev-set shift → the dev rings move on both plots; with no shift the two accuracies agree
    before = fingerprint(page, DEV_OWN)
    click_slider(page, "Dev-set shift of x₂ (training σ's)", 0.5)
    wait_for_change(page, DEV_OWN, before, timeout=30_000)
    honest = float(re.search(r"([\d.]+)%$", title(page, DEV_TRAINING)).group(1))
    misled = float(re.search(r"([\d.]+)%$", title(page, DEV_OWN)).group(1))
    shift = float(readout(page, "Dev-set shift of x₂ (training σ's)"))
    assert abs(shift) <= 0.3 and abs(honest - misled) < 5, (shift, honest, misled)

    assert error_texts(page) == [] and page.errors.items == []
    screenshot(page, ARTIFACTS / "voila-06_input_normalization-moved.png")
