"""Lab 07: mini-batch size, update rules, learning-rate decay — and two formulas the notes get wrong.

Four dashboards, each returned (not displayed) by its function:
- `batch_size_dashboard`: batch size → noisy or smooth cost, steps and seconds per epoch;
- `optimizer_dashboard`: optimizer, α, β, β₁, β₂, decay → cost curves of several runs overlaid;
- `loss_surface_dashboard`: paths of all four optimizers stepping live over a contour plot;
- `notes_mistakes_dashboard`: the notes' RMSprop and decay formulas, trained until they blow up.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.digits import load_digits
from lab.data.split import Split
from lab.loss_surface import SurfaceWalk, get_surface
from lab.lr_decay import notes_schedule, schedule
from lab.optimization import MiniBatchTraining, cost_noise
from lab.optimizers import OPTIMIZER_NAMES
from lab.training import DEFAULT_HINT, Event, side_by_side, train
from widgets.controls import checkbox, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, make_figure, plottable
from widgets.views.loss_surface import SurfacePaths

SURFACE_PACE = 0.03  # seconds between two steps on the cost surface, so the paths visibly grow
DIGITS = "scikit-learn digits, 75/25 split"  # what the digit dashboards train on, as their exports record it
# the settings of a run that MiniBatchTraining takes; the rest of run.config (num_epochs, data) is the dashboard's
TRAINING_SETTINGS = ("batch_size", "optimizer", "lr", "beta", "beta1", "beta2", "lr_schedule", "decay_rate",
                     "notes_rmsprop", "notes_decay")
NOTES_RMSPROP = "notes' RMSprop"  # the fifth path on the cost surface


def optimizer_label(name: str, lr: float, beta: float, beta1: float, beta2: float) -> str:
    """'Adam α=0.001 β₁=0.9 β₂=0.999': the name and only the settings that rule uses."""
    extra = {"gd": "", "momentum": f" β={beta:g}", "rmsprop": f" β={beta:g}",
             "adam": f" β₁={beta1:g} β₂={beta2:g}"}[name]
    return f"{OPTIMIZER_NAMES[name]} α={lr:.2g}{extra}"


def decay_label(lr_schedule: str, decay_rate: float) -> str:
    return "" if lr_schedule == "none" or decay_rate == 0 else f" · {lr_schedule.replace('_', ' ')} d={decay_rate:g}"


def mistake_hint(notes_rmsprop: bool, notes_decay: bool) -> str:
    """What to do when a run with the notes' formulas diverges: the cause, and the course's formula."""
    if notes_rmsprop:
        return ("the notes' RMSprop lets s turn negative, so √(s + ε) is NaN: "
                "the course keeps s = β·s + (1 − β)·dW², never negative")
    if notes_decay:
        return ("the notes' decay α₀/(1 − d·t) is infinite at t = 1/d and huge just before: "
                "the course divides by 1 + d·t")
    return DEFAULT_HINT


# ---------------------------------------------------------------- training on the digits


def digits_on_device(data: Split | None) -> tuple[torch.device, Split]:
    """The lab's device, and the digits (or `data`) moved there once, before the first run."""
    device = lab_device()
    return device, (data or load_digits()).to(device)


def in_epochs(run: Run, steps: list[int]) -> list[float]:
    """Step numbers as epochs: the cost plots' x axis."""
    return [s / run.model.steps_per_epoch for s in steps]


def digits_panel(controls: dict[str, W.ValueWidget], device: torch.device, data: Split, *, title: str,
                 hint: Callable[[dict], str] = lambda config: DEFAULT_HINT, fixed: dict | None = None,
                 **options) -> TrainingPanel:
    """A TrainingPanel that trains a fresh MLP (MiniBatchTraining) on `data` for `num_epochs` epochs per run.

    The run's settings are the controls' values and `fixed`; a divergence message ends with `hint(config)`.
    Costs of the runs are overlaid on one plot titled `title`, epochs on x. `options` go to TrainingPanel.
    """
    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        run.model = MiniBatchTraining(data, **{k: v for k, v in run.config.items() if k in TRAINING_SETTINGS})
        per_epoch = run.model.steps_per_epoch
        yield from train(run.model, run.config["num_epochs"] * per_epoch, cancel=cancel, eval_every=per_epoch,
                         hint=hint(run.config))

    return TrainingPanel(controls, work, device=device, costs=CostCurves(title, x_title="epoch"),
                         cost_x=in_epochs, fixed={**(fixed or {}), "data": DIGITS}, **options)


