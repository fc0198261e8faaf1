"""DL Lab's widget toolkit: standard controls, the training panel, plotly views, and a background runner.
No math here. Each notebook's dashboards live in `widgets.dashboards.<notebook name>`."""

import sys

from widgets import plotly_bundle, shared_looks

# The first plotly FigureWidget imports nbformat → jsonschema, whose format checkers import
# rfc3987_syntax, which compiles a grammar for ~1 s. Nothing in a lab kernel validates IRIs, so
# jsonschema is told the optional package is absent (it catches the ImportError and skips it).
sys.modules.setdefault("rfc3987_syntax", None)

plotly_bundle.install()
shared_looks.install()  # widgets of a dashboard that look alike share their layout and style models
