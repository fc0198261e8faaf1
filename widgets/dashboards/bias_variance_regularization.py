"""Lab 05, bias, variance and regularization: λ, keep-prob, augmentation and patience → train vs dev error and
cost, the diagnosis in the course's words, the decision boundary on 2-D points, and which flips keep a meaning."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as W
import numpy as np
import torch

from lab.data.digits import load_digits_binary, load_digits_parity
from lab.data.faces import load_faces_three_way
from lab.data.planar import make_planar
from lab.data.split import ThreeWaySplit, train_dev_test_split
from lab.deep_network import DeepNetwork, DeepNetworkTask, accuracy, probability_grid
from lab.regularization import augment, diagnose, flip_images, train_with_early_stopping
from lab.seeding import make_generator
from lab.training import EvalEvent
from widgets.controls import choice, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.runner import Item
from widgets.training_panel import Run, TrainingPanel
from widgets.views.decision_boundary import DecisionBoundary
from widgets.views.image_grid import ImageGrid
from widgets.views.train_dev_curves import TrainDevCurves

HIDDEN = (64, 64)  # a network big enough to memorize its small training set


def planar_split(seed: int = 0) -> ThreeWaySplit:
    """600 noisy 2-D "flower" points: 100 to train on, 250 dev, 250 test."""
    X, Y = make_planar(m=600, noise=0.3, seed=seed)
    return train_dev_test_split(X, Y, (100, 250, 250), seed, class_names=("orange petals", "blue petals"))


@dataclass(frozen=True)
class DataSet:
    load: Callable[[], ThreeWaySplit]  # the train/dev/test split, small enough to overfit
    lr: float  # a learning rate that fits it quickly without diverging
    num_iterations: int  # the run length the dashboard starts with (full-batch steps = epochs)
    eval_every: int  # steps between two points of the train/dev curves


DATASETS = {
    "digits": DataSet(lambda: load_digits_parity(sizes=(100, 400, 400)), 0.2, 500, 5),
    "faces": DataSet(lambda: load_faces_three_way(sizes=(30, 85, 85)), 0.05, 400, 5),
    "planar": DataSet(planar_split, 0.3, 1500, 15),
}


def run_label(config: dict) -> str:
    """'λ=3 · keep-prob=1 · mirror · patience 50': the regularizers that are on."""
    parts = [f"λ={config['lambd']:.2g}", f"keep-prob={config['keep_prob']:.2g}"]
    if config.get("augmentation", "off") != "off":
        parts.append(config["augmentation"])
    if config["patience"]:
        parts.append(f"patience {config['patience']}")
    return " · ".join(parts)


class Splits:
    """The data sets by name, each loaded once and kept on the device; `data`, if given, stands in for all."""

    def __init__(self, device: torch.device, data: ThreeWaySplit | None = None):
        self.device, self.data = device, data
        self._loaded: dict[str, ThreeWaySplit] = {}

    def __call__(self, name: str) -> ThreeWaySplit:
        if self.data is not None:
            return self.data.to(self.device)
        if name not in self._loaded:
            self._loaded[name] = DATASETS[name].load().to(self.device)
        return self._loaded[name]


@dataclass
class Fit:
    """What one run trains, on which data, and the evaluations it has reported so far."""

    task: DeepNetworkTask  # the network and its (possibly augmented) training set
    split: ThreeWaySplit  # the original split: the dev set for the curves, the test set for the end
    evaluations: list[tuple[int, dict[str, float]]] = field(default_factory=list)  # (step, metrics)

    def record(self, items: list[Item]) -> None:
        self.evaluations += [(event.step, event.metrics) for _, event in items if isinstance(event, EvalEvent)]

    def shown(self) -> list[tuple[int, dict[str, float]]]:
        """The evaluations to plot: not the re-evaluation of the weights early stopping put back."""
        return [(step, metrics) for step, metrics in self.evaluations if "stopped_at" not in metrics]

    def best(self) -> tuple[int, dict[str, float]] | None:
        """(step, metrics) of the weights early stopping keeps, once that step has been plotted."""
        best_step = int(self.evaluations[-1][1].get("best_step", 0)) if self.evaluations else 0
        return next(((step, m) for step, m in self.shown() if step == best_step), None) if best_step else None


def fit_for(config: dict, split: ThreeWaySplit, lr: float, device: torch.device) -> Fit:
    """A 64-64 ReLU network (He init, seed 0) on the training set, mirrored copies added if asked."""
    X, Y = augment(split.X_train, split.Y_train, split.image_shape, config.get("augmentation", "off"))
    network = DeepNetwork([X.shape[0], *HIDDEN, 1], "relu", "he", generator=make_generator(0, device), device=device)
    task = DeepNetworkTask(network, X, Y, lr, lambd=config["lambd"], keep_prob=config["keep_prob"], seed=0,
                           X_dev=split.X_dev, Y_dev=split.Y_dev)
    return Fit(task, split)


class TrainDevPlots:
    """Error and cost, train vs dev, of the latest run and the one before; the decision boundary on 2-D data."""

    def __init__(self, boundary: DecisionBoundary | None = None):
        self.errors = TrainDevCurves("Error rate: train vs dev", "error (%)")
        self.costs = TrainDevCurves("Cost J (cross-entropy, no λ term): train vs dev", "cost J", log_y=True)
        self.boundary = boundary
        self.browser_idle: Callable[[], bool] = lambda: True  # the panel's, once it exists: see `update`

    def new_run(self, _run: Run) -> None:
        self.errors.new_run()
        self.costs.new_run()

    def update(self, run: Run, items: list[Item]) -> None:
        fit: Fit = run.model
        fit.record(items)
        shown, best = fit.shown(), fit.best()
        if not shown:  # the run's first step comes before its first evaluation: nothing new to draw yet
            return
        steps = [step for step, _ in shown]
        self.errors.show(steps, [100 * (1 - m["train_accuracy"]) for _, m in shown],
                         [100 * (1 - m["dev_accuracy"]) for _, m in shown],
                         (best[0], 100 * (1 - best[1]["dev_accuracy"])) if best else None)
        self.costs.show(steps, [m["train_cost"] for _, m in shown], [m["dev_cost"] for _, m in shown],
                        (best[0], best[1]["dev_cost"]) if best else None)
        # the boundary (a 40 × 40 grid of ŷ, the heaviest plot here) skips a push while the browser is still
        # drawing earlier ones: a slider pressed during a run then gets its first points at once
        if self.browser_idle():
            self.show_boundary(fit)

    def show_boundary(self, fit: Fit) -> None:
        if self.boundary is not None:
            self.boundary.show_probabilities(*probability_grid(fit.task.network, fit.task.X_train, steps=40))

    def finish(self, run: Run) -> None:
        """The end of a run: a boundary that skipped the last pushes is drawn now."""
        self.show_boundary(run.model)

    @property
    def figures(self) -> dict:
        extra = {"boundary": self.boundary.figure} if self.boundary is not None else {}
        return {"errors": self.errors.figure, "costs": self.costs.figure, **extra}

    def layout(self) -> list[W.Widget]:
        if self.boundary is None:
            return [W.HBox([self.errors.figure, self.costs.figure])]
        return [W.HBox([self.boundary.figure, self.errors.figure]), self.costs.figure]


class Diagnosis:
    """The text line: the latest run in the course's terms, its dev − train gap beside the previous run's, and the
    test error, measured once at the end."""

    def __init__(self):
        self.widget = readout()
        self.previous_gap: float | None = None  # of the last run that finished, on the same data

    def forget(self) -> None:
        """New data: the previous run's gap is no longer comparable."""
        self.previous_gap = None

    def show(self, run: Run) -> None:
        history, fit, label = run.history, run.model, html.escape(run.label)
        if history.diverged or history.cancelled:
            self.widget.value = f"<b>{label}</b>: " + (history.diverged or "stopped before the end.")
            return
        m = history.metrics
        train_error, dev_error = 1 - m["train_accuracy"], 1 - m["dev_accuracy"]
        test_error = 1 - accuracy(fit.task.network, fit.split.X_test, fit.split.Y_test)
        text = f"<b>{label}</b>: {diagnose(train_error, dev_error)}."
        gap = dev_error - train_error
        if self.previous_gap is not None:
            text += f" Dev − train gap {100 * gap:.0f} points (previous run: {100 * self.previous_gap:.0f})."
        if "stopped_at" in m:
            text += (f" Early stopping ended the run at iteration {int(m['stopped_at'])} and put back the weights "
                     f"of iteration {int(m['best_step'])}, where the dev cost was lowest.")
        self.widget.value = text + f" Test error, measured once at the end: <b>{test_error:.0%}</b>."
        self.previous_gap = gap