# ---------------------------------------------------------------- batch size


class EpochSeconds:
    """A horizontal bar per finished run: its compute seconds per epoch, runs in the cost plot's order."""

    def __init__(self):
        self.figure = make_figure("Compute time per epoch", "seconds per epoch", height=300, width=1000)
        self.figure.add_trace(go.Bar(x=[], y=[], orientation="h", marker={"color": PALETTE[0]},
                                     name="seconds per epoch"))
        self.figure.update_layout(margin={"l": 240})
        self.seconds: dict[str, float] = {}  # run label → seconds per epoch

    def add(self, label: str, seconds: float, shown: list[str]) -> None:
        """Record run `label`'s time and draw a bar for each run in `shown` (the runs still on the cost plot)."""
        self.seconds[label] = seconds
        shown = [lbl for lbl in shown if lbl in self.seconds]
        with self.figure.batch_update():
            self.figure.data[0].y, self.figure.data[0].x = shown, plottable([self.seconds[lbl] for lbl in shown])

    def clear(self) -> None:
        self.seconds.clear()
        self.figure.data[0].x, self.figure.data[0].y = [], []


def descent_kind(batch_size: int, m: int) -> str:
    return ("stochastic gradient descent" if batch_size == 1 else
            "batch gradient descent" if batch_size == m else "mini-batch gradient descent")


def batch_size_dashboard(data: Split | None = None) -> Dashboard:
    """Mini-batch gradient descent on the digits: batch size 1 (SGD) … m (batch GD) → cost noise and time.

    Each setting starts a new run, overlaid on the cost plot with epochs on the x axis; a bar chart
    compares the compute seconds per epoch of the runs.
    """
    device, data = digits_on_device(data)
    m = data.X_train.shape[1]
    controls = {
        "batch_size": control("batch_size", value=64, low=1, high=m),
        "lr": control("lr", value=0.1, low=1e-3, high=1.0),
        "num_epochs": control("num_epochs", value=5, low=1, high=30),
    }
    times, summary = EpochSeconds(), readout()

    def show_result(run: Run) -> None:
        history, task = run.history, run.model
        if history.cancelled:
            return
        times.add(run.label, task.seconds_per_epoch(), panel.costs.labels)
        result = (f"diverged: {html.escape(history.diverged)}" if history.diverged else
                  f"train cost {history.metrics['train_cost']:.3f}, test accuracy "
                  f"<b>{history.metrics['test_accuracy']:.1%}</b>")
        summary.value = (
            f"<b>{run.label}</b> ({descent_kind(task.batch_size, m)}): {task.steps_per_epoch} steps per epoch, "
            f"<b>{times.seconds[run.label] * 1000:.0f} ms</b> per epoch; cost noise (mean jump between steps ÷ "
            f"mean cost) <b>{cost_noise(history.costs):.3f}</b>; {result}.")

    panel = digits_panel(controls, device, data, title="Mini-batch cost J while training (runs overlaid)",
                         label=lambda c: f"batch {c['batch_size']} · α={c['lr']:.2g}", fixed={"optimizer": "gd"},
                         on_done=show_result, on_clear=times.clear)
    return panel.dashboard(summary, panel.costs.figure, times.figure, readout=summary,
                           figures={"costs": panel.costs.figure, "timing": times.figure})


# ---------------------------------------------------------------- optimizers


def optimizer_run_label(config: dict) -> str:
    """'Adam α=0.001 β₁=0.9 β₂=0.999 · inverse time d=0.5 · batch 128'."""
    return (optimizer_label(config["optimizer"], config["lr"], config["beta"], config["beta1"], config["beta2"])
            + decay_label(config["lr_schedule"], config["decay_rate"]) + f" · batch {config['batch_size']}")


