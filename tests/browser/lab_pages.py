"""What the browser tests and the benchmark read off a rendered page (Voilà or JupyterLab)."""

from __future__ import annotations

import base64
import json
import re
import time

# Counts of what rendered, by the same names as `KernelWidgets.counts` (plus root views and drawn plots).
DOM_COUNTS_JS = """() => ({
  FigureWidget: document.querySelectorAll('.js-plotly-plot').length,
  drawn: Array.from(document.querySelectorAll('.js-plotly-plot')).filter(p => p.querySelector('.main-svg')).length,
  slider: document.querySelectorAll('.widget-slider').length,
  Dropdown: document.querySelectorAll('.widget-dropdown').length,
  Button: document.querySelectorAll('.widget-button').length,
  HTML: document.querySelectorAll('.widget-html').length,
  root: document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length,
})"""

# Text a learner must never see: Voilà's stripped-traceback notice, tracebacks, "SomeError: …" lines,
# the lab's own error lines, and stderr outputs (warnings printed into the page). "Error rate" is fine.
ERRORS_JS = r"""() => {
  const found = [];
  for (const el of document.querySelectorAll('.lab-status-error')) found.push('lab-status-error: ' + el.textContent);
  for (const el of document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
    found.push('stderr output: ' + el.textContent.slice(0, 300));
  for (const el of document.querySelectorAll('.jp-OutputArea-output')) {
    const text = el.innerText || '';
    const pattern = new RegExp('There was an error[^\\n]*|Traceback \\(most recent call last\\)'
                               + '|\\b(?:[A-Z]\\w*)?(?:Error|Exception|Warning)\\b:[^\\n]*');
    const m = text.match(pattern);
    if (m) found.push('output: ' + m[0].slice(0, 300));
  }
  return found;
}"""

# The plotly figure whose title starts with `title`: its traces and what is drawn.
PLOT_JS = """(title) => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const gd = plots.find(p => p.layout && p.layout.title && String(p.layout.title.text || '').startsWith(title));
  if (!gd) return null;
  const paths = Array.from(gd.querySelectorAll('.scatterlayer path.js-line')).map(p => p.getAttribute('d') || '');
  return {
    traces: gd.data.length,
    names: gd.data.map(t => t.name),
    points: gd.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0),
    drawnLines: paths.filter(d => d.length > 0).length,
    drawnVertices: paths.reduce((n, d) => n + (d.match(/[LM]/g) || []).length, 0),
  };
}"""


def plot_traces(page) -> list[int]:
    """Traces per drawn plot, sorted."""
    counts = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => (p.data || []).length)")
    return sorted(counts)


def dom_counts(page) -> dict[str, int]:
    return page.evaluate(DOM_COUNTS_JS)


def error_texts(page) -> list[str]:
    return page.evaluate(ERRORS_JS)


def plot_summary(page, title: str) -> dict | None:
    return page.evaluate(PLOT_JS, title)


