"""Lab 13, classic CNN architectures: LeNet-5 trained live on the real digits, the layer tables of LeNet-5, AlexNet,
VGG-16, ResNet-50 and an Inception block, plain against residual networks of the same depth, and what a 1 × 1
convolution saves.

Four dashboards, each returned (not displayed) by its function:
- `lenet_dashboard`: α, mini-batch size, epochs, activation and pooling → LeNet-5 trained on the ten digits: cost
  curves overlaid, train/dev accuracy, the six first-layer filters and a chosen dev digit's feature maps, all
  redrawn while it trains;
- `layer_table_dashboard`: a network → its layers, output shapes, parameters and multiplications, and where in
  the network the parameters and the multiplications are;
- `residual_dashboard`: depth, α and epochs → a plain and a residual network of that depth trained side by side:
  cost curves overlaid, and the gradient ‖dW^[l]‖ of every layer at initialization and while training;
- `bottleneck_dashboard`: n_H = n_W, channels in and out, bottleneck width and filter size → the multiplications of
  an f × f convolution, directly and after a 1 × 1 convolution.
"""

from __future__ import annotations

import functools
import html
import threading
import time
from collections.abc import Iterator

import ipywidgets as W

from lab.bottleneck import bottleneck_cost
from lab.cnn_architectures import BUILDERS, count_parameters, get_architecture, layer_table, short_count
from lab.data.digits import load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.lenet import DigitImages, LeNetTraining, digit_images
from lab.params import PARAMS
from lab.residual import (
    DeepMLPTraining,
    describe_blocks,
    layer_gradients,
    layer_norms,
    make_pair,
    signal_sizes,
)
from lab.training import Event, side_by_side, train
from widgets.controls import choice, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.binned_cost_curves import BinnedCostCurves
from widgets.views.count_bars import CountBars
from widgets.views.feature_maps import FeatureMaps
from widgets.views.figure import PALETTE
from widgets.views.grey_image import GreyImage
from widgets.views.layer_profiles import LayerProfiles
from widgets.views.layer_table import LayerTable, TableRow
from widgets.views.train_dev_curves import TrainDevCurves

TARGET = 0.97  # the dev accuracy the lab's LeNet-5 is expected to reach
MAPS_INTERVAL = 0.4  # seconds between two redraws of the filters and feature maps while training
WIDTH = 32  # hidden units per layer of the plain and residual networks
PROBE = 256  # training digits the instant gradient view looks at


def pool_name(mode: str) -> str:
    return "average pool" if mode == "average" else "max pool"


# ---------------------------------------------------------------- LeNet-5 on the digits


def lenet_label(config: dict) -> str:
    """'LeNet-5 · tanh · average pool · α=0.003 · batch 32'."""
    return (f"LeNet-5 · {config['activation'].replace('_', ' ')} · {pool_name(config['pool_mode'])} · "
            f"α={config['lr']:.2g} · batch {config['batch_size']}")


