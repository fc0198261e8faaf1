"""Deep networks and initialization: scheme, factor, depth and activation → signal and gradient per layer, cost."""

from __future__ import annotations

import ipywidgets as W
import plotly.graph_objects as go

from lab.deep_network import DeepNetwork, DeepNetworkTask, distinct_units
from lab.device import describe_device
from lab.history import RunHistory
from lab.regularization import ThreeWaySplit, load_digits_parity
from lab.seeding import make_generator
from lab.training import DoneEvent, train
from widgets.controls import button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.guard import guarded, show_error_in
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable

HIDDEN_UNITS = 16  # width of every hidden layer
PROBE = 300  # training examples the instant per-layer view looks at: plenty for a spread, and fast


def positive(values: list[float]) -> list[float | None]:
    """Values for a log axis: exact zeros (a zero-initialized net) and non-finite values become gaps."""
    return [v if v is not None and v > 0 else None for v in plottable(values)]


def run_label(scheme: str, factor: float, depth: int, activation: str, lr: float) -> str:
    init = f"random ×{factor:.2g}" if scheme == "random" else scheme
    return f"{init} · L={depth} · {activation.replace('_', ' ')} · α={lr:.2g}"


def deep_init_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """Init scheme, init factor, depth and hidden activation → per-layer activation spread and gradient size
    of the freshly initialized network (instantly), then a training run on digit parity (odd vs even):
    cost curves overlaid, and the first layer's weights after training (identical rows = identical units).
    """
    device = lab_device()
    data = (data or load_digits_parity()).to(device)
    controls = {
        "init_scheme": control("init_scheme", value="random"),
        "init_factor": control("init_factor", value=0.01, low=1e-3, high=10.0),
        "depth": control("depth", value=8, low=2, high=20),
        "activation": control("activation", value="tanh"),
        "lr": control("lr", value=0.1, low=1e-3, high=2.0),
        "num_iterations": control("num_iterations", value=300, low=50, high=2000),
    }
    controls["init_factor"].description = "Init factor (random only)"
    train_button = button("Train", "Train again with the current settings", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")
    clear_button = button("Clear runs", "Remove every curve from the cost plot")

    spread = make_figure("Spread of the activations A^[l] at initialization", "hidden layer l", "std of A^[l]",
                         height=300, width=540, log_y=True)
    spread.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="std of A^[l]",
                                line={"color": PALETTE[0], "width": 2.5}))
    gradient = make_figure("Gradient size per layer at initialization", "layer l", "RMS of dW^[l]",
                           height=300, width=540, log_y=True)
    gradient.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="RMS of dW^[l]",
                                  line={"color": PALETTE[5], "width": 2.5}))
    costs = CostCurves("Cost J on the training digits (runs overlaid)")
    weights = make_figure("First-layer weights W^[1] after training (one row per hidden unit)", "input pixel",
                          "hidden unit", height=300, width=1000)
    weights.add_trace(go.Heatmap(z=[[0.0]], colorscale="RdBu", zmid=0, colorbar={"title": {"text": "w"}}))
    signal_text, summary, status = readout(), readout(), StatusLine()
    histories: dict[str, RunHistory] = {}
    networks: dict[str, DeepNetwork] = {}

    def settings() -> dict:
        return {name: widget.value for name, widget in controls.items()}

    def build(s: dict) -> DeepNetwork:
        dims = [data.X_train.shape[0]] + [HIDDEN_UNITS] * (s["depth"] - 1) + [1]
        return DeepNetwork(dims, s["activation"], s["init_scheme"], s["init_factor"],
                           generator=make_generator(0, device), device=device)

    def show_signal(*_) -> None:
        s = settings()
        report = build(s).layer_report(data.X_train[:, :PROBE], data.Y_train[:, :PROBE])
        hidden = report["activation_std"][:-1]  # the output layer's σ is not part of the signal chain
        with spread.batch_update(), gradient.batch_update():
            spread.data[0].x, spread.data[0].y = list(range(1, len(hidden) + 1)), positive(hidden)
            grads = report["gradient_rms"]
            gradient.data[0].x, gradient.data[0].y = list(range(1, len(grads) + 1)), positive(grads)
            label_log_axis(spread, hidden)
            label_log_axis(gradient, grads)
        first, last = hidden[0], hidden[-1]
        if first == 0:
            verdict = "every unit outputs the same constant for every example: the units cannot differ"
        elif last < 0.01 * first:
            verdict = f"the signal shrinks {first / max(last, 1e-300):.1e}× by the last hidden layer: <b>vanishing</b>"
        elif last > 100 * first or last > 100:
            verdict = f"the signal grows {last / first:.1e}× by the last hidden layer: <b>exploding</b>"
        else:
            verdict = "the signal keeps its scale through the layers"
        g_first, g_last = report["gradient_rms"][0], report["gradient_rms"][-1]
        if g_last == 0 or g_first == 0:
            flow = "no gradient reaches the first layer"
        elif max(g_first, g_last) < 1e-4:
            flow = "the gradient is tiny in every layer, so training will barely move"
        elif max(g_first, g_last) > 10:
            flow = "the gradient is huge, so gradient steps will overshoot"
        elif g_first < 0.01 * g_last:
            flow = f"it is {g_last / g_first:.1e}× smaller than at layer {len(grads)}: the gradient <b>vanishes</b>"
        elif g_first > 100 * g_last:
            flow = f"it is {g_first / g_last:.1e}× larger than at layer {len(grads)}: the gradient <b>explodes</b>"
        else:
            flow = "the gradient reaches the first layer at a usable size"
        signal_text.value = (f"Spread of A^[1] = <b>{first:.3g}</b>, of A^[{len(hidden)}] = <b>{last:.3g}</b>: "
                             f"{verdict}. Gradient size of layer 1 = <b>{g_first:.2g}</b>, "
                             f"of layer {len(grads)} = <b>{g_last:.2g}</b>: {flow}.")

    def on_batch(items) -> None:
        label = items[-1][0]
        history = histories[label]
        for _, event in items:
            history.record(event)
        costs.update_run(label, history.steps, history.costs, note="diverged" if history.diverged else "")
        if isinstance(items[-1][1], DoneEvent):
            finished(label, history)

    def finished(label: str, history: RunHistory) -> None:
        W1 = networks[label].params["W1"]
        with weights.batch_update():
            weights.data[0].z = W1.cpu().double().numpy().round(4).tolist()  # nested lists reach the browser
            weights.layout.title.text = f"First-layer weights W^[1] after training {label} (one row per hidden unit)"
            weights.layout.xaxis.range = [-0.5, W1.shape[1] - 0.5]
            weights.layout.yaxis.range = [W1.shape[0] - 0.5, -0.5]  # unit 0 on top
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
        summary.value = f"<b>{label}</b>: {result}; {same}."

    runner = Runner(status, on_batch, device_text=describe_device(device))

    def start(*_) -> None:
        s = settings()
        label = run_label(s["init_scheme"], s["init_factor"], s["depth"], s["activation"], s["lr"])
        network = build(s)
        task = DeepNetworkTask(network, data.X_train, data.Y_train, s["lr"], X_dev=data.X_dev, Y_dev=data.Y_dev)

        def setup() -> None:
            networks[label] = network
            histories[label] = RunHistory(label, {**s, "hidden_units": HIDDEN_UNITS, "seed": 0,
                                                  "data": "scikit-learn digits, odd vs even"})
            costs.add_run(label)

        def work(cancel):
            n = s["num_iterations"]
            for event in train(task, n, cancel=cancel, eval_every=max(1, n // 5), blowup_ratio=None):
                yield label, event
        runner.start(work, label, setup)

    show_signal = guarded(show_signal, show_error_in(signal_text))
    for name, widget in controls.items():
        if name not in ("lr", "num_iterations"):
            widget.observe(show_signal, names="value")
    wire_training(runner, start, train_button, stop_button, controls.values())
    clear_button.on_click(lambda _: costs.clear())
    show_signal()

    return Dashboard(
        [device_badge(device),
         W.HBox([W.VBox(list(controls.values())), W.VBox([train_button, stop_button, clear_button])]),
         signal_text, W.HBox([spread, gradient]), status.widget, summary, costs.figure, weights],
        controls={**controls, "train": train_button, "stop": stop_button, "clear": clear_button},
        figures={"spread": spread, "gradient": gradient, "costs": costs.figure, "weights": weights},
        status=status, runner=runner, readout=signal_text)
