"""σ(z) turns any score into a probability: move z and read off ŷ."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from lab.logistic import sigmoid
from widgets.controls import control
from widgets.dashboard import Dashboard, readout
from widgets.guard import guarded, show_error_in
from widgets.views.figure import PALETTE, make_figure


def sigmoid_dashboard() -> Dashboard:
    """A z slider → a marker on σ(z) and the predicted probability in words."""
    z = control("z", continuous_update=True)
    zs = torch.linspace(-10, 10, 401, dtype=torch.float64)
    figure = make_figure("ŷ = σ(z) = 1 / (1 + e^(−z))", "z", "ŷ", height=320, width=640)
    figure.add_trace(go.Scatter(x=zs.tolist(), y=sigmoid(zs).tolist(), mode="lines", name="σ(z)",
                                line={"color": PALETTE[0], "width": 2.5}))
    figure.add_trace(go.Scatter(x=[0.0], y=[0.5], mode="markers", name="your z",
                                marker={"color": PALETTE[5], "size": 12}))
    figure.update_yaxes(range=[-0.05, 1.05])
    text = readout()

    def show(*_) -> None:
        value = float(z.value)
        p = sigmoid(torch.tensor(value, dtype=torch.float64)).item()
        with figure.batch_update():
            figure.data[1].x, figure.data[1].y = [value], [p]
        verdict = "face" if p > 0.5 else "not a face"
        text.value = (f"σ({value:.1f}) = <b>{p:.4f}</b>: the model says P(face) = {p:.1%}, "
                      f"so it predicts <b>{verdict}</b>.")

    show = guarded(show, show_error_in(text))
    z.observe(show, names="value")
    show()
    return Dashboard([z, text, figure], controls={"z": z}, figures={"sigmoid": figure}, readout=text)
