"""Lab 06, input normalization: what x := (x − μ)/σ does to gradient descent, what the notes' x / mean leaves
undone, and why a dev set is normalized with the training set's μ and σ.

Three dashboards, each returned (not displayed) by its function:
- `feature_scale_dashboard`: feature scale ratio and step size → gradient descent walking live over the contours
  of the raw and the normalized cost, and the iterations each needs to reach the same cost;
- `recipes_dashboard`: a real table (wine, breast cancer) → each feature's spread after the notes' recipe and
  the course's, and the curvature ratio κ each leaves;
- `dev_statistics_dashboard`: how far the dev set has shifted → the dev set normalized with the training μ, σ
  and with its own, and the accuracy each reports.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.data.tables import load_table
from lab.normalization import RECIPES, ScaleComparison, ShiftExperiment, recipe_report, steps_to_reach
from lab.training import Event, side_by_side, train
from widgets.controls import control
from widgets.dashboard import Dashboard, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.decision_boundary import DecisionBoundary
from widgets.views.figure import PALETTE, label_log_axis, make_figure
from widgets.views.loss_surface import SurfacePaths

PACE = 0.03  # seconds between two steps of a 200-step run, so the paths visibly grow
PACED_STEPS = 200  # longer runs step faster, so every run takes about the same few seconds
LEVELS = 24  # contour lines between the minimum and the highest point either plot shows
RULE = ("<b>Why not one α for both?</b> Gradient descent stays stable only while α < 2/L, L the steepest "
        "curvature of the cost. The raw cost is far steeper along w₂, so one shared α would have to be tiny for "
        "it and would then hold the normalized run back for no reason; an α that suits the normalized cost "
        "makes the raw one blow up. So both get the same rule, <b>α = f / L</b> with their own L: the largest "
        "safe rate for each, scaled by the same f.")


def number(x: float) -> str:
    """A positive number to two significant digits, readably: '1.1', '46', '17,000', '4.6·10⁸'."""
    if x < 10:
        return f"{x:.2g}"
    if x < 1e5:
        return f"{float(f'{x:.2g}'):,.0f}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}·10{str(int(exponent)).translate(str.maketrans('0123456789-', '⁰¹²³⁴⁵⁶⁷⁸⁹⁻'))}"


def about(steps: float) -> str:
    """A step count estimated to within a factor of about two, in words: 'about 440', 'about 9 million'."""
    if not math.isfinite(steps):
        return "more iterations than any run could take"
    if steps >= 1e6:
        return f"about {steps / 1e6:.2g} million"
    return f"about {float(f'{steps:.2g}'):,.0f}"


class ContourPair:
    """The raw cost (left) and the normalized cost (right) as contour plots with gradient descent's path on each,
    drawn on the same square window and the same contour levels, so shapes can be compared by eye."""

    def __init__(self):
        self.views = {label: SurfacePaths(label, height=560, width=540) for label in ScaleComparison.LABELS}
        for colour, view in zip(PALETTE, self.views.values(), strict=False):
            view.set_paths(["gradient descent from w = 0"])
            view.figure.data[2].line.color = view.figure.data[2].marker.color = colour  # as on the cost plot
            view.figure.update_layout(margin={"l": 55, "r": 10, "t": 50, "b": 90})
            view.figure.update_xaxes(constrain="domain")
            view.figure.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")  # one unit looks the same
        self.scale: float | None = None  # the feature scale ratio whose contours are shown

    def show(self, comparison: ScaleComparison, steps: dict[str, int] | None = None) -> None:
        """The comparison's paths up to `steps[label]` (default: the start points), its contours too when the
        feature scale changed. Each plot gets one message: the browser redraws its contours once, not per part."""
        grids = None
        if comparison.feature_scale != self.scale:
            self.scale, grids = comparison.feature_scale, comparison.contours()
            top = max(z.max().item() for _, _, z in grids.values())
        for label, view in self.views.items():
            with view.figure.batch_update():
                if grids is not None:
                    (w1, w2, z), bowl = grids[label], comparison.bowls[label]
                    view.show_surface(w1, w2, z.tolist(), tuple(bowl.w_best.flatten().tolist()),
                                      f"{label.capitalize()}: κ = {number(bowl.kappa)}")
                    view.figure.data[0].update(autocontour=False, contours={
                        "start": -3.0, "end": top, "size": (top + 3.0) / LEVELS, "coloring": "none"})
                count = (steps or {}).get(label, 0)
                view.update_paths({"gradient descent from w = 0": comparison.walks[label].path[:count + 1]})


def scale_label(config: dict) -> str:
    return f"scale ratio {config['feature_scale']:.3g} · f = {config['step_fraction']:.2g}"


def describe_start(comparison: ScaleComparison) -> str:
    raw, normalized = (comparison.alphas[label] for label in ScaleComparison.LABELS)
    return (f"Raw features: α = <b>{raw:.2g}</b>; normalized features: α = <b>{normalized:.2g}</b>. "
            f"Target: J ≤ <b>{comparison.target:.3f}</b> ({comparison.bowls['raw features'].best_cost:.3f}, "
            f"the lowest cost either can reach, + 0.01).")


def describe_finish(run: Run) -> str:
    """For each walk: after how many iterations it reached the target, or an estimate of how many it needs."""
    comparison, parts = run.model, []
    for label in ScaleComparison.LABELS:
        history = run.histories.get(label)
        if history is None or not history.costs:
            continue
        walk, done = comparison.walks[label], len(history.costs)
        reached = steps_to_reach([*history.costs, walk.cost()], comparison.target)
        if reached is not None:
            parts.append(f"{label.capitalize()}: reached J ≤ {comparison.target:.3f} after <b>{reached}</b> "
                         f"{iterations(reached)}.")
        else:
            parts.append(f"{label.capitalize()}: <b>not reached</b> in {done} {iterations(done)} "
                         f"(J = {walk.cost():.3f}{', stopped' * history.cancelled}); at this pace it needs "
                         f"<b>{about(walk.estimated_steps(comparison.target))}</b>.")
    return " ".join(parts)


def iterations(count: int) -> str:
    return "iteration" if count == 1 else "iterations"


def feature_scale_dashboard(pace: float = PACE) -> Dashboard:
    """Feature scale ratio, step size f and iterations → gradient descent from w = 0 on the raw and the
    normalized cost, side by side: paths growing over the contours, cost curves, iterations to the target.

    `pace` is the pause between two steps of a 200-step run in seconds (0 in tests).
    """
    controls = {
        "feature_scale": control("feature_scale", value=100.0, low=1.0, high=1000.0),
        "step_fraction": control("step_fraction"),
        "num_iterations": control("num_iterations", label="Iterations (each run)", value=200, low=10, high=2000,
                                  step=10),
    }
    pair, summary = ContourPair(), readout()
    costs = CostCurves("Cost J while training", max_runs=2, height=320)

    def new_run(run: Run) -> None:  # the plots wait for the first push: the first cost point goes out before them
        run.model = ScaleComparison(run.config["feature_scale"], run.config["step_fraction"])
        summary.value = describe_start(run.model)  # the run's α's are on the page before its cost plot changes
        costs.clear()
        costs.figure.layout.title.text = f"Cost J while training (target J ≤ {run.model.target:.3f})"

    def work(run: Run, cancel: threading.Event) -> Iterator[tuple[str, Event]]:
        steps = run.config["num_iterations"]
        walks = {label: train(walk, steps, cancel=cancel) for label, walk in run.model.walks.items()}
        yield from side_by_side(walks, pace=pace * min(1.0, PACED_STEPS / steps), cancel=cancel)

    def steps_done(run: Run) -> dict[str, int]:
        return {label: len(history.steps) for label, history in run.histories.items()}

    def show_paths(run: Run, _items) -> None:
        # A new scale's contours (~40 ms to compute and ~45 ms to send here, ~80 ms a plot to draw in the browser)
        # wait while the browser is still drawing earlier pushes: a slider press that comes while they are drawing
        # then shows its first cost point at once, and its contours follow at the next push.
        if pair.scale != run.model.feature_scale and not panel.browser_idle:
            return
        pair.show(run.model, steps_done(run))

    def show_result(run: Run) -> None:
        pair.show(run.model, steps_done(run))  # contours still waiting are drawn now
        summary.value = describe_start(run.model) + "<br>" + describe_finish(run)

    panel = TrainingPanel(controls, work, label=scale_label, device="cpu", device_text="CPU",
                          device_note="three numbers to learn: no accelerator would be faster", costs=costs,
                          on_start=new_run, on_update=show_paths, on_done=show_result, train_text="Run",
                          train_tooltip="Run both walks again with the current settings",
                          stop_tooltip="Stop both walks now", idle_text="Move a control or press Run to start.")
    pair.show(ScaleComparison(controls["feature_scale"].value, controls["step_fraction"].value))
    caption = W.HTML("Contour lines of log₁₀(J − J<sub>min</sub>) over (w₁, w₂), with b at its best value: the same "
                     "window and the same levels on both plots. ★ the minimum; the line is gradient descent's path.")
    return panel.dashboard(caption, W.HBox([view.figure for view in pair.views.values()]), costs.figure,
                           header=(W.HTML(RULE),), readout=summary,
                           figures={"raw": pair.views["raw features"].figure,
                                    "normalized": pair.views["normalized features"].figure, "costs": costs.figure})


# ---------------------------------------------------------------- the notes' recipe on real data


def describe_recipes(report: dict) -> str:
    """Spreads, means and κ after each recipe, in words."""
    raw, notes, course = (report[name] for name in RECIPES)

    def spreads(stats) -> str:
        low, high = min(stats.spreads), max(stats.spreads)
        return f"spreads run from {low:.3g} to {high:.3g} ({number(high / low)}× apart)"

    return (f"<b>Raw</b>: {spreads(raw)}, means up to {max(raw.means):,.4g}; κ = <b>{number(raw.kappa)}</b>. "
            f"<b>The notes' x / mean</b>: every mean becomes 1 (not 0) and the {spreads(notes)}; "
            f"κ = <b>{number(notes.kappa)}</b>. <b>The course's (x − μ)/σ</b>: every mean 0 and every spread 1; "
            f"κ = <b>{number(course.kappa)}</b>. Gradient descent needs roughly κ steps to move along the flattest "
            f"direction; what κ is left after (x − μ)/σ comes from features that move together, which no "
            f"per-feature rescaling can undo.")


def recipes_dashboard() -> Dashboard:
    """A real table → the standard deviation of each feature raw, after x / mean and after (x − μ)/σ (bars on a
    log axis), and the curvature ratio κ of the logistic cost after each."""
    table = control("feature_table")
    figure = make_figure("Spread of each feature: raw, after the notes' x / mean, after (x − μ)/σ", "",
                         "standard deviation", height=420, width=1000, log_y=True)
    for name, colour in zip(RECIPES, (PALETTE[5], PALETTE[1], PALETTE[0]), strict=True):
        figure.add_trace(go.Bar(x=[], y=[], name=RECIPES[name], marker={"color": colour}))
    figure.update_layout(barmode="group", margin={"b": 130})
    figure.update_xaxes(tickangle=-40)
    text = readout()

    def show(*_) -> None:
        report, names = recipe_report(table.value), list(load_table(table.value).feature_names)
        with figure.batch_update():
            for trace, name in zip(figure.data, RECIPES, strict=True):
                trace.x, trace.y = names, report[name].spreads
            label_log_axis(figure, [s for stats in report.values() for s in stats.spreads])
        text.value = describe_recipes(report)

    redraw_on([table], show, text)
    return Dashboard([table, text, figure], controls={"feature_table": table}, figures={"spreads": figure},
                     readout=text)


# ---------------------------------------------------------------- the dev set: training statistics, always


X1_RANGE, X2_RANGE = (-4.0, 4.0), (-6.5, 6.5)  # normalized inputs: room for a dev set moved 3 σ either way


def mean_text(mean: tuple[float, float]) -> str:
    """'(0.04, 1.58)', with no '-0.00'."""
    return "(" + ", ".join(f"{round(v, 2) + 0.0:.2f}" for v in mean) + ")"


def describe_dev(shift: float, Y: torch.Tensor, scores: dict, train_accuracy: float) -> str:
    train, own = scores["training"], scores["own"]
    return (f"Dev set moved by <b>{shift:.1f}</b> training σ along x₂ (share of y = 1 in it: {Y.mean().item():.0%}; "
            f"training accuracy {train_accuracy:.1%}).<br>With the <b>training</b> μ, σ (the course): dev accuracy "
            f"<b>{train.accuracy:.1%}</b>, dev cost {train.cost:.3f}; its features average "
            f"{mean_text(train.mean)}: the shift is in plain sight.<br>With the dev set's "
            f"<b>own</b> μ, σ: dev accuracy <b>{own.accuracy:.1%}</b>, dev cost {own.cost:.3f}; its features "
            f"average {mean_text(own.mean)}: the shift is hidden, because every dev example "
            f"was moved back by it before the model saw it.")


def dev_view(title: str, experiment: ShiftExperiment) -> DecisionBoundary:
    """A boundary plot of the experiment's model in normalized coordinates, its training points faint."""
    view = DecisionBoundary(title, class_names=("y = 0", "y = 1"), width=500, height=500)
    x1 = torch.linspace(*X1_RANGE, 41, dtype=torch.float64)
    x2 = torch.linspace(*X2_RANGE, 61, dtype=torch.float64)
    view.show_probabilities(x1.tolist(), x2.tolist(), experiment.probabilities(x1, x2).tolist())
    view.show_points((experiment.X_train.tolist(), experiment.Y_train[0].tolist()))
    view.figure.update_traces(selector={"mode": "markers"}, marker_size=6)
    for trace in view.figure.data[2:4]:  # the training points: background for the dev set's rings
        trace.marker.opacity = 0.35
    view.figure.update_layout(xaxis={"title": {"text": "normalized x₁"}, "range": list(X1_RANGE)},
                              yaxis={"title": {"text": "normalized x₂"}, "range": list(X2_RANGE)})
    return view


DEV_TITLES = {"training": "Dev set normalized with the training μ, σ", "own": "Dev set normalized with its own μ, σ"}


def dev_statistics_dashboard() -> Dashboard:
    """Dev-set shift → the dev set normalized with the training set's μ, σ (left) and with its own (right), over
    the boundary of one model trained on the normalized training set, with the dev accuracy each reports."""
    shift = control("dev_shift", continuous_update=True)
    experiment = ShiftExperiment()
    views = {name: dev_view(title, experiment) for name, title in DEV_TITLES.items()}
    text = readout()

    def show(*_) -> None:
        Y, scores = experiment.dev_scores(shift.value)
        labels = Y[0].tolist()
        for name, view in views.items():  # the dev points alone are drawn again; then the title
            view.move_dev_points((scores[name].X.tolist(), labels))
            view.figure.layout.title.text = f"{DEV_TITLES[name]}: accuracy {scores[name].accuracy:.1%}"
        text.value = describe_dev(shift.value, Y, scores, experiment.train_accuracy)

    redraw_on([shift], show, text)
    return Dashboard([shift, text, W.HBox([view.figure for view in views.values()])], controls={"dev_shift": shift},
                     figures={"training": views["training"].figure, "own": views["own"].figure}, readout=text)