class LayerViews:
    """The first layer's filters and one dev digit's feature maps in both convolutional layers, for the network
    trained last (a freshly initialized one before any run)."""

    def __init__(self, images: DigitImages):
        self.images, self.Y = images.X_dev, images.Y_dev.cpu()
        self.task: LeNetTraining | None = None
        self.state = "untrained"  # how far the shown network is: untrained, after epoch …, trained
        self.index = control("example_index", label="Dev digit #", value=0, high=self.images.shape[0] - 1,
                             continuous_update=True)
        self.filters = FeatureMaps("Layer 1: the six 5×5 filters", columns=3, gap=1, height=330, width=520)
        self.digit = GreyImage("Dev digit #0", height=260, width=260, fixed_range=(0, 1))
        self.first = FeatureMaps("Layer 1: 6 feature maps 28 × 28", columns=6, gap=3, height=240, width=1000)
        self.second = FeatureMaps("Layer 2: 16 feature maps 10 × 10", columns=8, gap=1, height=260, width=700)
        self.text = readout()
        self.last_drawn = 0.0
        self.widget = W.VBox([self.index, self.text, W.HBox([self.digit.figure, self.second.figure]),
                              self.first.figure])
        redraw_on([self.index], self.show, self.text)

    def use(self, task: LeNetTraining, state: str) -> None:
        """Show `task`'s network from now on: its filters, and the chosen digit's maps."""
        self.task, self.state = task, state
        self.filters.show_maps(task.filters().numpy(), title=f"Layer 1: the six 5×5 filters, {state}")
        self.show()

    def show(self, *_) -> None:
        """The chosen dev digit, its feature maps in the shown network, and what that network makes of it."""
        self.last_drawn = time.perf_counter()
        if self.task is None:
            return
        i = self.index.value
        image, digit = self.images[i].cpu(), int(self.Y[i])
        first, second = self.task.feature_maps(image)
        activation = self.task.architecture.layers[0].activation.replace("_", " ")
        self.digit.show(image[0], title=f"Dev digit #{i}: a{'n' if digit == 8 else ''} {digit}")
        self.first.show_maps(first.numpy(), title=f"Layer 1: 6 feature maps 28 × 28 of digit #{i}, after {activation}")
        self.second.show_maps(second.numpy(),
                              title=f"Layer 2: 16 feature maps 10 × 10 of digit #{i}, after {activation}")
        said = int(self.task.predict_proba(self.images[i:i + 1])[0].argmax())
        verdict = "right" if said == digit else "<b>wrong</b>"
        self.text.value = (f"Dev digit #{i} is {'an' if digit == 8 else 'a'} {digit}; the {self.state} network "
                           f"says <b>{said}</b> ({verdict}). Its 6 filters turn the 32 × 32 digit into 6 maps of "
                           f"28 × 28; after pooling, 16 filters of 5 × 5 × 6 turn those into 16 maps of 10 × 10. "
                           f"The filters have moved <b>{self.task.filter_change():.0%}</b> of their size from their "
                           f"random start.")


def lenet_summary(run: Run) -> str:
    history, task = run.history, run.model
    if history.diverged:
        return f"<b>{run.label}</b>: {html.escape(history.diverged)}"
    if history.cancelled:
        return f"<b>{run.label}</b>: stopped after {len(history.steps)} mini-batch steps."
    m_dev, dev = task.data.X_dev.shape[0], history.metrics["dev_accuracy"]
    hit = task.reached(TARGET)
    when = (f"dev accuracy first reached {TARGET:.0%} after epoch {hit[0]:.0f}, {hit[1]:.1f} s in" if hit
            else f"dev accuracy never reached {TARGET:.0%}")
    return (f"<b>{run.label}</b>: dev accuracy <b>{dev:.1%}</b> ({round(dev * m_dev)}/{m_dev} digits), train "
            f"accuracy {history.metrics['train_accuracy']:.1%}, training cost {history.metrics['train_cost']:.3f}; "
            f"{when}.")


