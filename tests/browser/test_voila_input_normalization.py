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


# Installed before the page's scripts: counts the messages the page sends to the kernel that report a plot edit
# (`_js2py_restyle`, `_js2py_relayout`, `_js2py_update`), by name.
SENT_EDITS_JS = r"""
(() => {
  const sent = window.__sentEdits = {};
  const text = new TextDecoder();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const frame = typeof data === 'string' ? data : text.decode(data instanceof ArrayBuffer ? data : data.buffer);
    for (const name of frame.match(/_js2py_(restyle|relayout|update)/g) || []) sent[name] = (sent[name] || 0) + 1;
    return send.call(this, data);
  };
})()
"""
PLOT_JS = """(start) => Array.from(document.querySelectorAll('.js-plotly-plot')).find(
  p => p.layout && String(p.layout.title.text || '').startsWith(start))"""
# Full redraws of a plot are counted from now on: each one places and styles every training point again (their
# elements get attribute changes), which moving the dev rings or changing the title does not.
COUNT_REDRAWS_JS = """(start) => { const gd = (""" + PLOT_JS + """)(start); gd.__redraws = 0;
  const layers = gd.querySelectorAll('.scatterlayer .trace');
  const observer = new MutationObserver(records => { gd.__redraws += records.length; });
  gd.data.forEach((trace, i) => { if (String(trace.name).startsWith('train:')) observer.observe(layers[i - 1],
    {attributes: true, childList: true, subtree: true}); }); }"""
# The dev rings drawn, per trace, and the number of points each dev trace holds.
DEV_RINGS_JS = """(start) => { const gd = (""" + PLOT_JS + """)(start);
  const dev = gd.data.map((trace, i) => [trace, i]).filter(([trace]) => String(trace.name).startsWith('dev:'));
  const layers = gd.querySelectorAll('.scatterlayer .trace');
  return {held: dev.map(([trace]) => trace.x.length), drawn: dev.map(([, i]) => layers[i - 1].querySelectorAll(
    '.point').length), redraws: gd.__redraws, title: String(gd.layout.title.text)}; }"""


def test_a_new_dev_shift_moves_the_rings_without_redrawing_the_plots(page, voila_url):
    """A press of the dev-shift slider redraws the dev rings alone (plotly.js's animate, no transition) and the
    titles as a plain title change: neither plot is recalculated and redrawn whole, and nothing is echoed back to
    the kernel. A learner's own zoom still is reported to it."""
    page.add_init_script(SENT_EDITS_JS)
    open_dashboard(page, voila_url, NAME)
    for start in (DEV_TRAINING, DEV_OWN):
        page.evaluate(COUNT_REDRAWS_JS, start)
    before = {start: page.evaluate(DEV_RINGS_JS, start) for start in (DEV_TRAINING, DEV_OWN)}
    handle = slider(page, "Dev-set shift of x₂ (training σ's)").first.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(5):  # 1.5 → 2.0 training σ's: some rings change class, so the traces change length
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([start, title]) => (" + PLOT_JS + ")(start).layout.title.text !== title",
                           arg=[DEV_OWN, before[DEV_OWN]["title"]], timeout=30_000)
    page.wait_for_timeout(1000)  # the later presses' messages

    assert readout(page, "Dev-set shift of x₂ (training σ's)") == "2.0"
    for start in (DEV_TRAINING, DEV_OWN):
        after = page.evaluate(DEV_RINGS_JS, start)
        assert after["held"] != before[start]["held"] and sum(after["held"]) == 200, (start, before, after)
        assert after["drawn"] == after["held"], after  # every ring on the page, none left over
        assert after["redraws"] == 0, f"{start}: the training points were drawn again ({after['redraws']} changes)"
        assert after["title"] != before[start]["title"] or start == DEV_TRAINING and "accuracy" in after["title"]
    assert page.evaluate("window.__sentEdits") == {}  # the kernel's own edits are not sent back to it

    # a learner's zoom (a box dragged on the plot) is reported to the kernel
    area = page.evaluate_handle(PLOT_JS, DEV_OWN).as_element().query_selector(".nsewdrag").bounding_box()
    page.mouse.move(area["x"] + 60, area["y"] + 60)
    page.mouse.down()
    page.mouse.move(area["x"] + 160, area["y"] + 160, steps=5)
    page.mouse.up()
    page.wait_for_function("() => (window.__sentEdits._js2py_relayout || 0) > 0", timeout=10_000)
    assert page.errors.items == []
