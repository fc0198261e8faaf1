"""Fixtures for the browser tests: a Voilà server, a JupyterLab server and headless Chromium.

Servers and browser live for the whole session (starting them is the slow part); each test gets a fresh
browser context. Screenshots go to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import pytest
from lab_pages import KernelWidgets
from lab_servers import (
    ARTIFACTS,
    chromium_missing_reason,
    jupyterlab_server,
    launch_chromium,
    voila_server,
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/, without the failure screenshots of earlier sessions (they would pass for this one's)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*.png"):
        stale.unlink(missing_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_ok() -> None:
    """In CI a missing browser is a failure, never a silent skip; on a laptop it is a skip."""
    reason = chromium_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(chromium_ok):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def voila_url(chromium_ok, artifacts) -> str:
    """Base URL of `voila notebooks/` in tree mode, e.g. http://127.0.0.1:PORT/. Started from the repository
    root, so a voila.json there applies; $LAB_VOILA_CONFIG may name one more (to try a setting out)."""
    extra = os.environ.get("LAB_VOILA_CONFIG")
    config = json.loads(Path(extra).read_text()) if extra else None
    with voila_server(config=config, log_name="voila-tests.log") as base:
        yield base


@pytest.fixture(scope="session")
def jupyterlab_url(chromium_ok, artifacts) -> str:
    """Base URL of a token-less JupyterLab rooted at notebooks/, with throw-away settings."""
    with jupyterlab_server(log_name="jupyterlab-tests.log") as base:
        yield base


class PageErrors:
    """What went wrong on one page: uncaught JavaScript errors, console errors, and failed requests to the
    server under test. Requests elsewhere are ignored (Voilà's template links a CDN stylesheet, and this
    machine may be offline), and so is the console's own note about them."""

    def __init__(self, page, server: str = "http://127.0.0.1:"):
        self.items: list[str] = []
        self.server = server
        page.on("pageerror", lambda error: self.items.append(f"uncaught: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.items.append(f"console.error: {message.text[:500]}")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        if request.url.startswith(self.server) and "ERR_ABORTED" not in failure:  # aborted: the page moved on
            self.items.append(f"request failed: {request.url} {failure}")

    def _response(self, response) -> None:
        if response.url.startswith(self.server) and response.status >= 400:
            self.items.append(f"HTTP {response.status}: {response.url}")


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page (1280×900) that records its errors (`page.errors.items`) and its
    kernel's widgets (`page.kernel_widgets`); on failure a screenshot is saved."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.errors = PageErrors(page)
    page.kernel_widgets = KernelWidgets(page)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        with contextlib.suppress(Exception):  # the page may be gone; the failure itself is what matters
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
    with contextlib.suppress(Exception):  # a page that never loaded has no kernel to shut down
        shut_down_kernels(page)
    context.close()


def shut_down_kernels(page) -> None:
    """Shut down the Voilà kernels the page used, as Voilà's unload handler does with a beacon when a learner
    leaves (closing a browser context skips it). Without this, one suite run piled up 48 kernels (~13 GB) in the
    Voilà server, and the machine's OOM killer ended the run. JupyterLab's server has no such route: its few
    kernels are left to it."""
    sockets = page.evaluate("() => (window.__labKernelWidgets || {sockets: []}).sockets")
    for url in sockets:
        found = re.match(r"ws://([^/]+)/(.*)api/kernels/([^/]+)/channels", url)
        if found:
            host, base, kernel = found.groups()
            # tornado's XSRF check compares the _xsrf argument with the _xsrf cookie: the page has no such cookie
            # here (so Voilà's own beacon is refused, and kernels wait for the idle culler), hence a pair of our own
            page.request.post(f"http://{host}/{base}voila/api/shutdown/{kernel}", form={"_xsrf": "lab-tests"},
                              headers={"Cookie": "_xsrf=lab-tests"}, timeout=10_000)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
