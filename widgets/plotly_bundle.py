"""Send plotly's 5 MB widget JavaScript to the browser once per kernel instead of once per figure.

plotly ≥ 6 makes `FigureWidget` an anywidget whose `_esm` trait holds the whole bundle, so every figure ships
and evaluates its own copy: 8 figures cost ~40 MB of websocket traffic and 8 evaluations of plotly.js (~11 s
before notebook 01 was interactive on 2 cores). `install()` gives every FigureWidget a small loader instead
(`js/figure_loader.js`), and the kernel's first figure creates one hidden carrier widget holding the bundle
(`js/bundle_carrier.js`); the loader waits for the carrier's module, shared through `globalThis` for the page.

The loader also keeps figures alive on slow machines: anywidget drops every message to a model whose
initialization took over 2 s, which a 5 MB bundle can on 2 busy cores (the figure then never updates).
`LAB_SHARED_PLOTLY_BUNDLE=0` turns all of this off (the escape hatch, and the benchmark's "before").
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources

_INSTALLED = "_lab_shared_bundle"  # class attribute that marks BaseFigureWidget as patched


def _script(name: str) -> str:
    return resources.files("widgets").joinpath("js", name).read_text(encoding="utf-8")


def bundle_key(source: str, version: str) -> str:
    """The page-wide name of one plotly bundle: two kernels on one page share it only if it is the same code."""
    return f"dl-lab/plotly-widget/{version}/{hashlib.sha1(source.encode()).hexdigest()[:12]}"


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
    source = str(BaseFigureWidget._esm)
    slot = _script("bundle_slot.js").replace("KEY_NAME", json.dumps(bundle_key(source, plotly.__version__)))

    class PlotlyBundle(anywidget.AnyWidget):
        """Never displayed: carries plotly's widget code to every page that connects to this kernel."""

        _esm = slot + _script("bundle_carrier.js")
        bundle = traitlets.Unicode(source).tag(sync=True)

    carrier: list[PlotlyBundle] = []
    original_init = BaseFigureWidget.__init__

    def init_with_carrier(self, *args, **kwargs):
        if not carrier or carrier[0].comm is None:  # first figure of this kernel, or the carrier was closed
            carrier[:] = [PlotlyBundle()]
        original_init(self, *args, **kwargs)

    BaseFigureWidget._esm = slot + _script("figure_loader.js")
    BaseFigureWidget.__init__ = init_with_carrier
    setattr(BaseFigureWidget, _INSTALLED, True)
    return True