def lenet_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """α, mini-batch size, epochs, activation and pooling → LeNet-5 trained on the ten digit classes (upsampled to
    32 × 32): cost curves overlaid, train/dev accuracy per epoch, the first layer's filters and the feature maps
    of the dev digit the slider picks, redrawn while it trains."""
    device = lab_device()
    images = digit_images(data or load_digits_multiclass()).to(device)
    m = images.X_train.shape[0]
    controls = {
        "lr": control("lr", value=0.003, low=1e-4, high=1.0),
        "batch_size": control("batch_size", value=32, low=1, high=m),
        "num_epochs": control("num_epochs", value=15, low=1, high=50),
        "activation": control("activation", value="tanh"),
        "pool_mode": control("pool_mode", value="average"),
    }
    accuracy = TrainDevCurves("Accuracy on the training and dev digits", "accuracy", x_title="epoch", width=560)
    accuracy.figure.data[4].showlegend = False  # no early stopping here: no star to explain
    accuracy.figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    accuracy.figure.update_traces(mode="lines+markers", marker={"size": 5})  # a one-epoch run is one point
    accuracy.figure.update_layout(legend={"y": -0.25, "yanchor": "top", "x": 0, "xanchor": "left"},
                                  margin={"b": 100}, height=380)
    layers, summary = LayerViews(images), readout()
    layers.use(LeNetTraining(images, lr=0.003, batch_size=32), "untrained")

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        run.model = LeNetTraining(images, lr=c["lr"], batch_size=c["batch_size"], activation=c["activation"],
                                  pool_mode=c["pool_mode"], seed=c["seed"])
        per_epoch = run.model.steps_per_epoch
        yield from train(run.model, c["num_epochs"] * per_epoch, cancel=cancel, eval_every=per_epoch)

    def show_progress(run: Run, _items) -> None:
        evaluations = list(run.model.evaluations)
        if evaluations:  # none before the first epoch ends
            accuracy.show([e for e, _ in evaluations], [r["train_accuracy"] for _, r in evaluations],
                          [r["dev_accuracy"] for _, r in evaluations])
        if time.perf_counter() - layers.last_drawn >= MAPS_INTERVAL:
            epochs = run.model.steps_done / run.model.steps_per_epoch
            layers.use(run.model, f"after {epochs:.1f} epochs")

    def show_result(run: Run) -> None:
        summary.value = lenet_summary(run)
        state = "trained" if run.history.finished and not run.history.cancelled else "stopped"
        layers.use(run.model, "diverged" if run.history.diverged else state)

    costs = BinnedCostCurves("Cost J on the training digits (runs overlaid; mean over each tenth of an epoch)",
                             x_title="epoch", height=420)
    costs.figure.update_layout(legend={"y": -0.22, "yanchor": "top", "x": 0, "xanchor": "left"}, margin={"b": 110})
    panel = TrainingPanel(controls, work, label=lenet_label, device=device, step_name="mini-batch step", costs=costs,
                          cost_x=lambda run, steps: [s / run.model.steps_per_epoch for s in steps],
                          on_start=lambda _run: accuracy.new_run(), on_update=show_progress, on_done=show_result,
                          fixed={"seed": 0, "data": "scikit-learn digits, ten classes, 60/20/20 split, 32 × 32",
                                 "optimizer": "adam"})
    return panel.dashboard(panel.costs.figure, W.HBox([accuracy.figure, layers.filters.figure]), layers.widget,
                           readout=summary,
                           extra_controls={"example_index": layers.index},
                           figures={"costs": panel.costs.figure, "accuracy": accuracy.figure,
                                    "filters": layers.filters.figure, "digit": layers.digit.figure,
                                    "maps1": layers.first.figure, "maps2": layers.second.figure})


# ---------------------------------------------------------------- layer tables


def share(values: list[int]) -> list[float]:
    """Each value as a percentage of their sum (0 where the sum is 0)."""
    total = sum(values)
    return [100.0 * v / total if total else 0.0 for v in values]


