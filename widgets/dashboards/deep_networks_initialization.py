"""Lab 04, deep networks and initialization: scheme, factor, depth and activation → the spread of the signal and
the size of the gradient in every layer of the freshly initialized network, then a training run on digit parity."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.digits import load_digits_parity
from lab.data.split import ThreeWaySplit
from lab.deep_network import DeepNetwork, DeepNetworkTask, distinct_units
from lab.seeding import make_generator
from lab.training import train
from widgets.controls import control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable, set_heatmap_z

HIDDEN_UNITS = 16  # width of every hidden layer
PROBE = 300  # training examples the instant per-layer view looks at: plenty for a spread, and fast
SIGNAL_CONTROLS = ("init_scheme", "init_factor", "depth", "activation")  # what the instant view depends on


def positive(values: list[float]) -> list[float | None]:
    """Values for a log axis: exact zeros (a zero-initialized net) and non-finite values become gaps."""
    return [v if v is not None and v > 0 else None for v in plottable(values)]


def run_label(config: dict) -> str:
    """'random ×0.01 · L=8 · tanh · α=0.1' from the controls' values."""
    scheme = config["init_scheme"]
    init = f"random ×{config['init_factor']:.2g}" if scheme == "random" else scheme
    return f"{init} · L={config['depth']} · {config['activation'].replace('_', ' ')} · α={config['lr']:.2g}"


def build_network(config: dict, n_x: int, device: torch.device) -> DeepNetwork:
    """n_x inputs, depth − 1 hidden layers of HIDDEN_UNITS, one sigmoid output; the same seed for every build."""
    dims = [n_x] + [HIDDEN_UNITS] * (config["depth"] - 1) + [1]
    return DeepNetwork(dims, config["activation"], config["init_scheme"], config["init_factor"],
                       generator=make_generator(0, device), device=device)


def signal_verdict(hidden: list[float]) -> str:
    """What the spread of A^[l] over the hidden layers says, in words."""
    first, last = hidden[0], hidden[-1]
    if first == 0:
        return "every unit outputs the same constant for every example: the units cannot differ"
    if last < 0.01 * first:
        return f"the signal shrinks {first / max(last, 1e-300):.1e}× by the last hidden layer: <b>vanishing</b>"
    if last > 100 * first or last > 100:
        return f"the signal grows {last / first:.1e}× by the last hidden layer: <b>exploding</b>"
    return "the signal keeps its scale through the layers"


def gradient_verdict(grads: list[float]) -> str:
    """What the RMS of dW^[l] from layer 1 to layer L says, in words."""
    g_first, g_last = grads[0], grads[-1]
    if g_last == 0 or g_first == 0:
        return "no gradient reaches the first layer"
    if max(g_first, g_last) < 1e-4:
        return "the gradient is tiny in every layer, so training will barely move"
    if max(g_first, g_last) > 10:
        return "the gradient is huge, so gradient steps will overshoot"
    if g_first < 0.01 * g_last:
        return f"it is {g_last / g_first:.1e}× smaller than at layer {len(grads)}: the gradient <b>vanishes</b>"
    if g_first > 100 * g_last:
        return f"it is {g_first / g_last:.1e}× larger than at layer {len(grads)}: the gradient <b>explodes</b>"
    return "the gradient reaches the first layer at a usable size"


class LayerSignal:
    """The freshly initialized network, layer by layer: spread of A^[l] (left), size of dW^[l] (right), in words."""

    def __init__(self):
        self.spread = make_figure("Spread of the activations A^[l] at initialization", "hidden layer l",
                                  "std of A^[l]", height=300, width=540, log_y=True)
        self.spread.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="std of A^[l]",
                                         line={"color": PALETTE[0], "width": 2.5}))
        self.gradient = make_figure("Gradient size per layer at initialization", "layer l", "RMS of dW^[l]",
                                    height=300, width=540, log_y=True)
        self.gradient.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="RMS of dW^[l]",
                                           line={"color": PALETTE[5], "width": 2.5}))
        self.text = readout()

    def show(self, report: dict[str, list[float]]) -> None:
        """`report` from `DeepNetwork.layer_report`."""
        hidden = report["activation_std"][:-1]  # the output layer's σ is not part of the signal chain
        grads = report["gradient_rms"]
        with self.spread.batch_update(), self.gradient.batch_update():
            self.spread.data[0].x, self.spread.data[0].y = list(range(1, len(hidden) + 1)), positive(hidden)
            self.gradient.data[0].x, self.gradient.data[0].y = list(range(1, len(grads) + 1)), positive(grads)
            label_log_axis(self.spread, hidden)
            label_log_axis(self.gradient, grads)
        self.text.value = (f"Spread of A^[1] = <b>{hidden[0]:.3g}</b>, of A^[{len(hidden)}] = <b>{hidden[-1]:.3g}</b>: "
                           f"{signal_verdict(hidden)}. Gradient size of layer 1 = <b>{grads[0]:.2g}</b>, "
                           f"of layer {len(grads)} = <b>{grads[-1]:.2g}</b>: {gradient_verdict(grads)}.")


