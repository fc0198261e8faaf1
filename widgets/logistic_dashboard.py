"""Logistic regression on the face photos: learning rate and iterations → cost curves and what goes wrong."""

from __future__ import annotations

import ipywidgets as W

from lab.data import Split, load_faces
from lab.device import describe_device
from lab.history import RunHistory
from lab.logistic import LogisticRegression, misclassified
from lab.training import DoneEvent, StepEvent, train
from widgets.controls import button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.export import ExportLinks
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.cost_curves import CostCurves
from widgets.views.gradient_norms import GradientNorms
from widgets.views.image_grid import ImageGrid


def run_label(lr: float, loss: str, seed: int) -> str:
    return f"α={lr:.2g} · {loss.replace('_', '-')} · split {seed}"


def learning_rate_dashboard(data: Split | None = None) -> Dashboard:
    """Train logistic regression on the face photos; every change of a control starts a new run.

    Runs are overlaid on one cost plot for comparison; the latest run also shows its gradient
    magnitudes, test accuracy and the test photos it gets wrong.
    """
    device = lab_device()
    splits: dict[int, Split] = {}

    def split_for(seed: int) -> Split:
        if data is not None:
            return data.to(device)
        if seed not in splits:
            splits[seed] = load_faces(seed=seed).to(device)
        return splits[seed]

    split_for(0)  # load the photos now, so the first run starts at once
    controls = {
        "lr": control("lr", value=0.005, low=1e-4, high=10.0),
        "num_iterations": control("num_iterations", value=1000, low=50, high=5000),
        "loss": control("loss"),
        "seed": control("seed", value=0, high=20),
    }
    controls["seed"].description = "Train/test split seed"
    train_button = button("Train", "Train again with the current settings", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")
    clear_button = button("Clear runs", "Remove every curve from the cost plot")

    costs = CostCurves("Cost J on the training photos (runs overlaid)")
    grads = GradientNorms("Gradient magnitude of the latest run", width=520)
    wrong = ImageGrid("Test photos the latest run gets wrong", columns=4, width=540, height=300,
                      empty_text="Every test photo is classified correctly")
    status, summary, export = StatusLine(), readout(), ExportLinks()
    histories: dict[str, RunHistory] = {}
    tasks: dict[str, LogisticRegression] = {}

    def on_batch(items) -> None:
        label = items[-1][0]
        history = histories[label]
        if not history.steps and any(isinstance(e, StepEvent) for _, e in items):
            costs.add_run(label)  # only now: a rerun stopped before its first point keeps the earlier curve
        for _, event in items:
            history.record(event)
        if history.steps:
            costs.update_run(label, history.steps, history.costs, note="diverged" if history.diverged else "")
            grads.show(history.steps, history.grad_norms)
        if isinstance(items[-1][1], DoneEvent):
            finished(label, history)

    def finished(label: str, history: RunHistory) -> None:
        task, split = tasks[label], tasks[label].data
        if history.diverged:
            summary.value = f"<b>{label}</b>: {history.diverged}"
        elif history.cancelled:
            summary.value = f"<b>{label}</b>: stopped after {len(history.steps)} iterations."
        else:
            m_test = split.Y_test.shape[1]
            correct = round(history.metrics["test_accuracy"] * m_test)
            summary.value = (f"<b>{label}</b>: final cost {history.costs[-1]:.4f}; test accuracy "
                             f"<b>{history.metrics['test_accuracy']:.1%}</b> ({correct}/{m_test} photos), "
                             f"train accuracy {history.metrics['train_accuracy']:.1%}.")
        idx = misclassified(task.w, task.b, split.X_test, split.Y_test)[:8].cpu()
        images = split.X_test[:, idx].T.reshape(-1, *split.image_shape).cpu().numpy()
        names = split.class_names
        truth = split.Y_test[0, idx].cpu().long().tolist()
        wrong.show(images, [f"is {names[t]}" for t in truth])
        export.show(history, f"logistic_lr{history.settings['lr']:.2g}_{history.settings['loss']}")

    runner = Runner(status, on_batch, device_text=describe_device(device))

    def start(*_) -> None:
        lr, n = controls["lr"].value, controls["num_iterations"].value
        loss, seed = controls["loss"].value, controls["seed"].value
        label = run_label(lr, loss, seed)
        task = LogisticRegression(split_for(seed), lr, loss)
        settings = {"lr": lr, "num_iterations": n, "loss": loss, "seed": seed,
                    "data": "scikit-image lfw_subset, 75/25 train/test split"}

        def setup() -> None:
            tasks[label] = task
            histories[label] = RunHistory(label, settings)

        def work(cancel):
            for event in train(task, n, cancel=cancel, eval_every=max(1, n // 10)):
                yield label, event
        runner.start(work, label, setup)

    wire_training(runner, start, train_button, stop_button, controls.values())
    clear_button.on_click(lambda _: costs.clear())

    return Dashboard(
        [device_badge(device),
         W.HBox([W.VBox(list(controls.values())), W.VBox([train_button, stop_button, clear_button])]),
         status.widget, summary, costs.figure, W.HBox([grads.figure, wrong.figure]), export.widget],
        controls={**controls, "train": train_button, "stop": stop_button, "clear": clear_button},
        figures={"costs": costs.figure, "gradients": grads.figure, "misclassified": wrong.figure},
        status=status, runner=runner, readout=summary)
