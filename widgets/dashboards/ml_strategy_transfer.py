"""Lab 11, ML strategy (part 3): learning from another task.

- `transfer_dashboard`: n labelled 5–9 digits → from scratch vs the hidden layer pre-trained on 0–4 (last layer
  only / all layers fine-tuned); held-out accuracy while training, and the final accuracy against n;
- `multitask_dashboard`: training digits, share of labels missing → one network with four sigmoid outputs vs four
  separate networks on the same budget of hidden units; held-out accuracy of each label.
"""

from __future__ import annotations

import threading

import ipywidgets as W

from lab.multitask import LABELS, STEPS, MultiTaskTraining
from lab.training import EvalEvent, side_by_side, train
from lab.transfer import MODES, PRETRAIN_STEPS, Pretraining, fine_tuning, is_pretrained
from widgets.controls import control
from widgets.dashboard import Dashboard, lab_device, readout
from widgets.training_panel import Run, TrainingPanel
from widgets.views.accuracy_bars import AccuracyBars
from widgets.views.cost_curves import CostCurves
from widgets.views.labelled_lines import LabelledLines

HIDDEN = 64  # hidden units of the transfer networks
FINE_TUNE_STEPS = 150
PRETRAIN_LABEL = "pre-training on 0–4"


def accuracy_lines(title: str, labels, x_title: str) -> LabelledLines:
    lines = LabelledLines(title, labels, x_title=x_title, y_title="held-out accuracy", markers=True, height=340)
    lines.figure.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return lines


def transfer_dashboard() -> Dashboard:
    """n labelled 5–9 digits → three networks trained side by side: from scratch, transfer (last layer), transfer
    (all layers); pre-training on 0–4 runs once, on the first Train, as its own curve."""
    device = lab_device()
    controls = {"transfer_examples": control("transfer_examples")}
    progress = accuracy_lines("Held-out accuracy on 5–9 while fine-tuning", list(MODES.values()), "step")
    by_n = accuracy_lines("Final held-out accuracy against n", list(MODES.values()), "labelled examples n")
    by_n.figure.update_xaxes(type="log")
    points: dict[str, dict[int, float]] = {name: {} for name in MODES.values()}
    summary = readout()

    def work(run: Run, cancel: threading.Event):
        if not is_pretrained(HIDDEN, device):  # once per session: what every transfer starts from
            pre = Pretraining(HIDDEN, device)
            yield from ((PRETRAIN_LABEL, e) for e in train(pre, PRETRAIN_STEPS, cancel=cancel))
            if cancel.is_set():
                return
            pre.keep()
        streams = {name: train(fine_tuning(mode, run.config["transfer_examples"], HIDDEN, device=device),
                               FINE_TUNE_STEPS, eval_every=10, cancel=cancel) for mode, name in MODES.items()}
        yield from side_by_side(streams, cancel=cancel)

    def show_progress(_run: Run, items) -> None:
        progress.extend([(label, event.step, event.metrics["accuracy"]) for label, event in items
                         if isinstance(event, EvalEvent) and label in points])

    def show_result(run: Run) -> None:
        n, parts = run.config["transfer_examples"], []
        with by_n.figure.batch_update():  # the three networks' new points in one redraw
            for name in MODES.values():
                history = run.histories.get(name)
                if history is not None and history.finished and not history.cancelled and not history.diverged:
                    points[name][n] = history.metrics["accuracy"]
                    by_n.show(name, sorted(points[name]), [points[name][k] for k in sorted(points[name])])
                    parts.append(f"{name} <b>{history.metrics['accuracy']:.1%}</b>")
        summary.value = f"n = {n}: " + ", ".join(parts) + " of the other 5–9 digits." if parts else ""

    def clear() -> None:
        for p in points.values():
            p.clear()
        by_n.clear()

    costs = CostCurves("Cost J while pre-training and fine-tuning", x_title="full-batch step", height=320)
    panel = TrainingPanel(controls, work, label=lambda c: f"n = {c['transfer_examples']}", device=device, costs=costs,
                          on_start=lambda _run: progress.clear(), on_update=show_progress, on_done=show_result,
                          on_clear=clear,
                          step_name="step", fixed={"hidden_units": HIDDEN, "lr": 0.5, "seed": 0})
    return panel.dashboard(costs.figure, W.HBox([progress.figure, by_n.figure]), readout=summary,
                           figures={"costs": costs.figure, "accuracy": progress.figure, "accuracy_by_n": by_n.figure})


SETUPS = {True: "one network, 4 outputs", False: "4 separate networks"}


def multitask_dashboard() -> Dashboard:
    """Training digits, share of labels missing → one multi-task network vs four separate ones (64 hidden units in
    all either way), trained side by side; each label's held-out accuracy."""
    device = lab_device()
    controls = {"multitask_examples": control("multitask_examples"),
                "missing_label_share": control("missing_label_share")}
    bars = AccuracyBars("Held-out accuracy of each label", list(SETUPS.values()), x_title="label", height=340)
    bars.figure.update_yaxes(range=[0.5, 1.05])
    summary = readout()

    def work(run: Run, cancel: threading.Event):
        c = run.config
        streams = {name: train(MultiTaskTraining(shared, c["multitask_examples"], c["missing_label_share"],
                                                 device=device), STEPS, eval_every=50, cancel=cancel)
                   for shared, name in SETUPS.items()}
        yield from side_by_side(streams, cancel=cancel)

    def show_result(run: Run) -> None:
        histories = [run.histories.get(name) for name in SETUPS.values()]
        if not all(h is not None and h.finished and not h.cancelled and not h.diverged for h in histories):
            return
        bars.show(list(LABELS), [[[h.metrics[label]] for label in LABELS] for h in histories])
        summary.value = (f"{run.label}: mean held-out accuracy " + ", ".join(
            f"{name} <b>{h.metrics['mean_accuracy']:.1%}</b>" for name, h in zip(SETUPS.values(), histories,
                                                                                  strict=True)) + ".")

    costs = CostCurves("Cost J (summed over the labels present) while training", x_title="full-batch step",
                       height=320)
    panel = TrainingPanel(controls, work, label=lambda c: f"{c['multitask_examples']} digits · "
                          f"{c['missing_label_share']:.0%} missing", device=device, costs=costs, on_done=show_result,
                          on_clear=lambda: bars.clear(), step_name="step",
                          fixed={"hidden_budget": 64, "optimizer": "adam", "seed": 0})
    return panel.dashboard(costs.figure, bars.figure, readout=summary,
                           figures={"costs": costs.figure, "label_accuracy": bars.figure})