class FirstLayerWeights:
    """W^[1] after training as a heat map, one row per hidden unit: identical rows are identical units."""

    def __init__(self):
        self.figure = make_figure("First-layer weights W^[1] after training (one row per hidden unit)",
                                  "input pixel", "hidden unit", height=300, width=1000)
        self.figure.add_trace(go.Heatmap(z=[[0.0]], colorscale="RdBu", zmid=0, colorbar={"title": {"text": "w"}}))

    def show(self, label: str, W1: torch.Tensor) -> None:
        with self.figure.batch_update():
            set_heatmap_z(self.figure, W1.cpu().double().numpy(), decimals=4)  # a diverged run's NaN/inf: gaps
            self.figure.layout.title.text = (f"First-layer weights W^[1] after training {label} "
                                             "(one row per hidden unit)")
            self.figure.layout.xaxis.range = [-0.5, W1.shape[1] - 0.5]
            self.figure.layout.yaxis.range = [W1.shape[0] - 0.5, -0.5]  # unit 0 on top


def run_summary(run: Run) -> str:
    """How the run ended, and how many different hidden units its first layer has."""
    history, W1 = run.history, run.model.params["W1"]
    units = distinct_units(W1)
    same = (f"all {W1.shape[0]} hidden units of layer 1 are <b>identical</b> — the symmetry was never broken"
            if units == 1 else f"layer 1 has <b>{units}</b> different hidden units out of {W1.shape[0]}")
    if history.diverged:
        result = history.diverged
    elif history.cancelled:
        result = f"stopped after {len(history.steps)} iterations"
    else:
        result = (f"final cost <b>{history.costs[-1]:.3f}</b>, dev accuracy "
                  f"<b>{history.metrics.get('dev_accuracy', float('nan')):.1%}</b>")
    return f"<b>{run.label}</b>: {result}; {same}."


def deep_init_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """Init scheme, init factor, depth and hidden activation → per-layer activation spread and gradient size
    of the freshly initialized network (instantly), then a training run on digit parity (odd vs even):
    cost curves overlaid, and the first layer's weights after training (identical rows = identical units).
    """
    device = lab_device()
    data = (data or load_digits_parity()).to(device)
    n_x = data.X_train.shape[0]
    controls = {
        "init_scheme": control("init_scheme", value="random"),
        "init_factor": control("init_factor", label="Init factor (random only)", value=0.01, low=1e-3, high=10.0),
        "depth": control("depth", value=8, low=2, high=20),
        "activation": control("activation", value="tanh"),
        "lr": control("lr", value=0.1, low=1e-3, high=2.0),
        "num_iterations": control("num_iterations", value=300, low=50, high=2000),
    }
    signal, weights, summary = LayerSignal(), FirstLayerWeights(), readout()

    def show_signal(*_) -> None:
        config = {name: controls[name].value for name in SIGNAL_CONTROLS}
        signal.show(build_network(config, n_x, device).layer_report(data.X_train[:, :PROBE],
                                                                    data.Y_train[:, :PROBE]))

    def work(run: Run, cancel):
        run.model = build_network(run.config, n_x, device)
        task = DeepNetworkTask(run.model, data.X_train, data.Y_train, run.config["lr"],
                               X_dev=data.X_dev, Y_dev=data.Y_dev)
        n = run.config["num_iterations"]
        yield from train(task, n, cancel=cancel, eval_every=max(1, n // 5), blowup_ratio=None)

    def show_result(run: Run) -> None:
        weights.show(run.label, run.model.params["W1"])
        summary.value = run_summary(run)

    redraw_on([controls[name] for name in SIGNAL_CONTROLS], show_signal, signal.text)
    panel = TrainingPanel(controls, work, label=run_label, device=device,
                          costs=CostCurves("Cost J on the training digits (runs overlaid)"),
                          fixed={"hidden_units": HIDDEN_UNITS, "seed": 0, "data": "scikit-learn digits, odd vs even"},
                          on_done=show_result)
    return Dashboard(
        [panel.badge, panel.control_box(), signal.text, W.HBox([signal.spread, signal.gradient]),
         panel.status.widget, summary, panel.costs.figure, weights.figure, panel.export.widget],
        controls={**controls, **panel.buttons}, status=panel.status, runner=panel.runner, readout=signal.text,
        panel=panel, figures={"spread": signal.spread, "gradient": signal.gradient, "costs": panel.costs.figure,
                              "weights": weights.figure})
