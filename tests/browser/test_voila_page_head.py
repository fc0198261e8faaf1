"""A lab's Voilà page brings plotly's widget code in its head (widgets/page_head.py): the browser evaluates it while
the notebook still runs, and the kernel never sends the bundle over the page's websocket. That code is the lab's lean
build (widgets/js/plotly_widget_cartesian.js, 1.6 MB), not plotly's own 5 MB bundle. Voilà's own code (voila.js)
comes before the first cell, so it too loads while the notebook runs."""

from __future__ import annotations

import pytest
from test_voila import open_dashboard

pytestmark = pytest.mark.browser

MARK = "dl-lab: plotly in the head"


def test_plotlys_code_arrives_in_the_head_before_the_notebook_has_run(page, voila_url):
    frames: list[int] = []
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
    assert_voilas_code_came_before_the_page_ended(page)
    assert page.errors.items == []


def assert_voilas_code_came_before_the_page_ended(page) -> None:
    """voila.js was requested once, before the last of the page (sent once the notebook has run) had arrived."""
    requested = page.evaluate("performance.getEntriesByType('resource')"
                              ".filter(e => new URL(e.name).pathname.endsWith('/voila.js')).map(e => e.startTime)")
    page_end = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
    assert len(requested) == 1, f"voila.js requested {len(requested)} times"
    assert requested[0] < page_end, f"voila.js requested at {requested[0]:.0f} ms, page ended {page_end:.0f}"


def test_voila_inside_jupyterlabs_server_as_on_binder_brings_it_too(page, jupyterlab_url):
    """Binder's Voilà is an extension of the Jupyter server, configured by binder/jupyter_server_config.json."""
    expected, counts = open_dashboard(page, jupyterlab_url, "01_logistic_regression.ipynb")
    assert counts["drawn"] == expected["FigureWidget"] > 0, counts
    assert page.evaluate(f"performance.getEntriesByName({MARK!r}).length") == 1
    assert_voilas_code_came_before_the_page_ended(page)
    assert page.errors.items == []


def test_the_index_which_draws_no_plot_comes_without_plotlys_code(page, voila_url):
    expected, counts = open_dashboard(page, voila_url, "00_index.ipynb")
    assert expected["FigureWidget"] == 0 and counts == {**counts, **expected}, (expected, counts)
    assert page.evaluate(f"performance.getEntriesByName({MARK!r}).length") == 0
    assert page.errors.items == []
