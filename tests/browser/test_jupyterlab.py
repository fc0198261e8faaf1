"""The logistic-regression notebook in JupyterLab: open it, Run → Run All Cells, and the dashboards render."""

from __future__ import annotations

import pytest
from lab_pages import error_texts, plot_traces, slider, wait_for_widgets
from lab_servers import ARTIFACTS
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "01_logistic_regression.ipynb"


def test_run_all_renders_the_dashboards(page, jupyterlab_url):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{jupyterlab_url}lab/tree/{NOTEBOOK}", timeout=120_000)
    indicator = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
    expect(indicator).to_have_attribute("data-status", "idle", timeout=120_000)  # kernel started

    started = "() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt'))" \
              ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"
    for _ in range(3):  # a click that lands while the notebook is still settling does nothing: try again
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item = page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first
        item.wait_for(state="visible", timeout=10_000)
        item.click()
        try:
            page.wait_for_function(started, timeout=20_000, polling=250)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")

    code_prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")
    n_code = code_prompts.count()
    assert n_code > 0
    # every code cell has run once the last prompt shows a number and the kernel is idle again
    page.wait_for_function(
        """() => {
             const prompts = Array.from(document.querySelectorAll(
               '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt'));
             return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
           }""", timeout=180_000, polling=250)
    expect(indicator).to_have_attribute("data-status", "idle", timeout=120_000)

    expected, shown = wait_for_widgets(page)
    assert expected["FigureWidget"] > 0 and expected["slider"] > 0, f"the kernel made no dashboard: {expected}"
    for kind, n in expected.items():
        assert shown[kind] == n, f"{shown[kind]} {kind} shown, the kernel made {n} ({shown})"
    assert shown["drawn"] == expected["FigureWidget"], f"some plots never drew ({shown})"
    assert plot_traces(page) == page.kernel_widgets.trace_counts(), "plots show other traces than the kernel has"
    assert error_texts(page) == []
    assert page.errors.items == []

    photo = slider(page, "Training photo #")
    assert photo.count() == 1
    photo.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-01-photo.png"))
    lr = slider(page, "Learning rate α")
    assert lr.count() == 1
    lr.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-01-learning-rate.png"))
