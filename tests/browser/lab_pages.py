"""What the browser tests and the benchmark read off a rendered page (Voilà or JupyterLab)."""

from __future__ import annotations

import re
import time
from pathlib import Path

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


def settled_traces(page, timeout: float = 15.0) -> tuple[list[int], list[int]]:
    """(traces per drawn plot, traces per figure of the kernel), once the two agree or after `timeout` s.

    The recorder counts a kernel message before the page applies it, and a plot applies it a moment later: on a
    loaded machine that moment can outlast the second of stillness `wait_for_widgets` waits for (seen once in
    JupyterLab, lab 03, with a second test suite running beside it).
    """
    deadline = time.monotonic() + timeout
    while True:
        shown, kernel = plot_traces(page), page.kernel_widgets.trace_counts()
        if shown == kernel or time.monotonic() > deadline:
            return shown, kernel
        page.wait_for_timeout(250)


def dom_counts(page) -> dict[str, int]:
    return page.evaluate(DOM_COUNTS_JS)


def error_texts(page) -> list[str]:
    return page.evaluate(ERRORS_JS)


def plot_summary(page, title: str) -> dict | None:
    return page.evaluate(PLOT_JS, title)


# What the page's kernel sent (the recorder's counts, by the same names as DOM_COUNTS_JS) and what the page shows,
# read in one evaluation: both come from the page's own main thread, so no widget can be on screen while the
# kernel message that made it is still uncounted.
SNAPSHOT_JS = f"""() => {{
  const kernel = window.__labKernelWidgets;
  return {{
    kernel: kernel ? kernel.counts() : null,
    sockets: kernel ? kernel.sockets.slice() : [],
    errors: kernel ? kernel.errors.slice(0, 5) : ["the kernel-widget recorder is not installed in this page"],
    states: kernel ? kernel.states : null,
    page: ({DOM_COUNTS_JS})(),
  }};
}}"""


def missing_widgets(expected: dict[str, int], shown: dict[str, int], root_views: int = 0) -> list[str]:
    """What the page does not show yet, e.g. 'FigureWidget (3 of 5)', 'drawn plots (3 of 5)'."""
    gaps = [f"{kind} ({shown[kind]} of {n})" for kind, n in expected.items() if shown[kind] < n]
    if shown["drawn"] < expected["FigureWidget"]:
        gaps.append(f"drawn plots ({shown['drawn']} of {expected['FigureWidget']})")
    if shown["root"] < root_views:
        gaps.append(f"displayed widgets ({shown['root']} of the {root_views} the page's cells display)")
    return gaps


def describe_states(states: dict | None) -> str:
    """When the page asked its kernel for every widget's state, and how long and how large the answer was:
    ipywidgets waits 4 s for it, then falls back to asking widget by widget."""
    if not states or states.get("requested") is None:
        return "the page never asked for the widgets' states"
    if states.get("answered") is None:
        return "the page asked for the widgets' states and got no answer"
    return (f"the widgets' states came {states['answered'] - states['requested']:.0f} ms after the page asked "
            f"({states['bytes'] / 1e6:.2f} MB)")