def optimizer_dashboard(data: Split | None = None) -> Dashboard:
    """Optimizer, α, β, β₁, β₂, decay schedule and rate → cost curves on the digits, runs overlaid.

    A second plot shows the learning rate each run used in every epoch.
    """
    device, data = digits_on_device(data)
    controls = {
        "optimizer": control("optimizer", value="gd"),
        "lr": control("lr", value=0.1, low=1e-4, high=1.0),
        "beta": control("beta", label="β (momentum, RMSprop)", value=0.9),
        "beta1": control("beta1", value=0.9),
        "beta2": control("beta2", value=0.999, readout_format=".4g"),  # two decimals would show 0.999 as 1.00
        "lr_schedule": control("lr_schedule"),
        "decay_rate": control("decay_rate", value=0.0, high=1.0),
        "batch_size": control("batch_size", value=128, low=1, high=data.X_train.shape[1]),
        "num_epochs": control("num_epochs", value=10, low=1, high=50),
    }
    rates = CostCurves("Learning rate α in each epoch", x_title="epoch", y_title="α", log_y=True, height=280)
    summary = readout()

    def show_result(run: Run) -> None:
        history, task = run.history, run.model
        epochs = list(range(len(task.lrs)))
        if run.label in rates.labels:
            rates.update_run(run.label, epochs, task.lrs)
        else:  # the line arrives with its points (never empty on screen)
            rates.add_run(run.label, epochs, task.lrs)
        if history.diverged:
            summary.value = f"<b>{run.label}</b>: {html.escape(history.diverged)}"
        elif not history.cancelled:
            summary.value = (f"<b>{run.label}</b>: after {task.epoch} epochs the training cost is "
                             f"<b>{history.metrics['train_cost']:.3f}</b>, test accuracy "
                             f"<b>{history.metrics['test_accuracy']:.1%}</b>; last α {task.lrs[-1]:.3g}.")

    panel = digits_panel(controls, device, data, title="Mini-batch cost J: update rules compared (runs overlaid)",
                         label=optimizer_run_label, on_done=show_result, on_clear=rates.clear)
    return panel.dashboard(summary, panel.costs.figure, rates.figure, readout=summary, columns=2,
                           figures={"costs": panel.costs.figure, "rates": rates.figure})


# ---------------------------------------------------------------- loss surface


def surface_walks(config: dict) -> dict[str, SurfaceWalk]:
    """One walk per optimizer, named as on screen, from the surface's start; and the notes' RMSprop if ticked."""
    surface = get_surface(config["surface"])
    common = {name: config[name] for name in ("lr", "beta", "beta1", "beta2")}
    walks = {OPTIMIZER_NAMES[name]: SurfaceWalk(surface, name, **common) for name in OPTIMIZER_NAMES}
    if config["notes_rmsprop"]:
        walks[NOTES_RMSPROP] = SurfaceWalk(surface, "rmsprop", notes_rmsprop=True, **common)
    return walks


def describe_walks(run: Run) -> str:
    """The readout after a walk: each optimizer's distance to the minimum, RMSprop's per-weight rates."""
    parts = []
    for label, walk in run.model.items():
        diverged = run.histories[label].diverged
        if diverged:
            parts.append(f"{label}: <b>diverged</b> — {html.escape(diverged.rstrip('.'))}")
        else:
            parts.append(f"{label}: <b>{walk.evaluate()['distance_to_minimum']:.3g}</b> from the minimum")
    text = "After the walk — " + "; ".join(parts) + "."
    rates = run.model["RMSprop"].effective_lr() if "RMSprop" in run.model else None
    if rates is not None:
        text += (f"<br>RMSprop's own step sizes at the end: α/(√s + ε) = <b>{rates[0]:.3g}</b> for w₁ and "
                 f"<b>{rates[1]:.3g}</b> for w₂ — a different learning rate for each weight, learned "
                 f"from its gradients.")
    if NOTES_RMSPROP in run.histories and run.histories[NOTES_RMSPROP].diverged:
        text += ("<br>The notes' RMSprop subtracts (1 − β)dW² from s, so s turns negative at the first "
                 "step and √(s + ε) is NaN: the point vanishes from the plot.")
    return text


def draw_surface(view: SurfacePaths, name: str) -> None:
    surface = get_surface(name)
    w1, w2, z = surface.grid(81, log=True)
    view.show_surface(w1, w2, z.tolist(), surface.minimum, f"{surface.title} — contours of log₁₀ J")


