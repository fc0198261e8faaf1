"""Lab 09, batch normalization: what it normalizes (each unit's z over the mini-batch, not the weights — ERRATA 10),
what that does to training, and why test time uses running averages.

Two dashboards, each returned (not displayed) by its function:
- `what_gets_normalized_dashboard`: mini-batch size, unit and seed → one unit's z before and after batch norm, and
  what normalizing its weights instead (the notes' words) would give;
- `batch_norm_dashboard`: batch norm on/off, depth, α, mini-batch size and epochs → cost curves of the runs
  overlaid; histograms of a chosen hidden unit's input at five moments of training, plain beside batch norm; and
  dev accuracy with running averages against each test batch's own statistics, for batches of 1, 2, 8 and 64.
"""

from __future__ import annotations

import html
import math
import threading
from collections.abc import Iterator

import ipywidgets as W
import torch

from lab.batch_norm import describe_what_gets_normalized, what_gets_normalized
from lab.batch_norm_network import (
    BatchNormTraining,
    StatisticsComparison,
    compare_statistics,
    drift,
    make_network,
    unit_history,
)
from lab.data.digits import digit_images, load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.training import DEFAULT_HINT, Event, train
from widgets.controls import checkbox, choice, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.accuracy_bars import AccuracyBars
from widgets.views.binned_cost_curves import BinnedCostCurves
from widgets.views.figure import PALETTE
from widgets.views.histograms import SEQUENCE, Histograms, shared_edges

HIDDEN_UNITS = 32  # width of every hidden layer, in both dashboards
TEST_BATCH_SIZES = (1, 2, 8, 64)  # the test-time view's batch sizes
SHUFFLES = 5  # how many ways the dev digits are dealt into test batches
DATA = "scikit-learn digits, ten classes, 60/20/20 split"
RELU_INPUT = "input of the unit's ReLU"
DRIFT_BINS = 25  # bins of the drift histograms: 256 values each, five outlines overlaid — coarse enough to read


# ---------------------------------------------------------------- what gets normalized (ERRATA 10)


def what_gets_normalized_dashboard(X: torch.Tensor | None = None) -> Dashboard:
    """Mini-batch size, unit and seed → a unit of a freshly initialised first hidden layer on real digits: its z over
    the mini-batch, batch norm's ẑ, and z computed with the unit's weights normalized instead; the weights beside."""
    X = digit_images()[0] if X is None else X  # (64, m)
    controls = {
        "batch_size": control("batch_size", value=64, low=2, high=256, continuous_update=True),
        "watch_unit": control("watch_unit", label="Unit j of the first hidden layer", high=HIDDEN_UNITS,
                              continuous_update=True),
        "seed": control("seed", label="Seed (which digits, which weights)", continuous_update=True),
    }
    values = Histograms("Unit j's z over the mini-batch", "value", "digits", width=560, series=[
        ("z = w·x, before batch norm", PALETTE[0], "solid"), ("ẑ = (z − μ)/√(σ² + ε)", PALETTE[2], "solid"),
        ("z with the notes' normalized w", PALETTE[5], "dash")])
    weights = Histograms(f"Unit j's {X.shape[0]} incoming weights", "weight", "weights", width=540, series=[
        ("w: batch norm leaves it alone", PALETTE[0], "solid"), ("w rescaled to mean 0, spread 1", PALETTE[5], "dash")])
    text = readout()

    def show(*_) -> None:
        c = {name: widget.value for name, widget in controls.items()}
        result = what_gets_normalized(X, c["batch_size"], c["watch_unit"], c["seed"], hidden_units=HIDDEN_UNITS)
        groups = [result.z, result.z_hat, result.notes_z]
        values.show(groups, shared_edges(groups), title=f"Unit {c['watch_unit']}'s z over a mini-batch of "
                    f"{c['batch_size']} digits")
        pair = [result.weights, result.notes_weights]
        weights.show(pair, shared_edges(pair), title=f"Unit {c['watch_unit']}'s {X.shape[0]} incoming weights")
        text.value = describe_what_gets_normalized(result)

    redraw_on(controls.values(), show, text)
    return Dashboard([W.HBox(list(controls.values())[:2]), controls["seed"], text,
                      W.HBox([values.figure, weights.figure])], controls=controls,
                     figures={"values": values.figure, "weights": weights.figure}, readout=text)


