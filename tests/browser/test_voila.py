"""Every notebook served by Voilà, loaded in headless Chromium: it renders, shows no error, and reacts."""

from __future__ import annotations

import math
import re
import urllib.parse
import urllib.request

import pytest
from lab_pages import dom_counts, error_texts, plot_summary, screenshot, settled_traces, slider, wait_for_widgets
from lab_servers import ARTIFACTS, dashboard_cells, notebook_names
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

COST_PLOT = "Cost J on the training photos"
LOAD_TIMEOUT_MS = 180_000  # Voilà runs the whole notebook before it shows anything


def open_dashboard(page, voila_url: str, name: str) -> tuple[dict[str, int], dict[str, int]]:
    """Load a notebook in Voilà and wait until all its widgets show; returns (kernel counts, page counts)."""
    response = page.goto(f"{voila_url}voila/render/{name}", wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    # Voilà removes its spinner once every cell has run and the page is shown
    page.wait_for_function("document.readyState === 'complete' && !document.getElementById('loading')",
                           timeout=LOAD_TIMEOUT_MS, polling=200)
    assert response.status == 200, f"{name}: HTTP {response.status}"
    displays = response.text().count('"application/vnd.jupyter.widget-view+json"')  # one per shown widget
    return wait_for_widgets(page, root_views=displays)


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_renders_without_errors(page, voila_url, name):
    expected, counts = open_dashboard(page, voila_url, name)
    screenshot(page, ARTIFACTS / f"voila-{name.removesuffix('.ipynb')}.png")

    assert error_texts(page) == []
    assert page.errors.items == []
    for kind, n in expected.items():
        assert counts[kind] == n, f"{name}: {counts[kind]} {kind} on the page, the notebook makes {n} ({counts})"
    assert counts["drawn"] == expected["FigureWidget"], f"{name}: some plots never drew ({counts})"
    shown_traces, kernel_traces = settled_traces(page)
    assert shown_traces == kernel_traces, "plots show other traces than the kernel has"
    if any(dashboard_cells(name)):
        assert counts["FigureWidget"] > 0 and counts["slider"] + counts["Dropdown"] + counts["Button"] > 0, counts


def test_index_links_every_notebook_and_each_link_opens(page, voila_url):
    open_dashboard(page, voila_url, "00_index.ipynb")
    hrefs = page.eval_on_selector_all("#rendered_cells a[href$='.ipynb']", "links => links.map(a => a.href)")
    others = set(notebook_names()) - {"00_index.ipynb"}
    linked = {urllib.parse.urlparse(h).path.rsplit("/", 1)[-1] for h in hrefs}
    assert linked == others, f"the index links {sorted(linked)}, the lab has {sorted(others)}"
    for href in sorted(set(hrefs)):
        assert urllib.parse.urlparse(href).path.startswith("/voila/render/"), href
        assert open_and_leave(href, voila_url) == 200, href


def open_and_leave(url: str, voila_url: str) -> int:
    """GET a Voilà page only until it names its kernel (before any cell runs), then leave and shut that
    kernel down, as a learner who clicks a link and closes the tab at once. Returns the HTTP status."""
    with urllib.request.urlopen(url, timeout=120) as response:
        head = b""
        while b'"kernelId"' not in head and len(head) < 16_000_000:  # the head carries plotly's code (~5 MB)
            chunk = response.read1(65536)
            if not chunk:
                break
            head += chunk
        status = response.status
    kernel = re.search(rb'"kernelId":\s*"([0-9a-f-]+)"', head)
    assert kernel, f"{url}: no kernel id in the first {len(head)} bytes"
    # Voilà never sets the _xsrf cookie its own unload beacon needs (voila#1458): send the pair ourselves
    shutdown = urllib.request.Request(f"{voila_url}voila/api/shutdown/{kernel.group(1).decode()}",
                                      data=b"_xsrf=dl-lab-tests", method="POST",
                                      headers={"Cookie": "_xsrf=dl-lab-tests"})
    with urllib.request.urlopen(shutdown, timeout=60) as done:
        assert done.status == 204, f"shutting down the kernel of {url}: HTTP {done.status}"
    return status


def lr_dashboard(page):
    lr = slider(page, "Learning rate α")
    assert lr.count() == 1, "the learning-rate slider is missing"
    board = page.locator(".jp-OutputArea-output > .widget-vbox").filter(has=lr)
    return lr, board.locator(".lab-status")


def lr_readout(lr) -> float:
    return float(lr.locator(".widget-readout").inner_text())


def test_moving_the_learning_rate_trains_and_redraws_the_cost(page, voila_url):
    expected, _ = open_dashboard(page, voila_url, "01_logistic_regression.ipynb")
    lr, status = lr_dashboard(page)
    before = plot_summary(page, COST_PLOT)
    assert before is not None, "no cost plot"
    assert before["drawnLines"] == 0 and before["points"] == 0  # nothing trains until a control moves

    # a learner clicks the slider's track at 60 %: α jumps to about 10^(-4 + 0.6·5) = 0.1
    track = lr.locator(".noUi-base")
    box = track.bounding_box()  # its size; the click lands where the track is at that moment (see click_slider)
    track.click(position={"x": 0.6 * box["width"], "y": box["height"] / 2})
    expect(status).to_contain_text("Finished", timeout=90_000)  # the status line is re-created on each change
    value = lr_readout(lr)
    assert 0.03 < value < 0.3, f"the click set α = {value}"

    after = plot_summary(page, COST_PLOT)
    assert after["drawnLines"] > before["drawnLines"], after
    assert after["points"] >= 50 and after["drawnVertices"] >= 2, after
    assert any(name.startswith(f"α={value:.2g}") for name in after["names"]), after["names"]
    assert "lab-status-success" in status.get_attribute("class")
    assert re.search(r"test accuracy \d+\.\d%", status.inner_text())
    assert error_texts(page) == [] and page.errors.items == []
    lr.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "voila-01-after-training.png"))

    # dragging the handle to the right end: α = 10 blows the cost up and the status line says so
    lr.scroll_into_view_if_needed()
    box = track.bounding_box()
    handle = lr.locator(".noUi-handle")
    hbox = handle.bounding_box()
    page.mouse.move(hbox["x"] + hbox["width"] / 2, hbox["y"] + hbox["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] + 40, hbox["y"] + hbox["height"] / 2, steps=12)
    page.mouse.up()
    expect(status).to_have_class(re.compile(r"\blab-status-warning\b"), timeout=90_000)
    assert math.isclose(lr_readout(lr), 10.0), lr.inner_text()
    assert "try a smaller learning rate" in status.inner_text()
    diverged = plot_summary(page, COST_PLOT)
    assert diverged["traces"] == after["traces"] + 1
    assert any(name.endswith("(diverged)") for name in diverged["names"]), diverged["names"]
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "voila-01-diverged.png"))
    assert dom_counts(page)["FigureWidget"] == expected["FigureWidget"]


