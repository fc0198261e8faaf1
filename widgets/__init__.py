"""DL Lab's widget toolkit: standard controls, plotly views, and a background runner. No math here."""

import os
import sys

# The first plotly FigureWidget imports nbformat → jsonschema, whose format checkers import
# rfc3987_syntax, which compiles a grammar for ~1 s. Nothing in a lab kernel validates IRIs, so
# jsonschema is told the optional package is absent (it catches the ImportError and skips it).
sys.modules.setdefault("rfc3987_syntax", None)


def _share_plotly_bundle() -> None:
    """Send plotly's 5 MB widget JavaScript to the browser once per kernel instead of once per figure.

    plotly ≥ 6 makes FigureWidget an anywidget whose `_esm` trait holds the whole bundle, so every figure
    ships and evaluates its own copy: 8 figures cost ~40 MB of websocket traffic and 8 evaluations of
    plotly.js (~11 s before notebook 01 was interactive on 2 cores). Here one hidden carrier widget holds
    the bundle; each figure's `_esm` is a small loader that waits for the carrier's module, shared
    through `globalThis` for the whole page.

    The loader also keeps figures alive on slow machines: anywidget drops all messages to a model whose
    initialization took over 2 s, which a 5 MB bundle can on 2 busy cores (the figure then never updates).
    """
    if os.environ.get("LAB_SHARED_PLOTLY_BUNDLE", "1") == "0":  # escape hatch, and the benchmark's "before"
        return
    try:
        import hashlib
        import json

        import anywidget
        import plotly
        import traitlets
        from plotly.basewidget import BaseFigureWidget
    except ImportError:  # no anywidget: plotly's FigureWidget is unusable anyway
        return
    if getattr(BaseFigureWidget, "_lab_shared_bundle", False):
        return
    source = str(BaseFigureWidget._esm)
    key = f"dl-lab/plotly-widget/{plotly.__version__}/{hashlib.sha1(source.encode()).hexdigest()[:12]}"
    slot = """
const KEY = Symbol.for(KEY_NAME);
function slot() {
  let s = globalThis[KEY];
  if (!s) {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    s = globalThis[KEY] = { promise, resolve, reject, loading: false };
  }
  return s;
}
""".replace("KEY_NAME", json.dumps(key))
    loader = slot + """
const MESSAGES = ["_py2js_addTraces", "_py2js_deleteTraces", "_py2js_moveTraces", "_py2js_restyle",
  "_py2js_relayout", "_py2js_update", "_py2js_animate", "_py2js_removeLayoutProps", "_py2js_removeTraceProps"];

function arrival() {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(
    "plotly's widget code did not arrive within 120 s: the kernel's plotly carrier widget is missing")), 120000); });
  return Promise.race([slot().promise, late]).finally(() => clearTimeout(timer));
}

// anywidget gives a model 2 s to initialize and drops every later message of a model that missed it, so
// initialize must not wait for the bundle: it records plotly's messages, and replays them to plotly's own
// model code once the bundle is here; render waits for that.
export default () => {
  let plotlyWidget = null;
  return {
    initialize(context) {
      const { model } = context;
      const queue = [];
      const recorders = MESSAGES.map((name) => {
        const record = () => { const value = model.get(name); if (value != null) queue.push([name, value]); };
        return [name, record];
      });
      // plotly.py re-sends the whole figure (_widget_data and _widget_layout together) when it is displayed:
      // that state already includes every message before it, which must then not be applied twice.
      const reset = () => { queue.length = 0; };
      recorders.push(["_widget_data", reset], ["_widget_layout", reset]);
      for (const [name, record] of recorders) model.on(`change:${name}`, record);
      plotlyWidget = arrival().then((bundle) => {
        const handlers = {};
        let replaying = null;
        const proxy = { ...model,
          get: (name) => (replaying && replaying[0] === name ? replaying[1] : model.get(name)),
          on: (name, callback) => { (handlers[name] ||= []).push(callback); model.on(name, callback); },
        };
        const widget = bundle.default();
        widget.initialize({ ...context, model: proxy });
        for (const [name, record] of recorders) model.off(`change:${name}`, record);
        for (const item of queue) {
          replaying = item;
          for (const callback of handlers[`change:${item[0]}`] || []) callback();
          replaying = null;
        }
        return widget;
      });
      plotlyWidget.catch(() => {});  // render reports it
    },
    async render(context) {
      return (await plotlyWidget).render(context);
    },
  };
};
"""
    carrier_esm = slot + """
export default {
  initialize({ model }) {
    const s = slot();
    if (s.loading) return;  // another kernel on this page already brought the same bundle
    s.loading = true;
    const url = URL.createObjectURL(new Blob([model.get("bundle")], { type: "text/javascript" }));
    import(url).then(s.resolve, s.reject).finally(() => URL.revokeObjectURL(url));
  },
};
"""

    class PlotlyBundle(anywidget.AnyWidget):
        """Never displayed: carries plotly's widget code to every page that connects to this kernel."""

        _esm = carrier_esm
        bundle = traitlets.Unicode(source).tag(sync=True)

    carrier: list = []
    original_init = BaseFigureWidget.__init__

    def init_with_carrier(self, *args, **kwargs):
        if not carrier or carrier[0].comm is None:  # first figure of this kernel, or the carrier was closed
            carrier[:] = [PlotlyBundle()]
        original_init(self, *args, **kwargs)

    BaseFigureWidget._esm = loader
    BaseFigureWidget.__init__ = init_with_carrier
    BaseFigureWidget._lab_shared_bundle = True


_share_plotly_bundle()
