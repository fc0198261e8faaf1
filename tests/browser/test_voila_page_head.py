"""A lab's Voilà page brings plotly's widget code in its head (widgets/page_head.py): the browser evaluates it while
the notebook still runs, and the kernel never sends the bundle over the page's websocket. That code is the lab's lean
build (widgets/js/plotly_widget_cartesian.js, 1.6 MB), not plotly's own 5 MB bundle. Voilà's own code (voila.js)
comes before the first cell, so the browser can load it while the notebook runs."""

from __future__ import annotations

import pytest
from test_voila import open_dashboard

pytestmark = pytest.mark.browser

MARK = "dl-lab: plotly in the head"


def test_plotlys_code_arrives_in_the_head_before_the_notebook_has_run(page, voila_url):
    frames: list[int] = []
    page.add_init_script(PARSE_ORDER_JS)
    page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(len(frame))))
    expected, counts = open_dashboard(page, voila_url, "01_logistic_regression.ipynb")

    assert counts["drawn"] == expected["FigureWidget"] > 0, counts  # every plot drew, from the head's code
    ran_at = page.evaluate(f"performance.getEntriesByName({MARK!r})[0]?.startTime")
    page_end = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
    assert ran_at is not None, "the page's head has no plotly preload (is voila.json's template 'dl-lab' installed?)"
    # Voilà sends the rest of the page after the notebook has run: the head's script ran before that
    assert ran_at < page_end, f"the preload ran at {ran_at:.0f} ms, after the page ended at {page_end:.0f} ms"
    size = page.evaluate("Math.max(...[...document.head.querySelectorAll('script[type=module]')]"
                         ".map(s => s.textContent.length))")
    assert 1_000_000 < size < 2_000_000, f"{size:,} characters of plotly code in the head, not the lean build's 1.6 MB"
    assert frames and max(frames) < 1_000_000, f"a {max(frames):,}-byte websocket message: the kernel sent the bundle"
    assert_voilas_code_comes_before_the_cells(page)
    assert page.errors.items == []


# Before any page script: the order in which the HTML parser adds the page's config, the script that loads
# voila.js and the first cell (Voilà's app later moves the cells, so the finished document cannot tell).
PARSE_ORDER_JS = """
window.__parseOrder = [];
new MutationObserver(mutations => {
  for (const m of mutations) for (const node of m.addedNodes) {
    if (node.nodeType !== 1) continue;
    const name = node.id === 'jupyter-config-data' ? 'config'
      : node.matches('script[src$="/voila.js"]') ? 'voila.js'
      : node.getAttribute('cell-index') === '1' ? 'first cell' : null;
    if (name && !window.__parseOrder.includes(name)) window.__parseOrder.push(name);
  }
}).observe(document, {childList: true, subtree: true});
"""


def assert_voilas_code_comes_before_the_cells(page) -> None:
    """The page loaded voila.js once, from a script placed after the page's config and before its first cell, so
    the browser fetches it as soon as it has parsed that far. How much sooner that makes a page is a benchmark's
    question (bench_voila.py): a browser still busy with the head's plotly code may get there after the last byte."""
    requested = page.evaluate("performance.getEntriesByType('resource')"
                              ".filter(e => new URL(e.name).pathname.endsWith('/voila.js')).length")
    assert requested == 1, f"voila.js requested {requested} times"
    assert page.evaluate("window.__parseOrder") == ["config", "voila.js", "first cell"]


def test_voila_inside_jupyterlabs_server_as_on_binder_brings_it_too(page, jupyterlab_url):
    """Binder's Voilà is an extension of the Jupyter server, configured by binder/jupyter_server_config.json."""
    page.add_init_script(PARSE_ORDER_JS)
    expected, counts = open_dashboard(page, jupyterlab_url, "01_logistic_regression.ipynb")
    assert counts["drawn"] == expected["FigureWidget"] > 0, counts
    assert page.evaluate(f"performance.getEntriesByName({MARK!r}).length") == 1
    assert_voilas_code_comes_before_the_cells(page)
    assert page.errors.items == []


def test_the_index_which_draws_no_plot_comes_without_plotlys_code(page, voila_url):
    expected, counts = open_dashboard(page, voila_url, "00_index.ipynb")
    assert expected["FigureWidget"] == 0 and counts == {**counts, **expected}, (expected, counts)
    assert page.evaluate(f"performance.getEntriesByName({MARK!r}).length") == 0
    assert page.errors.items == []