# ---------------------------------------------------------------- training, plain against batch norm


def run_label(config: dict) -> str:
    """'batch norm · L=6 · α=0.5 · batch 64' or 'plain · …'."""
    kind = "batch norm" if config["batch_norm"] else "plain"
    return f"{kind} · L={config['depth']} · α={config['lr']:.2g} · batch {config['batch_size']}"


def kind_of(run: Run) -> str:
    return "batch_norm" if run.config["batch_norm"] else "plain"


def spread_text(stats: dict[str, float], first_epoch: float, last_epoch: float) -> str:
    """'from −0.01 ± 0.43 at epoch 0 to 0.18 ± 1.06 at epoch 10'."""
    if not math.isfinite(stats["last_mean"]):
        return f"from {stats['first_mean']:.2f} ± {stats['first_std']:.2f} at epoch 0 to no finite value at all"
    return (f"from {stats['first_mean']:.2f} ± {stats['first_std']:.2f} at epoch {first_epoch:.2g} to "
            f"{stats['last_mean']:.2f} ± {stats['last_std']:.2f} at epoch {last_epoch:.2g}")


class DriftView:
    """The latest plain run and the latest batch-norm run side by side: the chosen hidden unit's input to its ReLU over
    the same 256 training digits at five moments of training (lightest: before the first step), on shared bins."""

    PANELS = {"plain": "Plain network", "batch_norm": "With batch norm"}

    def __init__(self):
        self.layer = control("watch_layer", value=3, high=19)
        self.unit = control("watch_unit", value=1, high=HIDDEN_UNITS)
        self.shows = choice("Batch-norm panel shows", "What the histograms of the batch-norm network are of: the "
                            "ReLU's input γẑ + β, or the same unit's z = W a before it is normalized",
                            [("γẑ + β, what the ReLU receives", "relu_inputs"), ("z before batch norm", "pre_norm")])
        self.views = {kind: Histograms(f"{name}: no run yet", RELU_INPUT, "training digits", width=545)
                      for kind, name in self.PANELS.items()}
        self.runs: dict[str, Run] = {}
        self.drawn: dict[str, int] = {}  # kind → snapshots drawn
        self.text = readout()
        self._lock = threading.Lock()
        self.widget = W.VBox([W.HBox([self.layer, self.unit]), self.shows, self.text,
                              W.HBox([view.figure for view in self.views.values()])])
        redraw_on([self.layer, self.unit, self.shows], self.show, self.text)

    def follow(self, run: Run) -> None:
        """Show `run` in its kind's panel from now on, redrawing when it has recorded new snapshots."""
        task = run.model
        if task is None:
            return
        kind = kind_of(run)
        if self.runs.get(kind) is not run or self.drawn.get(kind) != len(task.snapshots):
            self.runs[kind] = run
            self.show()

    def clear(self) -> None:
        self.runs.clear()
        self.show()

    def show(self, *_) -> None:
        with self._lock:
            histories, groups = {}, {}
            for kind, run in self.runs.items():
                snapshots = list(run.model.snapshots)  # the training thread may append while this reads
                self.drawn[kind] = len(snapshots)
                histories[kind] = history = unit_history(snapshots, self.layer.value, self.unit.value)
                wanted = self.shows.value if kind == "batch_norm" else "relu_inputs"
                groups[kind] = getattr(history, wanted)
            edges = shared_edges([g for kind in groups for g in groups[kind]], bins=DRIFT_BINS)
            for kind, view in self.views.items():
                if kind not in histories:
                    view.show([], edges, title=f"{self.PANELS[kind]}: no run yet", x_title=RELU_INPUT,
                              note="Untick batch norm and train" if kind == "plain" else "Tick batch norm and train")
                    continue
                history, run = histories[kind], self.runs[kind]
                pre = kind == "batch_norm" and self.shows.value == "pre_norm"
                what = "z before batch norm" if pre else "ReLU input"
                view.show(groups[kind], edges, names=[f"epoch {e:.2g}" for e in history.epochs],
                          colours=[SEQUENCE[i % len(SEQUENCE)] for i in range(len(history.epochs))],
                          title=f"{self.PANELS[kind]} ({run.label}):<br>{what} of layer {history.layer}, "
                                f"unit {history.unit}", x_title="z = W a, before batch norm" if pre else RELU_INPUT)
            self.text.value = self.describe(histories)

    def describe(self, histories: dict) -> str:
        if not histories:
            return "Train a plain network and one with batch norm to compare how a hidden unit's input moves."
        first = next(iter(histories.values()))
        parts = [f"Layer {first.layer}, unit {first.unit}, over the same 256 training digits at each moment."]
        for kind, name in self.PANELS.items():  # plain first, as on screen
            if kind not in histories:
                continue
            history = histories[kind]
            if len(history.epochs) < 2:
                parts.append(f"{name}: only the moment before training is recorded (the run ended early).")
                continue
            d = drift(history.relu_inputs)
            what = "the mean of z" if kind == "plain" else "the mean of γẑ + β"
            parts.append(f"{name}: {what} wandered over <b>{d['mean_range']:.2g}×</b> its starting spread "
                         f"({spread_text(d, history.epochs[0], history.epochs[-1])})"
                         + (f"; the same unit's z before batch norm, over {drift(history.pre_norm)['mean_range']:.2g}×."
                            if kind == "batch_norm" else "."))
        return " ".join(parts)