def layer_table_dashboard(architecture: str = "lenet5") -> Dashboard:
    """A network → its layer table (output shape, parameters, multiplications) and the share of the parameters and
    of the multiplications each layer holds."""
    menu = choice("Network", PARAMS["architecture"].help,
                  [(get_architecture(key).name, key) for key in BUILDERS], value=architecture)
    table = LayerTable()
    bars = CountBars("Share of the parameters and of the multiplications, layer by layer",
                     ["parameters", "multiplications"], y_title="% of the network's total", stacked=False,
                     label=lambda v: "", height=380)
    bars.figure.update_layout(legend={"y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"}, margin={"b": 110})
    text = readout()

    def show(*_) -> None:
        network = get_architecture(menu.value)
        rows = layer_table(network)
        table.show([TableRow(r.name, r.description, r.shape_text(), r.activations, r.params, r.multiplications)
                    for r in rows], f"{network.name}, input {rows[0].shape_text()}")
        layers = rows[1:]
        params, products = [r.params for r in layers], [r.multiplications for r in layers]
        bars.show([r.name for r in layers], [share(params), share(products)], x_title=f"layer of {network.name}")
        total, work = count_parameters(network), sum(products)
        fc = sum(r.params for r in layers if r.description.startswith("FC"))
        conv_work = sum(r.multiplications for r in layers if not r.description.startswith("FC"))
        where = (f"The fully connected layers hold <b>{100 * fc / total:.0f}%</b> of the parameters; the other "
                 f"layers do <b>{100 * conv_work / work:.0f}%</b> of the multiplications." if fc else
                 "There is no fully connected layer: every parameter sits in a convolution.")
        text.value = (f"<b>{network.name}</b>: <b>{total:,}</b> parameters ({short_count(total)}; published "
                      f"{html.escape(network.published_text)}) and {work:,} multiplications ({short_count(work)}) "
                      f"for one image. {where} {html.escape(network.note)}")

    redraw_on([menu], show, text)
    return Dashboard([menu, text, table.widget, bars.figure], controls={"architecture": menu},
                     figures={"shares": bars.figure}, readout=text)


# ---------------------------------------------------------------- plain vs residual


KIND_COLOURS = {"plain": PALETTE[5], "residual": PALETTE[0]}  # vermilion and blue


def kind_label(kind: str, config: dict) -> str:
    """'plain · L=30 · α=0.001'."""
    return f"{kind} · L={config['num_layers']} · α={config['lr']:.2g}"


def residual_label(config: dict) -> str:
    return f"plain vs residual · L={config['num_layers']} · α={config['lr']:.2g}"


def residual_summary(run: Run) -> str:
    """Both runs' ends, and how they compare."""
    parts, costs = [], {}
    for kind in ("plain", "residual"):
        history = run.histories.get(kind_label(kind, run.config))
        if history is None:
            continue
        if history.diverged:
            parts.append(f"<b>{kind}</b>: {html.escape(history.diverged)}")
        elif history.cancelled or not history.metrics:
            parts.append(f"<b>{kind}</b>: stopped after {len(history.steps)} steps")
        else:
            costs[kind] = history.metrics["train_cost"]
            parts.append(f"<b>{kind}</b>: training cost <b>{history.metrics['train_cost']:.3f}</b>, train accuracy "
                         f"{history.metrics['train_accuracy']:.1%}, dev accuracy "
                         f"<b>{history.metrics['dev_accuracy']:.1%}</b>")
    verdict = ""
    if len(costs) == 2 and costs["residual"] > 0:
        ratio = costs["plain"] / costs["residual"]
        times = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"
        verdict = (f" The plain network ends with a training cost {times}× the residual one's." if ratio >= 1.5
                   else " The two end close together." if ratio > 1 / 1.5 else
                   f" Here the plain network ends lower, at {ratio:.2f}× the residual one's cost.")
    return f"L = {run.config['num_layers']}, α = {run.config['lr']:.2g}: " + "; ".join(parts) + "." + verdict


