"""Bias, variance and regularization: λ, keep-prob, augmentation and patience → train vs dev error, boundary."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from lab.data import make_planar
from lab.deep_network import DeepNetwork, DeepNetworkTask, accuracy, probability_grid
from lab.device import describe_device
from lab.history import RunHistory
from lab.regularization import (
    ThreeWaySplit,
    augment,
    diagnose,
    flip_images,
    load_digits_binary,
    load_digits_parity,
    load_faces_three_way,
    train_dev_test_split,
    train_with_early_stopping,
)
from lab.seeding import make_generator
from lab.training import DoneEvent, EvalEvent
from widgets.controls import button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.guard import guarded
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.decision_boundary import DecisionBoundary
from widgets.views.figure import PALETTE, label_log_axis, make_figure, plottable
from widgets.views.image_grid import ImageGrid

HIDDEN = (64, 64)  # a network big enough to memorize its small training set


def planar_split(seed: int = 0) -> ThreeWaySplit:
    """600 noisy 2-D "flower" points: 100 to train on, 250 dev, 250 test."""
    X, Y = make_planar(m=600, noise=0.3, seed=seed)
    return train_dev_test_split(X, Y, (100, 250, 250), seed, class_names=("orange petals", "blue petals"))


DATASETS = {  # name → (loader, learning rate, iterations, evaluate every)
    "digits": (lambda: load_digits_parity(sizes=(100, 400, 400)), 0.2, 500, 5),
    "faces": (lambda: load_faces_three_way(sizes=(30, 85, 85)), 0.05, 400, 5),
    "planar": (planar_split, 0.3, 1500, 15),
}


def run_label(s: dict) -> str:
    parts = [f"λ={s['lambd']:.2g}", f"keep-prob={s['keep_prob']:.2g}"]
    if s.get("augmentation", "off") != "off":
        parts.append(s["augmentation"])
    if s["patience"]:
        parts.append(f"patience {s['patience']}")
    return " · ".join(parts)


class _ErrorCurves:
    """Train and dev error of the latest run (solid) and the run before it (dotted), per evaluation."""

    def __init__(self, title: str, y_title: str, log_y: bool = False):
        self.figure = make_figure(title, "iteration (one full-batch step = one epoch)", y_title, height=330,
                                  width=540, log_y=log_y)
        styles = [("train", PALETTE[0], "solid"), ("dev", PALETTE[5], "solid"),
                  ("previous run: train", PALETTE[0], "dot"), ("previous run: dev", PALETTE[5], "dot")]
        for name, colour, dash in styles:
            self.figure.add_trace(go.Scatter(x=[], y=[], name=name, mode="lines",
                                             line={"color": colour, "width": 2.5 if dash == "solid" else 1.5,
                                                   "dash": dash}))
        self.figure.add_trace(go.Scatter(x=[], y=[], name="best dev cost (kept)", mode="markers",
                                         marker={"color": PALETTE[6], "size": 11, "symbol": "star"}))

    def new_run(self) -> None:
        with self.figure.batch_update():
            for now, before in ((0, 2), (1, 3)):
                current, old = self.figure.data[now], self.figure.data[before]
                old.x, old.y = current.x, current.y
                current.x, current.y = [], []
            self.figure.data[4].x, self.figure.data[4].y = [], []

    def show(self, steps: list[int], train: list[float], dev: list[float], best: tuple[int, float] | None) -> None:
        with self.figure.batch_update():
            self.figure.data[0].x, self.figure.data[0].y = list(steps), plottable(train)
            self.figure.data[1].x, self.figure.data[1].y = list(steps), plottable(dev)
            self.figure.data[4].x, self.figure.data[4].y = ([best[0]], [best[1]]) if best else ([], [])
            if self.figure.layout.yaxis.type == "log":  # this run's points and the previous run's (dotted)
                previous = [v for t in self.figure.data[2:4] if t.y is not None for v in t.y]
                label_log_axis(self.figure, [*train, *dev, *previous])


def _build(name: str, data: ThreeWaySplit | None, with_boundary: bool) -> Dashboard:
    device = lab_device()
    loader, lr, default_steps, eval_every = DATASETS[name]
    cache: dict[str, ThreeWaySplit] = {}

    def split_for(choice: str) -> ThreeWaySplit:
        if data is not None:
            return data.to(device)
        if choice not in cache:
            cache[choice] = DATASETS[choice][0]().to(device)
        return cache[choice]

    split_for(name)
    controls = {}
    if not with_boundary:
        controls["overfit_data"] = control("overfit_data", value=name)
    controls.update({
        "lambd": control("lambd", value=0.0, low=0.0, high=10.0),
        "keep_prob": control("keep_prob", value=1.0, low=0.3, high=1.0),
    })
    if not with_boundary:
        controls["augmentation"] = control("augmentation")
    controls["patience"] = control("patience", value=0, low=0, high=500, step=10)
    controls["patience"].description = "Early-stopping patience (epochs, 0 = off)"
    controls["num_iterations"] = control("num_iterations", value=default_steps, low=100, high=5000)
    train_button = button("Train", "Train again with the current settings", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")

    errors = _ErrorCurves("Error rate: train vs dev", "error (%)")
    costs = _ErrorCurves("Cost J (cross-entropy, no λ term): train vs dev", "cost J", log_y=True)
    boundary = DecisionBoundary("Decision boundary of the latest run", class_names=split_for(name).class_names) \
        if with_boundary else None
    status, diagnosis = StatusLine(), readout()
    histories: dict[str, RunHistory] = {}
    evals: dict[str, list[tuple[int, dict]]] = {}
    tasks: dict[str, DeepNetworkTask] = {}
    splits: dict[str, ThreeWaySplit] = {}
    previous_gap: list[float] = []

    if boundary is not None:
        split = split_for(name)
        boundary.show_points((split.X_train.cpu().tolist(), split.Y_train[0].cpu().tolist()),
                             (split.X_dev.cpu().tolist(), split.Y_dev[0].cpu().tolist()))

    def on_batch(items) -> None:
        label = items[-1][0]
        history, points = histories[label], evals[label]
        for _, event in items:
            history.record(event)
            if isinstance(event, EvalEvent):
                points.append((event.step, event.metrics))
        done = isinstance(items[-1][1], DoneEvent)
        shown = [p for p in points if "stopped_at" not in p[1]]
        steps = [s for s, _ in shown]
        best = None
        if shown and history.metrics.get("best_step"):
            best_step = int(history.metrics["best_step"])
            at = [m for s, m in shown if s == best_step]
            if at:
                best = (best_step, at[0])
        errors.show(steps, [100 * (1 - m["train_accuracy"]) for _, m in shown],
                    [100 * (1 - m["dev_accuracy"]) for _, m in shown],
                    (best[0], 100 * (1 - best[1]["dev_accuracy"])) if best else None)
        costs.show(steps, [m["train_cost"] for _, m in shown], [m["dev_cost"] for _, m in shown],
                   (best[0], best[1]["dev_cost"]) if best else None)
        if boundary is not None:
            boundary.show_probabilities(*probability_grid(tasks[label].network, tasks[label].X_train, steps=40))
        if done:
            finished(label, history)

    def finished(label: str, history: RunHistory) -> None:
        if history.diverged or history.cancelled:
            diagnosis.value = f"<b>{html.escape(label)}</b>: " + (history.diverged or "stopped before the end.")
            return
        m, task = history.metrics, tasks[label]
        train_error, dev_error = 1 - m["train_accuracy"], 1 - m["dev_accuracy"]
        split = splits[label]
        test_error = 1 - accuracy(task.network, split.X_test, split.Y_test)
        text = f"<b>{html.escape(label)}</b>: {diagnose(train_error, dev_error)}."
        gap = dev_error - train_error
        if previous_gap:
            text += f" Dev − train gap {100 * gap:.0f} points (previous run: {100 * previous_gap[-1]:.0f})."
        if "stopped_at" in m:
            text += (f" Early stopping ended the run at iteration {int(m['stopped_at'])} and put back the weights "
                     f"of iteration {int(m['best_step'])}, where the dev cost was lowest.")
        text += f" Test error, measured once at the end: <b>{test_error:.0%}</b>."
        diagnosis.value = text
        previous_gap.append(gap)

    runner = Runner(status, on_batch, device_text=describe_device(device), plots_evaluations=True)

    def start(*_) -> None:
        s = {key: widget.value for key, widget in controls.items()}
        choice = s.get("overfit_data", name)
        split = split_for(choice)
        _, lr_now, _, every = DATASETS[choice]
        X, Y = augment(split.X_train, split.Y_train, split.image_shape, s.get("augmentation", "off"))
        network = DeepNetwork([X.shape[0], *HIDDEN, 1], "relu", "he", generator=make_generator(0, device),
                              device=device)
        task = DeepNetworkTask(network, X, Y, lr_now, lambd=s["lambd"], keep_prob=s["keep_prob"], seed=0,
                               X_dev=split.X_dev, Y_dev=split.Y_dev)
        label = run_label(s)

        def setup() -> None:
            tasks[label], splits[label] = task, split
            histories[label] = RunHistory(label, {**s, "lr": lr_now, "hidden": HIDDEN, "seed": 0, "data": choice})
            evals[label] = []
            errors.new_run()
            costs.new_run()

        def work(cancel):
            for event in train_with_early_stopping(task, s["num_iterations"], s["patience"], eval_every=every,
                                                   cancel=cancel):
                yield label, event
        runner.start(work, label, setup)

    def data_changed(change) -> None:
        previous_gap.clear()
        steps = DATASETS[change["new"]][2]
        if controls["num_iterations"].value != steps:
            controls["num_iterations"].value = steps  # which starts a run
        else:
            start()

    start = wire_training(runner, start, train_button, stop_button,
                          [widget for key, widget in controls.items() if key != "overfit_data"])
    if "overfit_data" in controls:
        controls["overfit_data"].observe(guarded(data_changed, lambda text: status.show(text, "error")),
                                         names="value")

    plots = [errors.figure, costs.figure]
    figures = {"errors": errors.figure, "costs": costs.figure}
    if boundary is not None:
        figures["boundary"] = boundary.figure
        layout = [W.HBox([boundary.figure, errors.figure]), costs.figure]
    else:
        layout = [W.HBox(plots)]
    return Dashboard(
        [device_badge(device), W.HBox([W.VBox(list(controls.values())), W.VBox([train_button, stop_button])]),
         status.widget, diagnosis, *layout],
        controls={**controls, "train": train_button, "stop": stop_button}, figures=figures,
        status=status, runner=runner, readout=diagnosis)


def regularization_dashboard(data: ThreeWaySplit | None = None, dataset: str = "digits") -> Dashboard:
    """Real images, few of them, and a 64-64 ReLU network that memorizes them. λ, keep-prob, augmentation and
    early-stopping patience → train vs dev error and cost curves, and the diagnosis in the course's terms."""
    return _build(dataset, data, with_boundary=False)