def wait_for_widgets(page, root_views: int = 0, timeout: float = 120.0
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Wait until the page shows every widget its kernel made, every plot is drawn, and at least
    `root_views` top-level widget outputs rendered. Returns (kernel counts, page counts); on timeout returns
    them as they are, so the caller's assert names what is missing."""
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while True:
        expected = page.kernel_widgets.counts()
        if expected != last:
            last, stable_since = expected, time.monotonic()
        shown = dom_counts(page)
        done = (shown["root"] >= root_views and shown["drawn"] >= expected["FigureWidget"]
                and all(shown[k] >= n for k, n in expected.items()))
        if done and time.monotonic() - stable_since > 1.0 or time.monotonic() > deadline:
            return expected, shown
        page.wait_for_timeout(200)


def slider(page, label: str):
    """The ipywidgets slider whose label reads exactly `label`."""
    return page.locator(".widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))


class KernelWidgets:
    """The widgets the page's kernel has, read from the kernel websocket as the page receives it.

    Every widget model reaches the browser with its full state (a `comm_open` while a cell runs, or the
    `update_states` answer to the page's request for all of them), so counting those tells how many
    figures and controls the page should show, without running the notebook a second time.
    """

    def __init__(self, page):
        self.models: dict[str, dict] = {}  # comm id → {"_model_name", "_anywidget_id"}
        self._sockets: set[str] = set()
        # Chromium's own network events, subscribed before the page loads: Playwright's "websocket" event can
        # reach Python after a preheated kernel's first frames (its answer comes at once), and a listener added
        # then never sees them (seen in CI: widgets on the page, none counted).
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.webSocketCreated", self._created)
        cdp.on("Network.webSocketFrameReceived", self._received)
        cdp.send("Network.enable")

    def _created(self, params: dict) -> None:
        if "/channels" in params.get("url", ""):
            self._sockets.add(params["requestId"])

    def _received(self, params: dict) -> None:
        if params.get("requestId") not in self._sockets:
            return
        response = params["response"]
        binary = response.get("opcode") == 2  # binary frames come base64-encoded
        self._frame(base64.b64decode(response["payloadData"]) if binary else response["payloadData"])

    def _frame(self, payload) -> None:
        try:
            content = _ws_content(payload)
        except (ValueError, IndexError, UnicodeDecodeError):
            return
        data = content.get("data") if isinstance(content, dict) else None
        if not isinstance(data, dict):
            return
        if data.get("method") == "update_states":  # the control comm's answer: every model at once
            for comm_id, model in data.get("states", {}).items():
                self._record(comm_id, {"_model_name": model.get("model_name", ""), **model.get("state", {})})
        elif isinstance(data.get("state"), dict) and "comm_id" in content:  # comm_open, or one model's update
            self._record(content["comm_id"], data["state"])

    def _record(self, comm_id: str, state: dict) -> None:
        if "_model_name" in state:
            self.models[comm_id] = {k: state.get(k, "") for k in ("_model_name", "_anywidget_id")}
        if comm_id in self.models and isinstance(state.get("_widget_data"), list):  # a figure's full state
            self.models[comm_id]["traces"] = len(state["_widget_data"])

    def trace_counts(self) -> list[int]:
        """Traces per figure in the kernel's last full state of each, sorted (to compare with `plot_traces`)."""
        return sorted(m["traces"] for m in self.models.values() if "traces" in m)

    def counts(self) -> dict[str, int]:
        """Same keys as `dom_counts`: what the kernel made, hence what must render."""
        models = list(self.models.values())
        return {
            "FigureWidget": sum(m["_anywidget_id"].endswith(".FigureWidget") for m in models),
            "slider": sum(m["_model_name"].endswith("SliderModel") for m in models),
            "Dropdown": sum(m["_model_name"] == "DropdownModel" for m in models),
            "Button": sum(m["_model_name"] == "ButtonModel" for m in models),
            "HTML": sum(m["_model_name"] == "HTMLModel" for m in models),
        }


def _ws_content(payload: str | bytes) -> dict:
    """The `content` of one kernel websocket message: JSON text, or Jupyter's binary v1 framing
    (count, offsets, then channel, header, parent header, metadata, content, buffers)."""
    if isinstance(payload, str):
        return json.loads(payload).get("content", {})
    count = int.from_bytes(payload[:8], "little")
    offsets = [int.from_bytes(payload[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    return json.loads(payload[offsets[4]:offsets[5]])


def screenshot(page, path, max_height: int = 12_000) -> None:
    """A screenshot of the whole content. Voilà and JupyterLab scroll inside an element, not the page, so
    `full_page` alone would stop at the window: the window is made as tall as the content for the shot."""
    height = page.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...Array.from(document.querySelectorAll('body *'))
          .filter(e => e.scrollHeight > e.clientHeight + 4 && /(auto|scroll)/.test(getComputedStyle(e).overflowY))
          .map(e => e.scrollHeight + e.getBoundingClientRect().top))""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max_height, max(size["height"], int(height) + 20))})
    page.wait_for_timeout(700)  # plots re-layout to the new window
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