class TestTimeView:
    """Dev accuracy of the latest finished batch-norm run: running averages against each test batch's own statistics,
    for test batches of 1, 2, 8 and 64 digits."""

    EMPTY = "Train a network with batch norm to see its test-time behaviour"

    def __init__(self):
        self.bars = AccuracyBars("Test time: dev accuracy by test batch size", [
            "running averages (what torch's eval() uses)",
            f"each batch's own μ and σ² (mean of {SHUFFLES} shuffles, lowest–highest)"], x_title="test batch size")
        self.text = readout()
        self.widget = W.VBox([self.text, self.bars.figure])
        self.clear()

    def clear(self, note: str = EMPTY) -> None:
        self.bars.clear(note)
        self.text.value = ""

    def show(self, run: Run) -> None:
        data = run.model.data
        results = compare_statistics(run.model.network, data.X_dev, data.Y_dev, TEST_BATCH_SIZES, SHUFFLES)
        self.bars.show([f"batch of {r.test_batch_size}" for r in results],
                       [[[r.running_accuracy] for r in results], [r.batch_accuracies for r in results]],
                       title=f"Test time ({html.escape(run.label)}): dev accuracy by test batch size")
        self.text.value = self.describe(results, data.X_dev.shape[1])

    @staticmethod
    def describe(results: list[StatisticsComparison], m: int) -> str:
        def mean(r: StatisticsComparison) -> float:
            return sum(r.batch_accuracies) / len(r.batch_accuracies)

        parts = [f"With the running averages each of the {m} dev digits is normalized on its own: "
                 f"<b>{results[0].running_accuracy:.1%}</b> whatever the batch size."]
        one = next((r for r in results if r.test_batch_size == 1), None)
        if one is not None:
            answer = (f"the network answers <b>{one.constant_answer}</b> for every digit" if one.constant_answer
                      is not None else "its answers barely depend on the digit")
            parts.append(f"With each batch's own statistics, a batch of 1 has μ = z and σ² = 0, so ẑ = 0 in every "
                         f"unit: {answer} (<b>{mean(one):.1%}</b>).")
        others = [r for r in results if r.test_batch_size > 1]
        if others:
            parts.append("Batches of " + ", ".join(f"{r.test_batch_size}: {mean(r):.1%}" for r in others) + ".")
            parts.append("And a digit's answer depends on the company it keeps: dealt into other batches, "
                         + ", ".join(f"{r.changed:.0%}" for r in others) + " of the dev digits get a different class "
                         "with batches of " + ", ".join(str(r.test_batch_size) for r in others) + " (with the running "
                         "averages: none).")
        return " ".join(parts)


