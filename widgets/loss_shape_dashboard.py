"""Why cross-entropy and not ½(ŷ − y)²: the cost cut along a line through weight space, both losses."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data import Split, load_faces
from lab.logistic import cost_along_line, negative_curvature_fraction
from lab.seeding import make_generator
from widgets.controls import control
from widgets.dashboard import Dashboard, readout
from widgets.guard import guarded, show_error_in
from widgets.views.figure import PALETTE, make_figure

POINTS = 201  # samples along the line


def loss_shape_dashboard(data: Split | None = None) -> Dashboard:
    """Direction seed and span → J(t·d) for both losses, with the share of the line where each bends down."""
    data = data or load_faces(dtype=torch.float64)
    X, Y = data.X_train.to(torch.float64), data.Y_train.to(torch.float64)
    seed = control("seed", value=0, high=50, continuous_update=True)
    seed.description = "Random direction d (seed)"
    span = control("line_span", continuous_update=True)
    figure = make_figure("Cost along the line w = t·d (b = 0)", "t", "cross-entropy cost", height=380, width=900)
    figure.update_layout(yaxis2={"title": {"text": "squared-error cost"}, "overlaying": "y", "side": "right"})
    figure.add_trace(go.Scatter(x=[], y=[], name="cross-entropy (left axis)", line={"color": PALETTE[0], "width": 3}))
    figure.add_trace(go.Scatter(x=[], y=[], name="½(ŷ − y)², the notes' loss (right axis)", yaxis="y2",
                                line={"color": PALETTE[1], "width": 3, "dash": "dash"}))
    text = readout()

    def show(*_) -> None:
        direction = torch.randn(X.shape[0], generator=make_generator(seed.value), dtype=torch.float64)
        direction = direction / direction.norm()  # (n,)
        ts = torch.linspace(-span.value, span.value, POINTS, dtype=torch.float64)
        ce = cost_along_line(X, Y, direction, ts, "cross_entropy")
        se = cost_along_line(X, Y, direction, ts, "squared_error")
        with figure.batch_update():
            figure.data[0].x = figure.data[1].x = ts.tolist()
            figure.data[0].y, figure.data[1].y = ce.tolist(), se.tolist()
        ce_down, se_down = negative_curvature_fraction(ce), negative_curvature_fraction(se)
        verdict = ("it is <b>not convex</b>: its flat shoulders give gradient descent almost no slope to follow"
                   if se_down > 0 else "on so short a stretch it looks convex too — widen the distance")
        text.value = (f"Along this line the cross-entropy cost bends down on <b>{ce_down:.0%}</b> of the points "
                      f"(it is convex); the squared-error cost bends down on <b>{se_down:.0%}</b>: {verdict}.")

    show = guarded(show, show_error_in(text))
    seed.observe(show, names="value")
    span.observe(show, names="value")
    show()
    return Dashboard([W.HBox([seed, span]), text, figure], controls={"seed": seed, "line_span": span},
                     figures={"costs": figure}, readout=text)