def wait_for_widgets(page, root_views: int = 0, timeout: float = 120.0
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Wait until the page shows every widget its kernel sent it, every plot is drawn, at least `root_views`
    top-level widget outputs rendered, and all of that has held still for a second. Returns (kernel counts,
    page counts); the caller asserts they are equal (more on the page than the kernel made is its call).

    Raises AssertionError naming what is missing when that does not happen within `timeout` seconds, and at
    once if the recorder could not read a kernel message.
    """
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while True:
        snapshot = page.evaluate(SNAPSHOT_JS)
        if snapshot["errors"]:
            raise AssertionError(f"could not read the kernel's messages in the page: {snapshot['errors']}")
        expected, shown = snapshot["kernel"], snapshot["page"]
        now = time.monotonic()
        if (expected, shown) != last:
            last, stable_since = (expected, shown), now
        missing = missing_widgets(expected, shown, root_views)
        if not missing and now - stable_since >= 1.0:
            return expected, shown
        if now > deadline:
            sockets = snapshot["sockets"] or ["none: the page never connected to a kernel"]
            what = f"still lacks {'; '.join(missing)}" if missing else "never held still for a second"
            raise AssertionError(f"after {timeout:.0f} s the page {what}. The kernel sent {expected}; the page "
                                 f"shows {shown}; kernel websockets: {sockets}; {describe_states(snapshot['states'])}"
                                 f"{server_troubles()}")
        page.wait_for_timeout(200)


SERVER_LOGS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Server log lines that explain a page without its widgets: Voilà stopped waiting for a cell's output
# (VoilaExecutor.iopub_timeout), or a kernel never came up (on TCP, another socket took one of its ports).
SERVER_TROUBLES = ("Timeout waiting for IOPub", "Kernel died", "Address already in use", "restart failed")


def server_troubles() -> str:
    """The last few such lines of every server log, for a failure message; empty when there are none."""
    hits = [f"{log.name}: {line.strip()}" for log in sorted(SERVER_LOGS.glob("*.log"))
            for line in log.read_text(errors="replace").splitlines() if any(t in line for t in SERVER_TROUBLES)]
    return f"; the server log says: {hits[-3:]}" if hits else ""


def slider(scope, label: str):
    """The ipywidgets slider whose label reads exactly `label`, in `scope`: a page, or a locator (a dashboard)."""
    page = getattr(scope, "page", scope)
    return scope.locator(".widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))


class KernelWidgets:
    """The widget models the page's kernel sent it, recorded inside the page (see RECORDER_JS).

    Every widget model reaches the browser with its full state: a `comm_open` while a cell runs (JupyterLab),
    or the `update_states` answer to the page's request for all of them (Voilà, and any page that connects to
    a kernel that already has widgets). Counting those tells how many figures and controls the page should
    show, without running the notebook a second time; a model closed by the kernel (`comm_close`) no longer
    counts. Must be created before the page loads.
    """

    def __init__(self, page):
        self.page = page
        page.add_init_script(RECORDER_JS)

    def counts(self) -> dict[str, int]:
        """Same keys as `dom_counts`: what the kernel made, hence what must render."""
        return self.page.evaluate("() => window.__labKernelWidgets.counts()")

    def trace_counts(self) -> list[int]:
        """Traces per figure, sorted (to compare with `plot_traces`): each figure's last full state, plus the traces
        plotly's messages added after it, minus those they deleted."""
        return self.page.evaluate("() => window.__labKernelWidgets.traceCounts()")