def boundary_of(split: ThreeWaySplit) -> DecisionBoundary:
    """A decision-boundary view showing the 2-D training points (filled) and dev points (hollow) of `split`."""
    boundary = DecisionBoundary("Decision boundary of the latest run", class_names=split.class_names)
    boundary.show_points((split.X_train.cpu().tolist(), split.Y_train[0].cpu().tolist()),
                         (split.X_dev.cpu().tolist(), split.Y_dev[0].cpu().tolist()))
    return boundary


def regularization_controls(name: str, with_data_choice: bool) -> dict[str, W.ValueWidget]:
    """λ, keep-prob, patience and iterations; with the data choice also the data set and augmentation."""
    controls = {"overfit_data": control("overfit_data", value=name)} if with_data_choice else {}
    controls["lambd"] = control("lambd", value=0.0, low=0.0, high=10.0)
    controls["keep_prob"] = control("keep_prob", value=1.0, low=0.3, high=1.0)
    if with_data_choice:
        controls["augmentation"] = control("augmentation")
    controls["patience"] = control("patience", label="Early-stopping patience (epochs, 0 = off)", value=0, low=0,
                                   high=500, step=10)
    controls["num_iterations"] = control("num_iterations", value=DATASETS[name].num_iterations, low=100, high=5000)
    return controls


