"""Send plotly's widget JavaScript (1.6–5 MB) to the browser once per kernel instead of once per figure.

plotly ≥ 6 makes `FigureWidget` an anywidget whose `_esm` trait holds the whole bundle, so every figure ships
and evaluates its own copy: 8 figures cost ~40 MB of websocket traffic and 8 evaluations of plotly.js (~11 s
before notebook 01 was interactive on 2 cores). `install()` gives every FigureWidget a small loader instead
(`js/figure_loader.js`), and the kernel's first figure creates one hidden carrier widget holding the bundle
(`js/bundle_carrier.js`); the loader waits for plotly's module, shared through `globalThis` for the page. A
Voilà page's head brings that module before the notebook has run (`widgets.page_head`); the carrier sends it
where nothing else did.

The code itself is the lab's lean build when it matches the installed plotly (`bundle_source`): plotly's
FigureWidget front end with plotly.js's cartesian traces, the only kind the labs draw (1.6 MB instead of 5 MB).

The loader also keeps figures alive on slow machines: anywidget drops every message to a model whose
initialization took over 2 s, which a 5 MB bundle can on 2 busy cores (the figure then never updates).
`LAB_SHARED_PLOTLY_BUNDLE=0` turns all of this off (the escape hatch, and the benchmark's "before").
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from importlib import resources

_INSTALLED = "_lab_shared_bundle"  # class attribute that marks BaseFigureWidget as patched
_carrier: list = []  # the kernel's carrier widget, once its first figure exists
LEAN_BUNDLE = "plotly_widget_cartesian.js"
# plotly's widget code answers a drawn layout edit under this name, which no Python trait has (so the Python side
# never learns that a layout edit was drawn); the lean build answers under the trait's own, `_js2py_layoutDelta`
# (.ci/plotly-widget-answers.patch)
RENAMED_IN_LEAN_BUILD = {"_js2py_widget_layoutDelta"}


def script(name: str) -> str:
    """One of the toolkit's JavaScript files (`widgets/js`)."""
    return resources.files("widgets").joinpath("js", name).read_text(encoding="utf-8")


def plotlys_bundle() -> str:
    """plotly's own widget code, what its FigureWidget's `_esm` holds, read without importing the widget classes."""
    return resources.files("plotly").joinpath("package_data", "widgetbundle.js").read_text(encoding="utf-8")


def plotly_js_release(source: str) -> str | None:
    """The plotly.js release inside a build of plotly's widget code (what it reports as `Plotly.version`)."""
    match = re.search(r'"use strict";[\w$]+\.version="([^"]+)"\}', source)
    return match.group(1) if match else None


def widget_protocol(source: str) -> set[str]:
    """The names of the messages and traits a build of plotly's widget code exchanges with the kernel."""
    return set(re.findall(r"_(?:py2js|js2py)_\w+|_(?:widget|last)_\w+", source))


def trace_types(source: str) -> set[str]:
    """The plotly.js trace types a build of plotly's widget code can draw."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', source))


@functools.cache
def bundle_source() -> str:
    """The widget code the lab's pages load: its lean build (`js/plotly_widget_cartesian.js`, made by
    .ci/build-plotly-widget: plotly's FigureWidget front end with plotly.js's cartesian traces only, 1.6 MB instead
    of 5 MB, ~0.6 s less for the browser before a lab is interactive) when it speaks the installed plotly's widget
    protocol and carries the same plotly.js release; plotly's own bundle otherwise (~15 ms to check, once)."""
    lean, own = script(LEAN_BUNDLE), plotlys_bundle()
    same = (widget_protocol(lean) == widget_protocol(own) - RENAMED_IN_LEAN_BUILD
            and plotly_js_release(lean) == plotly_js_release(own))
    return lean if same else own


def bundle_key(source: str, version: str) -> str:
    """The page-wide name of one plotly bundle: two kernels on one page share it only if it is the same code."""
    return f"dl-lab/plotly-widget/{version}/{hashlib.sha1(source.encode()).hexdigest()[:12]}"


def current_carrier():
    """The widget that brings plotly's code to this kernel's pages; None before the first figure."""
    return _carrier[0] if _carrier and _carrier[0].comm is not None else None


def install() -> bool:
    """Make every plotly FigureWidget load plotly's code through one shared carrier; True if installed now
    or earlier, False when turned off or when anywidget/plotly are missing."""
    if os.environ.get("LAB_SHARED_PLOTLY_BUNDLE", "1") == "0":
        return False
    try:
        import anywidget
        import plotly
        import traitlets
        from plotly.basewidget import BaseFigureWidget
    except ImportError:  # no anywidget: plotly's FigureWidget is unusable anyway
        return False
    if getattr(BaseFigureWidget, _INSTALLED, False):
        return True
    source = bundle_source()
    slot = script("bundle_slot.js").replace("KEY_NAME", json.dumps(bundle_key(source, plotly.__version__)))

    class PlotlyBundle(anywidget.AnyWidget):
        """Never displayed: brings plotly's widget code to every page that connects to this kernel.

        In JupyterLab the code travels in the widget's state, so the first plot need not wait for the kernel
        to finish its cells. A Voilà page asks for it only when its head did not bring it (`widgets.page_head`):
        1.6 MB less for the kernel, the server and the page to pass on."""

        _esm = slot + script("bundle_carrier.js")
        bundle = traitlets.Unicode("").tag(sync=True)

        def __init__(self, on_request: bool):
            super().__init__(bundle="" if on_request else source)
            self.on_msg(self._answer)

        def _answer(self, _widget, content, _buffers) -> None:
            if content == {"ask": "bundle"}:
                self.send({"bundle": source})

    original_init = BaseFigureWidget.__init__

    def init_with_carrier(self, *args, **kwargs):
        if current_carrier() is None:  # first figure of this kernel, or the carrier was closed
            from widgets.settings_link import in_voila

            _carrier[:] = [PlotlyBundle(on_request=in_voila())]
        original_init(self, *args, **kwargs)

    BaseFigureWidget._esm = slot + script("figure_loader.js")
    BaseFigureWidget.__init__ = init_with_carrier
    setattr(BaseFigureWidget, _INSTALLED, True)
    return True
