"""Lab 11, ML strategy (part 1): a single-number metric, and optimizing vs satisficing.

- `threshold_dashboard`: train a "is it a 9?" classifier; a threshold slider (no training) → precision, recall,
  F1, the 2 × 2 confusion matrix and the precision–recall curve with the current point;
- `satisficing_dashboard`: train six networks of different widths; a latency-limit slider (no training) → the
  most accurate one that classifies the dev set within the limit.

Data mismatch and error analysis are in `ml_strategy_mismatch`, transfer and multi-task in `ml_strategy_transfer`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import ipywidgets as W
import torch

from lab.metrics import (
    BinaryScores,
    Candidate,
    best_within_limit,
    binary_scores,
    binary_task,
    latency_ms,
    precision_recall_curve,
)
from lab.softmax import SoftmaxTraining, accuracy, make_network
from lab.training import side_by_side, train
from widgets.controls import control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.confusion_matrix import ConfusionMatrix
from widgets.views.cost_curves import CostCurves
from widgets.views.count_bars import CountBars
from widgets.views.labelled_lines import LabelledLines

POSITIVE = 9  # the rare class: about 1 digit in 10
WIDTHS = (0, 4, 16, 64, 256, 1024)  # hidden units of the satisficing candidates (0: softmax regression)


def steps_of(config: dict, m: int) -> int:
    """Mini-batch steps in `num_epochs` passes over m examples."""
    return config["num_epochs"] * -(-m // config["batch_size"])


# ---------------------------------------------------------------- one number: the threshold


@dataclass
class Scored:
    """What the threshold views need from the latest trained classifier (none before the first run)."""

    scores: torch.Tensor | None = None  # (m_dev,) P(digit is a 9) on the dev set
    y: torch.Tensor | None = None  # (m_dev,) 1 for a 9


def describe_scores(s: BinaryScores, t: float) -> str:
    return (f"At t = {t:.2f}: precision <b>{s.precision:.1%}</b>, recall <b>{s.recall:.1%}</b>, "
            f"F1 <b>{s.f1:.1%}</b> (accuracy {s.accuracy:.1%}): {s.tp} of {s.tp + s.fn} nines found, "
            f"{s.fp} other digits called a nine.")


def threshold_dashboard() -> Dashboard:
    """Hidden units, α, epochs → an 'is it a 9?' network; threshold t (no training) → P, R, F1, confusion, PR curve."""
    device, data, state = lab_device(), None, Scored()
    controls = {"softmax_hidden_units": control("softmax_hidden_units", value=16),
                "lr": control("lr", value=0.5, low=1e-3, high=3.0), "num_epochs": control("num_epochs", value=20)}
    threshold = control("decision_threshold", continuous_update=True)
    matrix = ConfusionMatrix("Confusion matrix on the dev set at threshold t", ["not 9", "9"], height=340, width=360)
    matrix.figure.update_xaxes(title_text="predicted")
    matrix.figure.update_yaxes(title_text="true")
    pr = LabelledLines("Precision–recall curve on the dev set", ["all thresholds", "threshold t"],
                       x_title="recall", y_title="precision", height=340, width=420)
    pr.figure.data[1].update(mode="markers", marker={"size": 14, "symbol": "diamond"})
    pr.figure.update_xaxes(range=[0, 1.02])
    pr.figure.update_yaxes(range=[0, 1.05])
    text = readout()

    def work(run: Run, cancel: threading.Event):
        nonlocal data
        data = data or binary_task(POSITIVE).to(device)
        run.model = make_network("torch_autograd", 64, run.config["softmax_hidden_units"], 2, seed=0, device=device)
        task = SoftmaxTraining(run.model, data, lr=run.config["lr"], batch_size=64)
        yield from train(task, steps_of(run.config, data.X_train.shape[1]), eval_every=0, cancel=cancel)

    def show(*_) -> None:
        if state.scores is None:
            text.value = "Press <b>Train</b>: the threshold needs a trained classifier's scores."
            return
        s = binary_scores(state.scores, state.y, threshold.value)
        matrix.show(s.confusion)
        pr.show("threshold t", [s.recall], [s.precision])  # the curve itself changes only with a new model
        text.value = describe_scores(s, threshold.value)

    def scored(run: Run) -> None:
        if run.history.diverged:
            return
        state.scores = run.model.predict_proba(data.X_dev)[1].cpu()
        state.y = data.Y_dev[0].cpu()
        precision, recall, _ = precision_recall_curve(state.scores, state.y)
        with pr.figure.batch_update():
            pr.show("all thresholds", recall, precision)
            show()

    costs = CostCurves("Cost J of the 'is it a 9?' classifier while training", x_title="mini-batch step",
                       height=300)
    panel = TrainingPanel(controls, work, label=lambda c: f"{c['softmax_hidden_units']} hidden · α={c['lr']:.2g} · "
                          f"{c['num_epochs']} epochs", device=device, costs=costs, on_done=scored, step_name="step",
                          fixed={"positive": POSITIVE, "batch_size": 64, "seed": 0})
    redraw_on([threshold], show, text)
    return panel.dashboard(costs.figure, threshold, text, W.HBox([matrix.figure, pr.figure]), readout=text,
                           extra_controls={"decision_threshold": threshold},
                           figures={"costs": costs.figure, "confusion": matrix.figure, "pr_curve": pr.figure})


# ---------------------------------------------------------------- optimizing vs satisficing


def width_name(n_h: int) -> str:
    return "softmax regression" if n_h == 0 else f"{n_h} hidden units"


def satisficing_dashboard() -> Dashboard:
    """Epochs → six networks of different widths trained side by side on all ten digits; latency limit (no
    training) → the most accurate network whose measured time to classify the dev set stays under the limit."""
    from lab.data.digits import load_digits_multiclass
    device, candidates = lab_device(), []
    controls = {"num_epochs": control("num_epochs", value=5, high=40)}
    limit = control("latency_limit_ms", continuous_update=True)
    bars = CountBars("Dev accuracy of each network, by whether it meets the latency limit",
                     ["within the limit", "too slow", "chosen"], y_title="dev accuracy", height=360,
                     colours=["#56B4E9", "#BBBBBB", "#009E73"], label=lambda v: f"{v:.1%}")
    bars.figure.update_yaxes(range=[0, 1.1], tickformat=".0%")
    bars.figure.update_layout(barmode="overlay")
    text, data = readout(), load_digits_multiclass()

    def work(run: Run, cancel: threading.Event):
        candidates.clear()
        moved, run.model = data.to(device), {}
        streams = {}
        for n_h in WIDTHS:
            run.model[n_h] = make_network("torch_autograd", 64, n_h, 10, seed=0, device=device)
            task = SoftmaxTraining(run.model[n_h], moved, lr=0.5, batch_size=64)
            streams[width_name(n_h)] = train(task, steps_of(run.config, moved.X_train.shape[1]), cancel=cancel)
        yield from side_by_side(streams, cancel=cancel)
        if not cancel.is_set():  # latency measured after training, on the whole dev set, one model at a time
            candidates.extend(Candidate(width_name(n_h), accuracy(net, moved.X_dev, moved.Y_dev),
                                        latency_ms(net.scores, moved.X_dev)) for n_h, net in run.model.items())

    def show(*_) -> None:
        if not candidates:
            text.value = "Press <b>Train</b> to train and time the six networks."
            return
        best = best_within_limit(candidates, limit.value)
        names = [f"{c.name}<br>{c.latency_ms:.3g} ms" for c in candidates]
        ok = [c.accuracy if c.latency_ms <= limit.value and c is not best else None for c in candidates]
        slow = [c.accuracy if c.latency_ms > limit.value else None for c in candidates]
        chosen = [c.accuracy if c is best else None for c in candidates]
        bars.show(names, [ok, slow, chosen])
        text.value = (f"Limit {limit.value:.3g} ms: <b>{best.name}</b> is chosen, dev accuracy "
                      f"<b>{best.accuracy:.1%}</b> in {best.latency_ms:.2f} ms." if best else
                      f"Limit {limit.value:.3g} ms: no network is fast enough — relax the limit.")

    costs = CostCurves("Cost J of each network while training", x_title="mini-batch step", height=300, max_runs=6)
    panel = TrainingPanel(controls, work, label=lambda c: f"{c['num_epochs']} epochs", device=device, costs=costs,
                          on_done=lambda run: show(), step_name="step", fixed={"batch_size": 64, "lr": 0.5})
    redraw_on([limit], show, text)
    return panel.dashboard(costs.figure, limit, text, bars.figure, readout=text,
                           extra_controls={"latency_limit_ms": limit},
                           figures={"costs": costs.figure, "accuracy_by_latency": bars.figure})