def summary_text(run: Run) -> str:
    history = run.history
    if history.diverged:
        return f"<b>{html.escape(run.label)}</b>: {html.escape(history.diverged)}"
    if history.cancelled:
        return f"<b>{html.escape(run.label)}</b>: stopped after {len(history.steps)} steps."
    metrics, epochs = history.metrics, run.model.num_epochs
    return (f"<b>{html.escape(run.label)}</b>: after {epochs} epoch{'s' if epochs != 1 else ''}, dev accuracy "
            f"<b>{metrics['dev_accuracy']:.1%}</b> (train {metrics['train_accuracy']:.1%}), training cost "
            f"{metrics['train_cost']:.3f}.")


def batch_norm_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """Batch norm on/off, depth L, α, mini-batch size and epochs → a network of L layers (32 units each) trained on
    the ten digit classes: cost curves overlaid, the drift of a hidden unit's input (plain beside batch norm), and
    test-time accuracy with running averages against batch statistics."""
    device = lab_device()
    data = (data or load_digits_multiclass()).to(device)
    n_x, m = data.X_train.shape
    controls = {
        "batch_norm": checkbox("Batch norm after every hidden layer", "Ticked: each hidden unit's z is normalized "
                               "over the mini-batch, then γẑ + β; unticked: the plain network", value=True),
        "depth": control("depth", value=6, low=2, high=20),
        "lr": control("lr", value=0.5, low=1e-3, high=10.0),
        "batch_size": control("batch_size", value=64, low=2, high=m),
        "num_epochs": control("num_epochs", value=10, low=1, high=50),
    }
    drift_view, test_time, summary = DriftView(), TestTimeView(), readout()

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        network = make_network(n_x, 10, batch_norm=c["batch_norm"], depth=c["depth"], hidden_units=HIDDEN_UNITS,
                               seed=c["seed"], device=device)
        run.model = BatchNormTraining(network, data, lr=c["lr"], batch_size=c["batch_size"],
                                      num_epochs=c["num_epochs"], seed=c["seed"])
        hint = DEFAULT_HINT if c["batch_norm"] else f"{DEFAULT_HINT}, or tick batch norm"
        yield from train(run.model, run.model.num_steps, eval_every=run.model.steps_per_epoch, cancel=cancel,
                         hint=hint)

    def show_result(run: Run) -> None:
        drift_view.follow(run)
        summary.value = summary_text(run)
        if run.config["batch_norm"] and run.history.finished and not run.history.cancelled:
            if run.history.diverged:
                test_time.clear("The latest batch-norm run diverged: nothing to test")
            else:
                test_time.show(run)

    def clear() -> None:
        drift_view.clear()
        test_time.clear()
        summary.value = ""

    costs = BinnedCostCurves("Cost J on the training digits (runs overlaid; mean over each tenth of an epoch)",
                             x_title="epoch", height=420)
    costs.figure.update_layout(legend={"y": -0.22, "yanchor": "top", "x": 0, "xanchor": "left"}, margin={"b": 110})
    panel = TrainingPanel(controls, work, label=run_label, device=device, step_name="mini-batch step", costs=costs,
                          cost_x=lambda run, steps: [s / run.model.steps_per_epoch for s in steps],
                          on_update=lambda run, _items: drift_view.follow(run), on_done=show_result, on_clear=clear,
                          fixed={"seed": 0, "hidden_units": HIDDEN_UNITS, "data": DATA})
    return panel.dashboard(panel.costs.figure, drift_view.widget, test_time.widget, readout=summary, columns=2,
                           extra_controls={"watch_layer": drift_view.layer, "watch_unit": drift_view.unit,
                                           "bn_panel": drift_view.shows},
                           figures={"costs": panel.costs.figure, "plain_histogram": drift_view.views["plain"].figure,
                                    "bn_histogram": drift_view.views["batch_norm"].figure,
                                    "test_time": test_time.bars.figure})
