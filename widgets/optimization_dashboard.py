"""Lab 07: mini-batch size, update rules, learning-rate decay — and two formulas the notes get wrong.

Four dashboards, each returned (not displayed) by its function:
- `batch_size_dashboard`: batch size → noisy or smooth cost, steps and seconds per epoch;
- `optimizer_dashboard`: optimizer, α, β, β₁, β₂, decay → cost curves of several runs overlaid;
- `loss_surface_dashboard`: paths of all four optimizers stepping live over a contour plot;
- `notes_mistakes_dashboard`: the notes' RMSprop and decay formulas, trained until they blow up.
"""

from __future__ import annotations

import html
import itertools
import time
from collections.abc import Callable

import ipywidgets as W
import plotly.graph_objects as go

from lab.data import Split
from lab.device import describe_device
from lab.history import RunHistory
from lab.loss_surface import SurfaceWalk, get_surface
from lab.lr_decay import notes_schedule, schedule
from lab.optimization import MiniBatchTraining, cost_noise, load_digits
from lab.optimizers import OPTIMIZER_NAMES
from lab.training import DEFAULT_HINT, DivergedEvent, DoneEvent, StepEvent, train
from widgets.controls import LABEL_STYLE, button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.guard import guarded
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, make_figure, plottable
from widgets.views.loss_surface import SurfacePaths

SURFACE_PACE = 0.03  # seconds between two steps on the cost surface, so the paths visibly grow


def checkbox(label: str, tooltip: str, value: bool = False) -> W.Checkbox:
    """A labelled checkbox in the lab's style."""
    return W.Checkbox(value=value, description=label, tooltip=tooltip, style=LABEL_STYLE, indent=False,
                      layout={"width": "420px"})


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


class _DigitsRuns:
    """What the three digit-training dashboards share: runs on one cost plot, x in epochs, a runner."""

    def __init__(self, title: str, data: Split | None, max_runs: int = 6):
        self.device = lab_device()
        self.data = (data or load_digits()).to(self.device)
        self.costs = CostCurves(title, x_title="epoch", max_runs=max_runs)
        self.status, self.summary = StatusLine(), readout()
        self.histories: dict[str, RunHistory] = {}
        self.tasks: dict[str, MiniBatchTraining] = {}
        self.on_finish: Callable[[str, RunHistory, MiniBatchTraining], None] | None = None
        self.runner = Runner(self.status, self._on_batch, device_text=describe_device(self.device))

    def _on_batch(self, items) -> None:
        for label, event in items:
            if not self.histories[label].steps and isinstance(event, StepEvent):
                self.costs.add_run(label)  # only now: a run cancelled before its first step leaves no trace
            self.histories[label].record(event)
        for label in dict(items):
            history, task = self.histories[label], self.tasks[label]
            epochs = [s / task.steps_per_epoch for s in history.steps]
            self.costs.update_run(label, epochs, history.costs, note="diverged" if history.diverged else "")
            if history.finished and self.on_finish is not None:
                self.on_finish(label, history, task)

    def start(self, label: str, settings: dict, num_epochs: int, hint: str = DEFAULT_HINT) -> None:
        """Train a fresh MLP with `settings` (MiniBatchTraining's keywords) for `num_epochs` epochs; a
        divergence message ends with `hint`."""
        task = MiniBatchTraining(self.data, **settings)
        steps = num_epochs * task.steps_per_epoch

        def setup() -> None:
            self.tasks[label] = task
            self.histories[label] = RunHistory(label, {**settings, "num_epochs": num_epochs,
                                                       "data": "scikit-learn digits, 75/25 split"})

        def work(cancel):
            for event in train(task, steps, cancel=cancel, eval_every=task.steps_per_epoch, hint=hint):
                yield label, event
        self.runner.start(work, label, setup)

    def guard(self, callback):
        return guarded(callback, lambda text: self.status.show(text, "error"))