def _regularization_page(name: str, data: ThreeWaySplit | None, with_boundary: bool) -> Dashboard:
    device = lab_device()
    splits = Splits(device, data)
    first = splits(name)  # load it now, so the first run starts at once
    controls = regularization_controls(name, with_data_choice=not with_boundary)
    plots, diagnosis = TrainDevPlots(boundary_of(first) if with_boundary else None), Diagnosis()

    def work(run: Run, cancel):
        data_name = run.config.get("overfit_data", name)
        dataset = DATASETS[data_name]
        run.config.update(lr=dataset.lr, data=data_name)  # recorded in the run's settings (the export)
        run.model = fit_for(run.config, splits(data_name), dataset.lr, device)
        yield from train_with_early_stopping(run.model.task, run.config["num_iterations"], run.config["patience"],
                                             eval_every=dataset.eval_every, cancel=cancel)

    def data_changed(change) -> None:
        diagnosis.forget()
        steps = DATASETS[change["new"]].num_iterations
        if controls["num_iterations"].value != steps:
            controls["num_iterations"].value = steps  # which starts a run
        else:
            panel.start()

    def finish(run: Run) -> None:
        plots.finish(run)
        diagnosis.show(run)

    panel = TrainingPanel(controls, work, label=run_label, device=device, fixed={"hidden": HIDDEN, "seed": 0},
                          on_start=plots.new_run, on_update=plots.update, on_done=finish,
                          start_on=[key for key in controls if key != "overfit_data"], plots_evaluations=True)
    plots.browser_idle = lambda: panel.browser_idle
    if "overfit_data" in controls:
        controls["overfit_data"].observe(panel.guard(data_changed), names="value")
    return panel.dashboard(*plots.layout(), figures=plots.figures, readout=diagnosis.widget)


def regularization_dashboard(data: ThreeWaySplit | None = None, dataset: str = "digits") -> Dashboard:
    """Real images, few of them, and a 64-64 ReLU network that memorizes them. λ, keep-prob, augmentation and
    early-stopping patience → train vs dev error and cost curves, and the diagnosis in the course's terms."""
    return _regularization_page(dataset, data, with_boundary=False)


def boundary_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """The planar flower with 100 training points: λ, keep-prob and patience → the decision boundary as it
    trains, with train vs dev error and cost curves."""
    return _regularization_page("planar", data, with_boundary=True)


def flip_pairs(split: ThreeWaySplit, direction: str, per_class: int = 2, size: int = 25,
               ) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(original, flipped, class name) for the first `per_class` training images of class 1, then of class 0,
    each image resized to size × size."""
    labels = [int(y) for y in split.Y_train[0].tolist()]
    chosen = [i for i, y in enumerate(labels) if y == 1][:per_class]
    chosen += [i for i, y in enumerate(labels) if y == 0][:per_class]
    X = split.X_train[:, chosen]  # (H·W, 2·per_class)
    flipped = flip_images(X, split.image_shape, direction)
    return [(_resized(X[:, k], split.image_shape, size), _resized(flipped[:, k], split.image_shape, size),
             split.class_names[labels[i]]) for k, i in enumerate(chosen)]


def flip_dashboard() -> Dashboard:
    """Real faces and digits beside their flips: a mirrored face is still a face; a 2 or 5 mirrored top to
    bottom is not."""
    faces, digits = load_faces_three_way(), load_digits_binary(2, 5)
    direction = choice("Flip", "Which flip to apply to every image",
                       [("mirror (left ↔ right)", "left_right"), ("mirror (top ↔ bottom)", "up_down")])
    grid = ImageGrid("Originals (top) and their flips (bottom)", columns=8, height=330, width=900)
    text = readout()

    def show(*_) -> None:
        pairs = flip_pairs(faces, direction.value) + flip_pairs(digits, direction.value)
        grid.show(np.stack([original for original, _, _ in pairs] + [flipped for _, flipped, _ in pairs]),
                  [name for _, _, name in pairs] + ["flipped"] * len(pairs))
        text.value = ("A mirrored face is still a face, so mirroring doubles the face data for free. Flipped "
                      "digits can turn into other digits (a 5 mirrored top to bottom looks like a 2): training "
                      "on them with their old labels would teach the model something false.")

    redraw_on([direction], show, text)
    return Dashboard([direction, text, grid.figure], controls={"direction": direction},
                     figures={"flips": grid.figure}, readout=text)


def _resized(column, shape: tuple[int, int], size: int):
    """An image column (H·W,) as a size × size numpy array (nearest-neighbour), pixels in [0, 1]."""
    image = column.reshape(shape).cpu().numpy()
    rows = (np.arange(size) * shape[0] // size)
    cols = (np.arange(size) * shape[1] // size)
    return image[np.ix_(rows, cols)]