class GradientsAtInit:
    """The instant half of the residual dashboard: for a depth, ‖dW^[l]‖ and ‖a^[l]‖ of both networks at
    initialization (fixed seed, so computed once per depth and kept), drawn into `gradients` and told in `text`."""

    def __init__(self, data: ThreeWaySplit, device, gradients: LayerProfiles, text: W.HTML):
        self.X_probe, self.Y_probe = data.X_train[:, :PROBE].T, data.Y_train[0, :PROBE]  # (256, 64), (256,)
        self.device, self.gradients, self.text = device, gradients, text
        self.measure = functools.lru_cache(maxsize=64)(self._measure)

    def _measure(self, depth: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        pair = make_pair(depth, WIDTH, device=self.device)
        return ({kind: layer_gradients(model, self.X_probe, self.Y_probe) for kind, model in pair.items()},
                {kind: signal_sizes(model, self.X_probe) for kind, model in pair.items()})

    def warm_up(self, depths) -> None:
        """Every depth measured in the background now (~20 ms each), so a move of the slider only redraws."""
        threading.Thread(target=lambda: [self.measure(depth) for depth in depths], daemon=True,
                         name="lab13-warm-up").start()

    def show(self, depth: int) -> None:
        grads, sizes = self.measure(depth)
        self.gradients.show({f"{kind}, at initialization": grads[kind] for kind in grads})
        ratio = grads["residual"][0] / grads["plain"][0]
        self.text.value = (
            f"{describe_blocks(depth)}<br>At initialization, on {PROBE} training digits: the signal ‖a^[l]‖ goes "
            f"from {sizes['plain'][0]:.2f} after layer 1 to <b>{sizes['plain'][-1]:.2f}</b> after layer {depth - 1} "
            f"in the plain network, to <b>{sizes['residual'][-1]:.2f}</b> in the residual one; the gradient "
            f"reaching layer 1 is ‖dW^[1]‖ = <b>{grads['plain'][0]:.3g}</b> (plain) against "
            f"<b>{grads['residual'][0]:.3g}</b> (residual), {ratio:.1f}× {'larger' if ratio >= 1 else 'smaller'} "
            "with skip connections.")


def residual_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """Depth, α and epochs → a plain and a residual network of that depth trained side by side on the digits (same
    width, same random draws, same mini-batches): cost curves overlaid, and ‖dW^[l]‖ per layer at initialization
    (redrawn as soon as the depth changes) and while training (the mean over the last epoch's steps)."""
    device = lab_device()
    data = (data or load_digits_multiclass()).to(device)
    controls = {
        "num_layers": control("num_layers"),
        "lr": control("lr", value=0.001, low=1e-4, high=0.1),
        "num_epochs": control("num_epochs", value=20, low=1, high=100),
    }
    lines = [(f"{kind}, {when}", KIND_COLOURS[kind], dash) for when, dash in
             (("at initialization", "dot"), ("while training", "solid")) for kind in ("plain", "residual")]
    gradients = LayerProfiles("Gradient size ‖dW^[l]‖ per layer", "‖dW^[l]‖ (log scale)", lines, height=400)
    layout, summary = readout(), readout()
    at_init = GradientsAtInit(data, device, gradients, layout)

    def work(run: Run, cancel: threading.Event) -> Iterator[tuple[str, Event]]:
        c = run.config
        pair = make_pair(c["num_layers"], WIDTH, seed=c["seed"], device=device)
        run.model = {kind: DeepMLPTraining(model, data, lr=c["lr"], batch_size=c["batch_size"], seed=c["seed"])
                     for kind, model in pair.items()}
        steps = c["num_epochs"] * run.model["plain"].steps_per_epoch
        per_epoch = run.model["plain"].steps_per_epoch
        streams = {kind_label(kind, c): train(task, steps, eval_every=per_epoch, cancel=cancel)
                   for kind, task in run.model.items()}
        yield from side_by_side(streams, cancel=cancel)

    def show_training(run: Run, _items) -> None:
        per_epoch = run.model["plain"].steps_per_epoch
        gradients.show({f"{kind}, while training": layer_norms(history.grad_norms, run.config["num_layers"], per_epoch)
                        for kind in ("plain", "residual")
                        if (history := run.histories.get(kind_label(kind, run.config))) is not None})

    def clear_training(_run: Run) -> None:
        gradients.show({"plain, while training": [], "residual, while training": []})

    def show_result(run: Run) -> None:
        summary.value = residual_summary(run)

    # before the panel's own observer: a new depth redraws the instant view first, then starts the run
    redraw_on([controls["num_layers"]], lambda *_: at_init.show(controls["num_layers"].value), layout)
    at_init.warm_up(range(controls["num_layers"].min, controls["num_layers"].max + 1, controls["num_layers"].step))
    costs = BinnedCostCurves("Cost J on the training digits: plain vs residual (runs overlaid)", x_title="epoch",
                             height=420)
    costs.figure.update_layout(legend={"y": -0.22, "yanchor": "top", "x": 0, "xanchor": "left"}, margin={"b": 110})
    panel = TrainingPanel(controls, work, label=residual_label, device=device, step_name="step", costs=costs,
                          cost_x=lambda run, steps: [s / run.model["plain"].steps_per_epoch for s in steps],
                          on_start=clear_training, on_update=show_training, on_done=show_result,
                          fixed={"seed": 0, "batch_size": 64, "hidden_units": WIDTH, "optimizer": "adam",
                                 "data": "scikit-learn digits, ten classes, 60/20/20 split"})
    return panel.dashboard(layout, gradients.figure, panel.costs.figure, readout=summary,
                           figures={"gradients": gradients.figure, "costs": panel.costs.figure})


# ---------------------------------------------------------------- 1 × 1 convolutions


def millions(value: float) -> str:
    return f"{value / 1e6:,.1f} M"


def bottleneck_dashboard() -> Dashboard:
    """n_H = n_W, input and output channels, bottleneck width and filter size → the multiplications of an f × f
    'same' convolution done directly, and after a 1 × 1 convolution down to the bottleneck width."""
    controls = {
        "feature_map_size": control("feature_map_size", continuous_update=True),
        "input_channels": control("input_channels", continuous_update=True),
        "output_channels": control("output_channels", continuous_update=True),
        "bottleneck_channels": control("bottleneck_channels", continuous_update=True),
        "filter_size": control("filter_size", continuous_update=True),
    }
    bars = CountBars("Multiplications for one input volume", ["1 × 1 convolution", "f × f convolution"],
                     y_title="multiplications", stacked=True, colours=[PALETTE[1], PALETTE[0]], label=millions,
                     height=380, width=640)
    text = readout()

    def show(*_) -> None:
        c = bottleneck_cost(size=controls["feature_map_size"].value, in_channels=controls["input_channels"].value,
                            out_channels=controls["output_channels"].value,
                            bottleneck=controls["bottleneck_channels"].value,
                            filter_size=controls["filter_size"].value)
        n, f, b = c.size, c.f, c.bottleneck
        direct = f"{f}×{f} directly"
        through = f"1×1 to {b}, then {f}×{f}"
        bars.show([direct, through], [[None, c.reduce], [c.direct, c.expand]],
                  title=f"Multiplications: {n}×{n}×{c.in_channels} → {n}×{n}×{c.out_channels}, CONV {f}×{f} 'same'")
        widening = (" The 1 × 1 layer <b>widens</b> the volume here (bottleneck ≥ input channels): it costs "
                    "more, not less." if b >= c.in_channels else "")
        text.value = (f"Directly: {n}·{n}·{c.out_channels} output numbers × {f}·{f}·{c.in_channels} = "
                      f"<b>{c.direct:,}</b> multiplications ({c.direct_params:,} parameters). Through a "
                      f"{b}-channel bottleneck: {n}·{n}·{b} × {c.in_channels} = {c.reduce:,} for the 1 × 1 "
                      f"convolution, plus {n}·{n}·{c.out_channels} × {f}·{f}·{b} = {c.expand:,} for the {f} × {f} "
                      f"one: <b>{c.with_bottleneck:,}</b> ({c.bottleneck_params:,} parameters): "
                      + (f"<b>{c.saving:.1f}× fewer</b>." if c.saving >= 1 else f"<b>{1 / c.saving:.1f}× more</b>.")
                      + widening)

    redraw_on(list(controls.values()), show, text)
    return Dashboard([W.HBox([W.VBox(list(controls.values())[:3]), W.VBox(list(controls.values())[3:])]), text,
                      bars.figure], controls=controls, figures={"multiplications": bars.figure}, readout=text)