# Installed before any page script (Playwright's add_init_script): every WebSocket to a kernel's channels gets a
# listener of its own, added in the constructor, so it runs before the page's handler sees each message. Hence
# whatever the page shows, the kernel message behind it has been counted here first.
#
# Why not read the frames from outside the page: Chromium's DevTools `Network.webSocketFrameReceived` for the
# ~5 MB `update_states` of a Voilà page (every model plus plotly's bundle, base64-encoded to ~7 MB, before the
# page's head brought the bundle instead) reached the test 0.5–2.8 s after the page's own JavaScript had it, and
# later than console messages the page sent after it; the page's widgets were often drawn before that, and
# `wait_for_widgets` then saw "none expected".
RECORDER_JS = r"""
(() => {
  if (window.__labKernelWidgets) return;
  const recorder = window.__labKernelWidgets = { models: {}, sockets: [], errors: [], states: {} };
  const utf8 = new TextDecoder();
  const V1 = 'v1.kernel.websocket.jupyter.org';
  const jsonAt = (buffer, start, end) => JSON.parse(utf8.decode(new Uint8Array(buffer, start, end - start)));

  // [msg_type, () => content] of one kernel message: Jupyter's v1 binary framing (offsets, then channel,
  // header, parent header, metadata, content, buffers), JSON text, or the older binary framing
  // (buffer count and offsets as big-endian uint32, then the JSON message).
  function parse(data, protocol) {
    if (typeof data === 'string') {
      const message = JSON.parse(data);
      return [message.header && message.header.msg_type, () => message.content];
    }
    if (!(data instanceof ArrayBuffer)) {
      throw new Error(`a kernel message arrived as ${Object.prototype.toString.call(data)}, not an ArrayBuffer`);
    }
    const view = new DataView(data);
    if (protocol === V1) {
      const count = Number(view.getBigUint64(0, true));
      const offsets = [];
      for (let i = 1; i <= count; i++) offsets.push(Number(view.getBigUint64(8 * i, true)));
      const header = jsonAt(data, offsets[1], offsets[2]);
      return [header.msg_type, () => jsonAt(data, offsets[4], offsets[5])];
    }
    const parts = view.getUint32(0);
    const message = jsonAt(data, view.getUint32(4), parts > 1 ? view.getUint32(8) : data.byteLength);
    return [message.header && message.header.msg_type, () => message.content];
  }

  function record(commId, state) {
    if (!state || typeof state !== 'object') return;
    if ('_model_name' in state) {
      recorder.models[commId] = {
        model: String(state._model_name || ''), anywidget: String(state._anywidget_id || ''),
      };
    }
    const model = recorder.models[commId];
    if (!model) return;
    if (Array.isArray(state._widget_data)) {
      model.traces = state._widget_data.length;  // a figure's full state
    } else if ('traces' in model) {  // plotly's messages that add or delete traces after it
      const added = state._py2js_addTraces && state._py2js_addTraces.trace_data;
      const deleted = state._py2js_deleteTraces && state._py2js_deleteTraces.delete_inds;
      if (Array.isArray(added)) model.traces += added.length;
      if (Array.isArray(deleted)) model.traces -= deleted.length;
    }
  }

  function received(socket, event) {
    try {
      const [type, content] = parse(event.data, socket.protocol);
      if (type === 'comm_open') {
        const c = content();
        if (c.data) record(c.comm_id, c.data.state);
      } else if (type === 'comm_msg') {
        const c = content();
        const data = c.data || {};
        if (data.method === 'update_states') {  // the control comm's answer: every model at once
          recorder.states.answered = performance.now();
          recorder.states.bytes = event.data.byteLength || event.data.length;
          for (const [commId, m] of Object.entries(data.states || {})) {
            record(commId, { _model_name: m.model_name, ...(m.state || {}) });
          }
        } else if (data.state) {  // one model's update
          record(c.comm_id, data.state);
        }
      } else if (type === 'comm_close') {
        delete recorder.models[content().comm_id];
      }
    } catch (error) {
      recorder.errors.push(String((error && error.message) || error).slice(0, 300));
    }
  }

  recorder.receive = (data, protocol) => received({ protocol }, { data });  // for tests of the recorder itself

  const Native = window.WebSocket;
  class RecordedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.recorded = /\/api\/kernels\/[^/]+\/channels/.test(String(args[0]));
      if (this.recorded) {
        recorder.sockets.push(String(args[0]).replace(/\?.*$/, ''));
        this.addEventListener('message', (event) => received(this, event));
      }
    }
    send(data) {
      if (this.recorded && recorder.states.requested === undefined) {
        try {  // the page's first request for every widget's state: when it left, for the answer's delay
          const [type, content] = parse(data, this.protocol);
          const c = type === 'comm_msg' ? content() : null;
          if (c && c.data && c.data.method === 'request_states') recorder.states.requested = performance.now();
        } catch (error) {  // a frame the recorder cannot read is the page's business, not the recorder's
        }
      }
      return super.send(data);
    }
  }
  window.WebSocket = RecordedWebSocket;

  const count = (test) => Object.values(recorder.models).filter(test).length;
  recorder.counts = () => ({
    FigureWidget: count((m) => m.anywidget.endsWith('.FigureWidget')),
    slider: count((m) => m.model.endsWith('SliderModel')),
    Dropdown: count((m) => m.model === 'DropdownModel'),
    Button: count((m) => m.model === 'ButtonModel'),
    HTML: count((m) => m.model === 'HTMLModel'),
  });
  recorder.traceCounts = () => Object.values(recorder.models).filter((m) => 'traces' in m)
    .map((m) => m.traces).sort((a, b) => a - b);
})();
"""


def screenshot(page, path, max_height: int = 12_000) -> None:
    """A screenshot of the whole content. Voilà and JupyterLab scroll inside an element, not the page, so
    `full_page` alone would stop at the window: the window is made as tall as the content for the shot, and
    the scrolled elements (JupyterLab keeps a notebook where it was last scrolled) are scrolled to the top."""
    height = page.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...Array.from(document.querySelectorAll('body *'))
          .filter(e => e.scrollHeight > e.clientHeight + 4 && /(auto|scroll)/.test(getComputedStyle(e).overflowY))
          .map(e => e.scrollHeight + e.getBoundingClientRect().top))""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max_height, max(size["height"], int(height) + 20))})
    page.wait_for_timeout(700)  # plots re-layout to the new window
    page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.scrollTop > 0).forEach(e => { e.scrollTop = 0; })""")
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