def surface_run_label(config: dict) -> str:
    return f"{len(OPTIMIZER_NAMES) + config['notes_rmsprop']} optimizers on the {config['surface']}"


def loss_surface_dashboard(pace: float = SURFACE_PACE) -> Dashboard:
    """Gradient descent, momentum, RMSprop and Adam stepping live over a two-weight cost surface.

    `pace` is the pause between steps in seconds (0 in tests). The readout gives each optimizer's
    distance to the minimum and the per-weight learning rates RMSprop and Adam ended up using.
    """
    controls = {
        "surface": control("surface"),
        "lr": control("lr", label="Learning rate α (all optimizers)", value=get_surface("bowl").lr, low=1e-3,
                      high=1.0),
        "beta": control("beta", label="β (momentum, RMSprop)", value=0.9),
        "beta1": control("beta1", value=0.9),
        "beta2": control("beta2", value=0.999, readout_format=".4g"),
        "num_iterations": control("num_iterations", label="Steps", value=80, low=10, high=300, step=10),
        "notes_rmsprop": checkbox("Add the notes' RMSprop (s := βs − (1 − β)dW²)",
                                  "Adds a fifth path that uses the notes' minus sign; watch it vanish."),
    }
    view, summary = SurfacePaths(), readout()

    def new_walk(run: Run) -> None:  # the walks are built here so the view shows every start point at once
        run.model = surface_walks(run.config)
        view.start_paths({label: walk.path[:1] for label, walk in run.model.items()})
        summary.value = ""

    def work(run: Run, cancel: threading.Event) -> Iterator[tuple[str, Event]]:
        steps = run.config["num_iterations"]  # one step of every optimizer in turn: the paths grow side by side
        yield from side_by_side({label: train(walk, steps, cancel=cancel) for label, walk in run.model.items()},
                                pace=pace, cancel=cancel)

    def show_paths(run: Run, items) -> None:
        steps = {label: run.histories[label].steps for label in dict(items)}
        view.update_paths({label: run.model[label].path[:(s[-1] if s else 0) + 1] for label, s in steps.items()},
                          {label: "diverged" for label, h in run.histories.items() if h.diverged})

    def show_result(run: Run) -> None:
        if run.finished:
            summary.value = describe_walks(run)

    panel = TrainingPanel(controls, work, label=surface_run_label, device=lab_device(), on_start=new_walk,
                          on_update=show_paths, on_done=show_result, start_on=[n for n in controls if n != "surface"],
                          train_text="Run", train_tooltip="Walk down the surface again with the current settings",
                          stop_tooltip="Stop the walk now", step_name="step")

    def change_surface(change) -> None:
        draw_surface(view, change["new"])
        before = controls["lr"].value
        controls["lr"].value = get_surface(change["new"]).lr  # a new α starts the walk through lr's observer
        if controls["lr"].value == before:
            panel.start()

    controls["surface"].observe(panel.guard(change_surface), names="value")
    draw_surface(view, controls["surface"].value)
    return panel.dashboard(summary, view.figure, readout=summary, columns=2, figures={"paths": view.figure})


# ---------------------------------------------------------------- the notes' mistakes