# Installed before the page's scripts: a record of the kernel websocket's comm frames that concern plotly's figures.
FIGURE_FRAMES_JS = r"""
(() => {
  const log = window.__figureFrames = {updates: [], answers: [], echoes: 0, misnamed: 0};
  const text = new TextDecoder();
  const read = data => typeof data === 'string' ? data
    : text.decode(data instanceof ArrayBuffer ? data : data.buffer);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        const frame = read(event.data);
        if (frame.includes('"_py2js_update"')) {  // an edit of a figure, from the kernel
          const comm = frame.match(/"comm_id":\s*"([^"]+)"/);
          log.updates.push({comm: comm && comm[1], at: performance.now()});
        }
        if (/"method":\s*"echo_update"/.test(frame) && frame.includes('_js2py_')) log.echoes += 1;
      });
    }
    send(data) {
      const frame = read(data);
      if (frame.includes('_js2py_widget_layoutDelta')) log.misnamed += 1;
      if (frame.includes('"_js2py_traceDeltas"') || frame.includes('"_js2py_layoutDelta"')) {
        log.answers.push({traces: frame.includes('"_js2py_traceDeltas"'),
                          layout: frame.includes('"_js2py_layoutDelta"'),
                          empty: frame.includes('"trace_deltas":[]') && frame.includes('"layout_delta":{}'),
                          bytes: frame.length});
      }
      return super.send(data);
    }
  };
})()
"""


def test_a_training_run_is_drawn_live_and_each_drawn_edit_is_answered_once(page, voila_url):
    """While a run trains, its curves are redrawn a few times a second: each push waits only until the browser
    has drawn the last one (widgets/draw_pace.py), which the page says by answering every drawn edit with its
    number, once, under the names plotly's Python side listens to, and without echo from the kernel. (plotly's own
    widget code answered layout edits under a name no trait has: every push after the first then waited a whole
    second, and the lean build's answers carried each trace's computed defaults, 5–7 kB a figure a push.)"""
    page.add_init_script(FIGURE_FRAMES_JS)
    open_dashboard(page, voila_url, "01_logistic_regression.ipynb")
    lr, status = lr_dashboard(page)
    iterations = slider(page, "Iterations").first
    handle = iterations.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    start = page.evaluate("performance.now()")
    page.keyboard.press("End")  # 5,000 iterations: a run of a few seconds
    expect(status).to_contain_text("Finished", timeout=90_000)
    seconds = float(re.search(r"5000 iterations in ([\d.]+) s", status.inner_text()).group(1))
    log = page.evaluate("window.__figureFrames")

    per_figure: dict[str, int] = {}
    for update in log["updates"]:
        if update["at"] > start:
            per_figure[update["comm"]] = per_figure.get(update["comm"], 0) + 1
    busiest = max(per_figure.values())  # once a second: the first point, the end and one a second between
    assert busiest >= 2 + 2 * seconds, f"{per_figure} edits a figure in a {seconds} s run: not drawn live"
    answers = log["answers"]
    assert answers and all(a["traces"] and a["layout"] and a["empty"] for a in answers), answers[:5]
    assert max(a["bytes"] for a in answers) < 1500, "an answer carried more than the edit's number"
    assert log["misnamed"] == 0 and log["echoes"] == 0, log
    assert page.errors.items == []