def batch_size_dashboard(data: Split | None = None) -> Dashboard:
    """Mini-batch gradient descent on the digits: batch size 1 (SGD) … m (batch GD) → cost noise and time.

    Each setting starts a new run, overlaid on the cost plot with epochs on the x axis; a bar chart
    compares the compute seconds per epoch of the runs.
    """
    runs = _DigitsRuns("Mini-batch cost J while training (runs overlaid)", data)
    m = runs.data.X_train.shape[1]
    controls = {
        "batch_size": control("batch_size", value=64, low=1, high=m),
        "lr": control("lr", value=0.1, low=1e-3, high=1.0),
        "num_epochs": control("num_epochs", value=5, low=1, high=30),
    }
    train_button = button("Train", "Train again with the current settings", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")
    clear_button = button("Clear runs", "Remove every run from both plots")
    timing = make_figure("Compute time per epoch", "seconds per epoch", height=300, width=1000)
    timing.add_trace(go.Bar(x=[], y=[], orientation="h", marker={"color": PALETTE[0]}, name="seconds per epoch"))
    timing.update_layout(margin={"l": 240})
    seconds: dict[str, float] = {}

    def finished(label: str, history: RunHistory, task: MiniBatchTraining) -> None:
        if history.cancelled:
            return
        seconds[label] = task.seconds_per_epoch()
        shown = [lbl for lbl in runs.costs.labels if lbl in seconds]
        with timing.batch_update():
            timing.data[0].y, timing.data[0].x = shown, plottable([seconds[lbl] for lbl in shown])
        kind = ("stochastic gradient descent" if task.batch_size == 1 else
                "batch gradient descent" if task.batch_size == m else "mini-batch gradient descent")
        result = (f"diverged: {html.escape(history.diverged)}" if history.diverged else
                  f"train cost {history.metrics['train_cost']:.3f}, test accuracy "
                  f"<b>{history.metrics['test_accuracy']:.1%}</b>")
        runs.summary.value = (
            f"<b>{label}</b> ({kind}): {task.steps_per_epoch} steps per epoch, "
            f"<b>{seconds[label] * 1000:.0f} ms</b> per epoch; cost noise (mean jump between steps ÷ mean "
            f"cost) <b>{cost_noise(history.costs):.3f}</b>; {result}.")

    runs.on_finish = finished

    def start(*_) -> None:
        b, lr, epochs = (controls[k].value for k in ("batch_size", "lr", "num_epochs"))
        runs.start(f"batch {b} · α={lr:.2g}", {"batch_size": b, "optimizer": "gd", "lr": lr}, epochs)

    def clear(*_) -> None:
        runs.costs.clear()
        seconds.clear()
        timing.data[0].x, timing.data[0].y = [], []

    wire_training(runs.runner, start, train_button, stop_button, controls.values())
    clear_button.on_click(runs.guard(clear))
    return Dashboard(
        [device_badge(runs.device),
         W.HBox([W.VBox(list(controls.values())), W.VBox([train_button, stop_button, clear_button])]),
         runs.status.widget, runs.summary, runs.costs.figure, timing],
        controls={**controls, "train": train_button, "stop": stop_button, "clear": clear_button},
        figures={"costs": runs.costs.figure, "timing": timing},
        status=runs.status, runner=runs.runner, readout=runs.summary)


def optimizer_dashboard(data: Split | None = None) -> Dashboard:
    """Optimizer, α, β, β₁, β₂, decay schedule and rate → cost curves on the digits, runs overlaid.

    A second plot shows the learning rate each run used in every epoch.
    """
    runs = _DigitsRuns("Mini-batch cost J: update rules compared (runs overlaid)", data)
    controls = {
        "optimizer": control("optimizer", value="gd"),
        "lr": control("lr", value=0.1, low=1e-4, high=1.0),
        "beta": control("beta", value=0.9),
        "beta1": control("beta1", value=0.9),
        "beta2": control("beta2", value=0.999),
        "lr_schedule": control("lr_schedule"),
        "decay_rate": control("decay_rate", value=0.0, high=1.0),
        "batch_size": control("batch_size", value=128, low=1, high=runs.data.X_train.shape[1]),
        "num_epochs": control("num_epochs", value=10, low=1, high=50),
    }
    controls["beta"].description = "β (momentum, RMSprop)"
    controls["beta2"].readout_format = ".4g"  # the default two decimals would show 0.999 as 1.00
    train_button = button("Train", "Train again with the current settings", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")
    clear_button = button("Clear runs", "Remove every run from both plots")
    rates = CostCurves("Learning rate α in each epoch", x_title="epoch", log_y=True, height=280)
    rates.figure.layout.yaxis.title.text = "α"

    def finished(label: str, history: RunHistory, task: MiniBatchTraining) -> None:
        if label not in rates.labels:
            rates.add_run(label)
        rates.update_run(label, list(range(len(task.lrs))), task.lrs)
        if history.diverged:
            runs.summary.value = f"<b>{label}</b>: {html.escape(history.diverged)}"
        elif not history.cancelled:
            runs.summary.value = (f"<b>{label}</b>: after {task.epoch} epochs the training cost is "
                                  f"<b>{history.metrics['train_cost']:.3f}</b>, test accuracy "
                                  f"<b>{history.metrics['test_accuracy']:.1%}</b>; last α {task.lrs[-1]:.3g}.")

    runs.on_finish = finished

    def start(*_) -> None:
        v = {name: widget.value for name, widget in controls.items()}
        label = (optimizer_label(v["optimizer"], v["lr"], v["beta"], v["beta1"], v["beta2"])
                 + decay_label(v["lr_schedule"], v["decay_rate"]) + f" · batch {v['batch_size']}")
        settings = {k: v[k] for k in ("optimizer", "lr", "beta", "beta1", "beta2", "lr_schedule", "decay_rate",
                                      "batch_size")}
        runs.start(label, settings, v["num_epochs"])

    def clear(*_) -> None:
        runs.costs.clear()
        rates.clear()

    wire_training(runs.runner, start, train_button, stop_button, controls.values())
    clear_button.on_click(runs.guard(clear))
    names = list(controls)
    return Dashboard(
        [device_badge(runs.device),
         W.HBox([W.VBox([controls[n] for n in names[:5]]), W.VBox([controls[n] for n in names[5:]])]),
         W.HBox([train_button, stop_button, clear_button]),
         runs.status.widget, runs.summary, runs.costs.figure, rates.figure],
        controls={**controls, "train": train_button, "stop": stop_button, "clear": clear_button},
        figures={"costs": runs.costs.figure, "rates": rates.figure},
        status=runs.status, runner=runs.runner, readout=runs.summary)


def loss_surface_dashboard(pace: float = SURFACE_PACE) -> Dashboard:
    """Gradient descent, momentum, RMSprop and Adam stepping live over a two-weight cost surface.

    `pace` is the pause between steps in seconds (0 in tests). The readout gives each optimizer's
    distance to the minimum and the per-weight learning rates RMSprop and Adam ended up using.
    """
    device = lab_device()
    controls = {
        "surface": control("surface"),
        "lr": control("lr", value=get_surface("bowl").lr, low=1e-3, high=1.0),
        "beta": control("beta", value=0.9),
        "beta1": control("beta1", value=0.9),
        "beta2": control("beta2", value=0.999),
        "num_iterations": control("num_iterations", value=80, low=10, high=300, step=10),
        "notes_rmsprop": checkbox("Add the notes' RMSprop (s := βs − (1 − β)dW²)",
                                  "Adds a fifth path that uses the notes' minus sign; watch it vanish."),
    }
    controls["lr"].description = "Learning rate α (all optimizers)"
    controls["beta"].description = "β (momentum, RMSprop)"
    controls["num_iterations"].description = "Steps"
    controls["beta2"].readout_format = ".4g"
    run_button = button("Run", "Walk down the surface again with the current settings", "primary")
    stop_button = button("Stop", "Stop the walk now", "warning")
    view = SurfacePaths()
    status, summary = StatusLine("Move a control or press Run to start."), readout()
    walks: dict[str, SurfaceWalk] = {}
    last_step: dict[str, int] = {}
    diverged: dict[str, str] = {}
    done: set[str] = set()

    def draw_surface() -> None:
        surface = get_surface(controls["surface"].value)
        w1, w2, z = surface.grid(81, log=True)
        view.show_surface(w1, w2, z.tolist(), surface.minimum, f"{surface.title} — contours of log₁₀ J")

    def on_batch(items) -> None:
        for label, event in items:
            if isinstance(event, StepEvent):
                last_step[label] = event.step
            elif isinstance(event, DivergedEvent):
                diverged[label] = event.message
            elif isinstance(event, DoneEvent):
                done.add(label)
        view.update_paths({label: walks[label].path[:last_step.get(label, 0) + 1] for label in dict(items)},
                          {label: "diverged" for label in diverged})
        if done == set(walks):
            describe()

    def describe() -> None:
        parts = []
        for label, walk in walks.items():
            if label in diverged:
                parts.append(f"{label}: <b>diverged</b> — {html.escape(diverged[label].rstrip('.'))}")
            else:
                parts.append(f"{label}: <b>{walk.evaluate()['distance_to_minimum']:.3g}</b> from the minimum")
        text = "After the walk — " + "; ".join(parts) + "."
        rates = walks["RMSprop"].effective_lr() if "RMSprop" in walks else None
        if rates is not None:
            text += (f"<br>RMSprop's own step sizes at the end: α/(√s + ε) = <b>{rates[0]:.3g}</b> for w₁ and "
                     f"<b>{rates[1]:.3g}</b> for w₂ — a different learning rate for each weight, learned "
                     f"from its gradients.")
        if "notes' RMSprop" in diverged:
            text += ("<br>The notes' RMSprop subtracts (1 − β)dW² from s, so s turns negative at the first "
                     "step and √(s + ε) is NaN: the point vanishes from the plot.")
        summary.value = text

    runner = Runner(status, on_batch, device_text=describe_device(device))

    def start(*_) -> None:
        v = {name: widget.value for name, widget in controls.items()}
        surface = get_surface(v["surface"])
        common = {"lr": v["lr"], "beta": v["beta"], "beta1": v["beta1"], "beta2": v["beta2"]}
        new = {OPTIMIZER_NAMES[name]: SurfaceWalk(surface, name, **common) for name in OPTIMIZER_NAMES}
        if v["notes_rmsprop"]:
            new["notes' RMSprop"] = SurfaceWalk(surface, "rmsprop", notes_rmsprop=True, **common)
        steps = v["num_iterations"]

        def setup() -> None:
            walks.clear()
            walks.update(new)
            last_step.clear()
            diverged.clear()
            done.clear()
            view.set_paths(list(new))
            view.update_paths({label: walk.path[:1] for label, walk in new.items()})
            summary.value = ""

        def labelled(label, walk, cancel):
            for event in train(walk, steps, cancel=cancel):
                yield label, event

        def work(cancel):
            streams = [labelled(label, walk, cancel) for label, walk in new.items()]
            # one step of every optimizer in turn, so the paths grow side by side
            for group in itertools.zip_longest(*streams):
                yield from (item for item in group if item is not None)
                if pace and not cancel.is_set():
                    time.sleep(pace)
        runner.start(work, f"{len(new)} optimizers on the {surface.name}", setup)

    def surface_changed(change) -> None:
        draw_surface()
        before = controls["lr"].value
        controls["lr"].value = get_surface(change["new"]).lr  # a new α starts the walk through lr's observer
        if controls["lr"].value == before:
            start()

    start = wire_training(runner, start, run_button, stop_button, [w for n, w in controls.items() if n != "surface"])
    surface_changed = guarded(surface_changed, lambda text: status.show(text, "error"))
    controls["surface"].observe(surface_changed, names="value")
    draw_surface()
    names = list(controls)
    return Dashboard(
        [device_badge(device),
         W.HBox([W.VBox([controls[n] for n in names[:4]]), W.VBox([controls[n] for n in names[4:]]
                                                                   + [W.HBox([run_button, stop_button])])]),
         status.widget, summary, view.figure],
        controls={**controls, "run": run_button, "stop": stop_button}, figures={"paths": view.figure},
        status=status, runner=runner, readout=summary)


def notes_mistakes_dashboard(data: Split | None = None) -> Dashboard:
    """The notes' RMSprop sign (ERRATA 8) and decay sign (ERRATA 9), trained on the digits until they fail.

    The schedule plot redraws instantly with α₀ and d; ticking a box trains the MLP with the notes'
    formula so its cost curve (and the divergence message) appear next to the course's run.
    """
    runs = _DigitsRuns("Mini-batch cost J: the course's formulas vs the notes'", data)
    controls = {
        "lr": control("lr", value=0.002, low=1e-4, high=0.1),
        "decay_rate": control("decay_rate", value=0.1, high=1.0),
        "num_epochs": control("num_epochs", value=15, low=1, high=40),
        "notes_rmsprop": checkbox("RMSprop with the notes' minus sign: s := βs − (1 − β)dW²",
                                  "Unticked: the correct s := βs + (1 − β)dW²."),
        "notes_decay": checkbox("Decay with the notes' α = α₀ / (1 − d·t)",
                                "Unticked: the correct α = α₀ / (1 + d·t)."),
    }
    controls["lr"].description = "Initial learning rate α₀ (RMSprop)"
    train_button = button("Train", "Train RMSprop with inverse-time decay and the chosen formulas", "primary")
    stop_button = button("Stop", "Stop the running training now", "warning")
    schedule_plot = make_figure("Learning rate α in epoch t", "epoch t", "α", height=300, width=1000)
    schedule_plot.add_trace(go.Scatter(x=[], y=[], name="α₀ / (1 + d·t), correct", mode="lines+markers",
                                       line={"color": PALETTE[0], "width": 2.5}))
    schedule_plot.add_trace(go.Scatter(x=[], y=[], name="α₀ / (1 − d·t), the notes", mode="lines+markers",
                                       line={"color": PALETTE[5], "width": 2.5, "dash": "dash"}))
    schedule_plot.add_trace(go.Scatter(x=[], y=[], name="t = 1/d: the notes' α is infinite", mode="lines",
                                       line={"color": PALETTE[5], "width": 1.5, "dash": "dot"}))
    schedule_text = readout()

    def show_schedules(*_) -> None:
        lr0, d, epochs = (controls[k].value for k in ("lr", "decay_rate", "num_epochs"))
        ts = list(range(epochs))
        good, notes = schedule("inverse_time", lr0, d), notes_schedule(lr0, d)
        with schedule_plot.batch_update():
            schedule_plot.data[0].x = schedule_plot.data[1].x = ts
            schedule_plot.data[0].y = [good(t) for t in ts]
            schedule_plot.data[1].y = plottable([notes(t) for t in ts])
            schedule_plot.layout.yaxis.range = [-6 * lr0, 12 * lr0]
            pole_shown = d > 0 and 1 / d <= epochs - 1
            schedule_plot.data[2].x = [1 / d, 1 / d] if pole_shown else []
            schedule_plot.data[2].y = [-6 * lr0, 12 * lr0] if pole_shown else []
        if d == 0:
            schedule_text.value = "With d = 0 both formulas keep α = α₀: move the decay rate."
        else:
            pole = 1 / d
            where = (f"at epoch t = 1/d = <b>{pole:.3g}</b> it is infinite, and after it negative (the steps climb "
                     f"uphill)" if pole <= epochs - 1 else f"it reaches infinity at t = 1/d = {pole:.3g}, past "
                     "the last epoch shown")
            schedule_text.value = (f"After {epochs - 1} epochs the correct rate has shrunk to "
                                   f"<b>{good(epochs - 1):.3g}</b>. The notes' rate grows instead: {where}.")

    def finished(label: str, history: RunHistory, task: MiniBatchTraining) -> None:
        if history.diverged:
            runs.summary.value = f"<b>{label}</b> diverged — {html.escape(history.diverged, quote=False)}"
        elif not history.cancelled:
            runs.summary.value = (f"<b>{label}</b>: training cost <b>{history.metrics['train_cost']:.3f}</b>, "
                                  f"test accuracy <b>{history.metrics['test_accuracy']:.1%}</b> after "
                                  f"{task.epoch} epochs; last α {task.lrs[-1]:.3g}.")

    runs.on_finish = finished

    def start(*_) -> None:
        v = {name: widget.value for name, widget in controls.items()}
        label = (f"RMSprop ({'notes' if v['notes_rmsprop'] else 'course'}) · "
                 f"decay α₀/(1 {'−' if v['notes_decay'] else '+'} {v['decay_rate']:g}·t) · α₀={v['lr']:.2g}")
        settings = {"batch_size": 128, "optimizer": "rmsprop", "lr": v["lr"], "lr_schedule": "inverse_time",
                    "decay_rate": v["decay_rate"], "notes_rmsprop": v["notes_rmsprop"],
                    "notes_decay": v["notes_decay"]}
        runs.start(label, settings, v["num_epochs"], hint=mistake_hint(v["notes_rmsprop"], v["notes_decay"]))

    show_schedules = guarded(show_schedules, lambda text: runs.status.show(text, "error"))
    for name in ("lr", "decay_rate", "num_epochs"):
        controls[name].observe(show_schedules, names="value")
    wire_training(runs.runner, start, train_button, stop_button, controls.values())
    show_schedules()
    return Dashboard(
        [device_badge(runs.device),
         W.HBox([W.VBox([controls[n] for n in ("lr", "decay_rate", "num_epochs")]),
                 W.VBox([controls["notes_rmsprop"], controls["notes_decay"], W.HBox([train_button, stop_button])])]),
         schedule_text, schedule_plot, runs.status.widget, runs.summary, runs.costs.figure],
        controls={**controls, "train": train_button, "stop": stop_button},
        figures={"schedules": schedule_plot, "costs": runs.costs.figure},
        status=runs.status, runner=runs.runner, readout=runs.summary)