class DecaySchedules:
    """α₀/(1 + d·t), the course's decay, beside the notes' α₀/(1 − d·t), with the notes' pole t = 1/d marked,
    and a line of text saying where the notes' rate blows up."""

    def __init__(self):
        self.figure = make_figure("Learning rate α in epoch t", "epoch t", "α", height=300, width=1000)
        self.figure.add_trace(go.Scatter(x=[], y=[], name="α₀ / (1 + d·t), correct", mode="lines+markers",
                                         line={"color": PALETTE[0], "width": 2.5}))
        self.figure.add_trace(go.Scatter(x=[], y=[], name="α₀ / (1 − d·t), the notes", mode="lines+markers",
                                         line={"color": PALETTE[5], "width": 2.5, "dash": "dash"}))
        self.figure.add_trace(go.Scatter(x=[], y=[], name="t = 1/d: the notes' α is infinite", mode="lines",
                                         line={"color": PALETTE[5], "width": 1.5, "dash": "dot"}))
        self.text = readout()

    def show(self, lr0: float, d: float, epochs: int) -> None:
        ts = list(range(epochs))
        good, notes = schedule("inverse_time", lr0, d), notes_schedule(lr0, d)
        pole_shown = d > 0 and 1 / d <= epochs - 1
        with self.figure.batch_update():
            self.figure.data[0].x = self.figure.data[1].x = ts
            self.figure.data[0].y = [good(t) for t in ts]
            self.figure.data[1].y = plottable([notes(t) for t in ts])
            self.figure.layout.yaxis.range = [-6 * lr0, 12 * lr0]
            self.figure.data[2].x = [1 / d, 1 / d] if pole_shown else []
            self.figure.data[2].y = [-6 * lr0, 12 * lr0] if pole_shown else []
        if d == 0:
            self.text.value = "With d = 0 both formulas keep α = α₀: move the decay rate."
            return
        where = (f"at epoch t = 1/d = <b>{1 / d:.3g}</b> it is infinite, and after it negative (the steps climb "
                 f"uphill)" if pole_shown else f"it reaches infinity at t = 1/d = {1 / d:.3g}, past the last "
                 "epoch shown")
        self.text.value = (f"After {epochs - 1} epochs the correct rate has shrunk to <b>{good(epochs - 1):.3g}</b>. "
                           f"The notes' rate grows instead: {where}.")


def mistakes_label(config: dict) -> str:
    """'RMSprop (course) · decay α₀/(1 + 0.1·t) · α₀=0.002'."""
    return (f"RMSprop ({'notes' if config['notes_rmsprop'] else 'course'}) · "
            f"decay α₀/(1 {'−' if config['notes_decay'] else '+'} {config['decay_rate']:g}·t) · α₀={config['lr']:.2g}")


def notes_mistakes_dashboard(data: Split | None = None) -> Dashboard:
    """The notes' RMSprop sign (ERRATA 8) and decay sign (ERRATA 9), trained on the digits until they fail.

    The schedule plot redraws instantly with α₀ and d; ticking a box trains the MLP with the notes'
    formula so its cost curve (and the divergence message) appear next to the course's run.
    """
    device, data = digits_on_device(data)
    controls = {
        "lr": control("lr", label="Initial learning rate α₀ (RMSprop)", value=0.002, low=1e-4, high=0.1),
        "decay_rate": control("decay_rate", value=0.1, high=1.0),
        "num_epochs": control("num_epochs", value=15, low=1, high=40),
        "notes_rmsprop": checkbox("RMSprop with the notes' minus sign: s := βs − (1 − β)dW²",
                                  "Unticked: the correct s := βs + (1 − β)dW²."),
        "notes_decay": checkbox("Decay with the notes' α = α₀ / (1 − d·t)",
                                "Unticked: the correct α = α₀ / (1 + d·t)."),
    }
    schedules, summary = DecaySchedules(), readout()
    shape = [controls[name] for name in ("lr", "decay_rate", "num_epochs")]
    redraw_on(shape, lambda *_: schedules.show(*(widget.value for widget in shape)), schedules.text)

    def show_result(run: Run) -> None:
        history = run.history
        if history.diverged:
            summary.value = f"<b>{run.label}</b> diverged — {html.escape(history.diverged, quote=False)}"
        elif not history.cancelled:
            summary.value = (f"<b>{run.label}</b>: training cost <b>{history.metrics['train_cost']:.3f}</b>, "
                             f"test accuracy <b>{history.metrics['test_accuracy']:.1%}</b> after "
                             f"{run.model.epoch} epochs; last α {run.model.lrs[-1]:.3g}.")

    panel = digits_panel(controls, device, data, title="Mini-batch cost J: the course's formulas vs the notes'",
                         label=mistakes_label, hint=lambda c: mistake_hint(c["notes_rmsprop"], c["notes_decay"]),
                         fixed={"batch_size": 128, "optimizer": "rmsprop", "lr_schedule": "inverse_time"},
                         on_done=show_result,
                         train_tooltip="Train RMSprop with inverse-time decay and the chosen formulas")
    return panel.dashboard(summary, panel.costs.figure, header=(schedules.text, schedules.figure), readout=summary,
                           columns=2, figures={"schedules": schedules.figure, "costs": panel.costs.figure})