def boundary_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """The planar flower with 100 training points: λ, keep-prob and patience → the decision boundary as it
    trains, with train vs dev error and cost curves."""
    return _build("planar", data, with_boundary=True)


def flip_dashboard() -> Dashboard:
    """Real faces and digits beside their flips: a mirrored face is still a face; an upside-down 2 or 5 is not."""
    faces, digits = load_faces_three_way(), load_digits_binary(2, 5)
    direction = W.Dropdown(options=[("mirror (left ↔ right)", "left_right"), ("upside down", "up_down")],
                           value="left_right", description="Flip", tooltip="Which flip to apply to every image",
                           style={"description_width": "initial"})
    grid = ImageGrid("Originals (top) and their flips (bottom)", columns=8, height=330, width=900)
    text = readout()

    def show(*_) -> None:
        pictures = []
        for split in (faces, digits):
            labels = split.Y_train[0].tolist()
            chosen = [i for i, y in enumerate(labels) if y == 1][:2] + [i for i, y in enumerate(labels) if y == 0][:2]
            X = split.X_train[:, chosen]
            flipped = flip_images(X, split.image_shape, direction.value)
            for column, index in enumerate(chosen):
                pictures.append((X[:, column], flipped[:, column], split.image_shape,
                                 split.class_names[int(labels[index])]))
        size = 25
        top = [_fit(p[0], p[2], size) for p in pictures]
        bottom = [_fit(p[1], p[2], size) for p in pictures]
        grid.show(np.stack(top + bottom), [p[3] for p in pictures] + ["flipped"] * len(pictures))
        text.value = ("A mirrored face is still a face, so mirroring doubles the face data for free. Flipped "
                      "digits can turn into other digits (an upside-down 5 looks like a 2): training on them "
                      "with their old labels would teach the model something false.")

    def _noop(text_: str) -> None:
        text.value = html.escape(text_)

    show = guarded(show, _noop)
    direction.observe(show, names="value")
    show()
    return Dashboard([direction, text, grid.figure], controls={"direction": direction},
                     figures={"flips": grid.figure}, readout=text)


def _fit(column, shape: tuple[int, int], size: int):
    """An image column (H·W,) as a size × size numpy array (nearest-neighbour), pixels in [0, 1]."""
    image = column.reshape(shape).cpu().numpy()
    rows = (np.arange(size) * shape[0] // size)
    cols = (np.arange(size) * shape[1] // size)
    return image[np.ix_(rows, cols)]
