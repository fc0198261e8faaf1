"""Every notebook in JupyterLab: open it, Run → Run All Cells, and every dashboard renders under its cell."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
from lab_pages import error_texts, screenshot, settled_traces, slider, wait_for_widgets
from lab_servers import ARTIFACTS, dashboard_cells, notebook_names
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on screen

# Per code cell of the notebook on screen, in order: what its output area holds. A widget output shows
# "Loading widget..." until its view renders, and "Error displaying widget…" when it cannot.
CELLS_JS = f"""() => Array.from(document.querySelectorAll('{PANEL} .jp-CodeCell')).map(cell => {{
  const outputs = Array.from(cell.querySelectorAll('.jp-OutputArea-output'));
  const plots = Array.from(cell.querySelectorAll('.js-plotly-plot'));
  return {{
    prompt: (cell.querySelector('.jp-InputPrompt') || {{}}).textContent || '',
    rendered: outputs.filter(o => o.querySelector(':scope > .jupyter-widgets')).length,
    unrendered: outputs.filter(o => /Loading widget|Error displaying widget/.test(o.innerText || '')).length,
    plots: plots.length,
    drawn: plots.filter(p => p.querySelector('.main-svg')).length,
    controls: cell.querySelectorAll('.widget-slider, .widget-dropdown, .widget-button, .widget-text').length,
    text: outputs.map(o => o.innerText || '').join(' ').slice(0, 300),
  }};
}})"""


@pytest.fixture
def lab_page(page, jupyterlab_url):
    """The page, and afterwards every kernel of the server shut down: the next notebook starts from a quiet
    machine, and its page sees no other kernel's widgets."""
    yield page
    with urllib.request.urlopen(f"{jupyterlab_url}api/sessions", timeout=30) as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{jupyterlab_url}api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=60).close()


# True once the notebook on screen has its kernel connected and idle: before that, Run All Cells either does
# nothing (no kernel yet: every cell is skipped) or sends its requests late. `window.jupyterapp` is there because
# the test server runs with --LabApp.expose_app_in_browser.
KERNEL_READY_JS = """async () => {
  const app = window.jupyterapp;
  const late = new Promise((resolve) => setTimeout(() => resolve(false), 2000));
  const soon = (promise) => Promise.race([promise.then(() => true), late]);
  if (!app || !(await soon(app.restored))) return false;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !(await soon(panel.sessionContext.ready))) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def run_all(page) -> None:
    """Run → Run All Cells once the notebook's kernel is connected and idle, then wait until every code cell has
    run once and the kernel is idle again.

    The menu item is clicked once: a click before the kernel is connected does nothing, and a second click
    after a first one that JupyterLab held back re-runs every cell, after which the kernel holds widgets no
    cell shows.
    """
    deadline = time.monotonic() + 120
    while not page.evaluate(KERNEL_READY_JS):
        assert time.monotonic() < deadline, "the notebook's kernel was not connected and idle within 120 s"
        page.wait_for_timeout(250)
    indicator = page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator")
    expect(indicator).to_have_attribute("data-status", "idle", timeout=30_000)
    item = page.locator(".lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^\s*Run All Cells\s*$")))
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    item.first.wait_for(state="visible", timeout=10_000)
    assert "lm-mod-disabled" not in (item.first.get_attribute("class") or ""), "Run All Cells is disabled"
    item.first.click()
    # every code cell has run once each prompt shows its number, in order, and the kernel is idle again
    prompts = f"() => Array.from(document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt'), p => p.textContent)"
    page.wait_for_function(f"() => {{ const shown = ({prompts})(); return shown.length > 0 && "
                           "shown.every(text => /\\[\\d+\\]/.test(text)); }", timeout=300_000, polling=250)
    expect(indicator).to_have_attribute("data-status", "idle", timeout=120_000)
    shown = page.evaluate(prompts)
    numbers = [int(re.search(r"\d+", text)[0]) for text in shown]
    assert numbers == list(range(1, len(numbers) + 1)), f"Run All did not run each cell once, in order: {shown}"


@pytest.mark.parametrize("name", notebook_names())
def test_run_all_renders_every_dashboard(lab_page, jupyterlab_url, name):
    page = lab_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    # a workspace of its own: JupyterLab would otherwise reopen the notebooks of the tests before
    page.goto(f"{jupyterlab_url}lab/workspaces/test-{name.split('_')[0]}/tree/{name}", timeout=120_000)
    run_all(page)

    wanted = dashboard_cells(name)
    expected, shown = wait_for_widgets(page, root_views=sum(wanted))  # each dashboard is one widget output
    for kind, n in expected.items():
        assert shown[kind] == n, f"{name}: {shown[kind]} {kind} shown, the kernel made {n} ({shown})"
    assert shown["drawn"] == expected["FigureWidget"], f"{name}: some plots never drew ({shown})"
    shown_traces, kernel_traces = settled_traces(page)
    assert shown_traces == kernel_traces, "plots show other traces than the kernel has"
    assert error_texts(page) == [], name
    assert page.errors.items == [], name

    # every cell that calls a dashboard shows it under the cell: rendered, with its plots drawn and controls
    cells = page.evaluate(CELLS_JS)
    assert len(cells) == len(wanted), f"{name}: {len(cells)} code cells on screen, the notebook has {len(wanted)}"
    for index, (cell, calls) in enumerate(zip(cells, wanted, strict=True)):
        where = f"{name}, code cell {index + 1} {cell['prompt']}"
        assert cell["unrendered"] == 0, f"{where}: a widget output never rendered ({cell})"
        if calls:
            assert cell["rendered"] == 1, f"{where}: no dashboard under it ({cell})"
            assert cell["plots"] > 0 and cell["drawn"] == cell["plots"], f"{where}: plots not drawn ({cell})"
            assert cell["controls"] > 0, f"{where}: a dashboard without controls ({cell})"
    if any(wanted):
        assert expected["FigureWidget"] > 0 and expected["slider"] + expected["Dropdown"] + expected["Button"] > 0
    screenshot(page, ARTIFACTS / f"jupyterlab-{name.removesuffix('.ipynb')}.png")

    if name.startswith("01_"):  # the controls a learner uses first, close up
        for label, shot in (("Training photo #", "photo"), ("Learning rate α", "learning-rate")):
            control = slider(page, label)
            assert control.count() == 1, f"{label!r}: {control.count()} sliders"
            control.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"jupyterlab-01-{shot}.png"))
