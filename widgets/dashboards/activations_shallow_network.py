"""Lab 03, activation functions and a network with one hidden layer: g and g′ of sigmoid, tanh, ReLU and Leaky ReLU
(the notes' claim about ReLU's derivative corrected), then a 2-layer network trained live on the flower or on
points the learner draws: its decision boundary, what every hidden unit computes, dead ReLU units, and logistic
regression's straight line on the same points."""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as W
import torch

from lab.activations import activation
from lab.data.drawn import PLANE, DrawnSet, drawn_set_problem, points_to_tensors
from lab.deep_network import DeepNetwork, DeepNetworkTask
from lab.seeding import make_generator
from lab.shallow_network import (
    ShallowNetwork,
    ShallowNetworkTask,
    inactive_units,
    line_in_square,
    plane_grid,
    unit_maps,
)
from lab.training import side_by_side, train
from widgets.controls import button, checkbox, choice, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.runner import Refusal
from widgets.training_panel import Run, TrainingPanel
from widgets.views.activation_curves import ActivationCurves
from widgets.views.cost_curves import CostCurves
from widgets.views.drawing_board import DrawingBoard
from widgets.views.unit_maps import UnitMaps

NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU"}
Z_SPAN, Z_POINTS = 5.0, 401  # the activation plots cover [−5, 5]; an odd count puts one point exactly at z = 0
BOARD_STEPS = 60  # ŷ is drawn on a 60 × 60 grid over the plane
MAP_STEPS = 16  # each hidden unit's map is 16 × 16: enough to see its line or corner, cheap to send for 50 units
LOGISTIC_LR = 0.1  # logistic regression's own α: stable on every preset, so the contrast never diverges
PRESETS = [("flower", "flower"), ("two moons", "moons"), ("two circles", "circles"), ("XOR", "xor"),
           ("nothing: draw your own", "none")]
HINT = "try a smaller learning rate α or init factor"


# ---- 1. The activation functions and their slopes -------------------------------------------------------------

def curve(name: str, slope: float, zs: torch.Tensor) -> tuple[list[float], list[float | None]]:
    """g(z) and g′(z) over zs; g′ has a gap (None) at ReLU's and Leaky ReLU's kink, where no derivative exists."""
    g, g_prime = activation(name, slope)
    values = g_prime(zs).tolist()
    if name in ("relu", "leaky_relu") and slope != 1:
        values = [None if z == 0 else v for z, v in zip(zs.tolist(), values, strict=True)]
    return g(zs).tolist(), values


def slope_verdict(name: str, slope: float, z: float, g_prime: float) -> str:
    """What the slope at z means for learning, in words."""
    kinked = name == "relu" or (name == "leaky_relu" and slope not in (0, 1))
    left = 0 if name == "relu" else slope
    if kinked and abs(z) < 1e-9:
        return (f"z = 0 is the only point with no derivative: the slope jumps from {left:g} to 1. Frameworks pick "
                f"a value there; PyTorch and this lab use {g_prime:g}")
    if name == "relu" or (name == "leaky_relu" and slope == 0):
        return ("for z &lt; 0 the slope is exactly 0. It is defined, it is just zero: no gradient flows back "
                "through this unit for this example" if z < 0 else
                "for z &gt; 0 the slope is 1: the gradient passes through unchanged")
    if name == "leaky_relu":
        return (f"for z &lt; 0 the slope is {slope:g}: small, but not 0, so some gradient still flows and the unit "
                "keeps learning" if z < 0 else "for z &gt; 0 the slope is 1, as for ReLU")
    peak = 0.25 if name == "sigmoid" else 1.0
    if g_prime < 0.1 * peak:
        return (f"the curve is almost flat (the unit is saturated): a gradient passing through shrinks "
                f"{1 / max(g_prime, 1e-300):.3g}×, so learning here is slow")
    return f"the slope is never larger than {peak:g}, its value at z = 0"


def activation_dashboard() -> Dashboard:
    """Activation, Leaky ReLU slope and z → g(z) and g′(z) of all four activations, the chosen one marked."""
    controls = {"activation": control("activation", label="Activation to inspect", value="relu"),
                "leaky_slope": control("leaky_slope", continuous_update=True),
                "z": control("pre_activation", low=-Z_SPAN, high=Z_SPAN, continuous_update=True)}
    names = list(NAMES)
    curves, text = ActivationCurves([NAMES[n] for n in names]), readout()
    half = Z_POINTS // 2
    zs = torch.arange(-half, half + 1, dtype=torch.float64) * (Z_SPAN / half)  # z = 0 exactly in the middle
    for i, name in enumerate(names[:3]):  # these three never change
        curves.show_curve(i, zs.tolist(), *curve(name, 0.0, zs))

    def show_leaky(*_) -> None:
        curves.show_curve(3, zs.tolist(), *curve("leaky_relu", controls["leaky_slope"].value, zs))

    def show_choice(*_) -> None:
        name, slope, z = (controls[k].value for k in ("activation", "leaky_slope", "z"))
        g, g_prime = activation(name, slope)
        point = torch.tensor(z, dtype=torch.float64)
        value, slope_at = g(point).item(), g_prime(point).item()
        curves.show_choice(names.index(name), z, value, slope_at)
        text.value = (f"<b>{NAMES[name]}</b> at z = {z:.2f}: g(z) = <b>{value:.3g}</b>, g′(z) = <b>{slope_at:.3g}</b>"
                      f" — {slope_verdict(name, slope, z, slope_at)}.")

    redraw_on([controls["leaky_slope"]], show_leaky, text)
    redraw_on(controls.values(), show_choice, text)
    return Dashboard([W.HBox(list(controls.values())[:2]), controls["z"], text, W.HBox([curves.value, curves.slope])],
                     controls=controls, figures={"value": curves.value, "slope": curves.slope}, readout=text)


# ---- 2. A network with one hidden layer, on points the learner draws ------------------------------------------

@dataclass
class Fit:
    """One run: the points it trains on (as they were when it started) and the models it trains."""

    points: list[tuple[float, float, int]]  # (x₁, x₂, label)
    logistic_label: str  # the cost-curve label of its logistic regression
    X: torch.Tensor | None = None  # (2, m), once the points were found usable
    network: ShallowNetwork | None = None
    logistic: DeepNetwork | None = None  # logistic regression: a network with no hidden layer


def run_label(config: dict, data_name: str) -> str:
    """'tanh · 8 units · α=1 · init ×0.01 · flower' from the controls' values and the data's name."""
    g = NAMES[config["activation"]]
    if config["activation"] == "leaky_relu":
        g += f" {config['leaky_slope']:.2g}"
    units = f"{config['hidden_units']} unit{'s' * (config['hidden_units'] != 1)}"
    return f"{g} · {units} · α={config['lr']:.2g} · init ×{config['init_factor']:.2g} · {data_name}"


class NetworkViews:
    """The drawing board (ŷ, the points, logistic regression's line) and the hidden units' maps, drawn from a Fit."""

    def __init__(self, device: torch.device):
        self.board = DrawingBoard(*PLANE, "Decision boundary — click to add a point", steps=BOARD_STEPS,
                                  class_names=("orange: class 0", "blue: class 1"),
                                  line_name="logistic regression (a straight line)")
        self.maps = UnitMaps("What each hidden unit computes")
        self.board_points = plane_grid(*PLANE, BOARD_STEPS, device=device)[1]  # (2, 60²)
        self.map_points = plane_grid(*PLANE, MAP_STEPS, device=device)[1]  # (2, 16²)

    def show(self, fit: Fit) -> None:
        network = fit.network
        P = network.predict_proba(self.board_points).reshape(BOARD_STEPS, BOARD_STEPS)
        dead = set(inactive_units(network.hidden(fit.X)[0]))
        word = inactive_word(network.activation, network.leaky_slope)
        with self.board.figure.batch_update():
            self.board.show_probabilities(P.double().cpu().numpy())
            if fit.logistic is not None:
                self.board.show_line(*line_in_square(fit.logistic.params["W1"], fit.logistic.params["b1"].item(),
                                                     *PLANE))
            else:  # no comparison in this run: the last one's line must not stay behind
                self.board.show_line([], [])
        maps = unit_maps(network, self.map_points, MAP_STEPS).double().cpu().numpy()  # (n_h, 16, 16)
        marked = [bool(word) and j in dead for j in range(network.n_h)]
        self.maps.show(maps, [f"{j + 1} {word}" if marked[j] else str(j + 1) for j in range(network.n_h)], marked,
                       note=f"{len(dead)} {word}" if word and dead else "")

    def reset(self, points: list[tuple[float, float, int]]) -> None:
        """The points, and no model yet."""
        self.board.show_points(points)
        self.board.reset()


def dies(name: str, slope: float) -> bool:
    """Whether a unit of this activation gets gradient exactly 0 wherever z < 0 (ReLU, or Leaky ReLU with slope 0)."""
    return name == "relu" or (name == "leaky_relu" and slope == 0)


def inactive_word(name: str, slope: float) -> str:
    """How a unit's map is marked when its z ≤ 0 on every training point: "dead", "z<0" (Leaky ReLU: it still
    learns), or "" (sigmoid and tanh: nothing to mark)."""
    if dies(name, slope):
        return "dead"
    return "z<0" if name == "leaky_relu" else ""


def dead_sentence(fit: Fit) -> str:
    """How many hidden units are negative on every training point, and what that means for this activation."""
    network = fit.network
    n, total = len(inactive_units(network.hidden(fit.X)[0])), network.n_h
    if dies(network.activation, network.leaky_slope):
        if not n:
            return "No hidden unit is dead: each has z &gt; 0 on at least one training point."
        return (f"<b>{n} of {total}</b> hidden units are <b>dead</b>: z ≤ 0 on every training point, so they output "
                "0 and pass back a gradient of exactly 0. Nothing can revive them; Leaky ReLU keeps a small slope.")
    if network.activation == "leaky_relu":
        return (f"{n} of {total} hidden units have z ≤ 0 on every training point, but Leaky ReLU still gives them a "
                f"slope of {network.leaky_slope:g}, so they keep learning." if n else
                "Every hidden unit has z &gt; 0 on some training point.")
    return "Sigmoid and tanh units never die: their slope gets tiny when they saturate, but never reaches 0."


def run_summary(run: Run) -> str:
    """How the run ended, how logistic regression did on the same points, and the dead units."""
    fit, history = run.model, run.histories.get(run.label)
    if history is None or fit.network is None:
        return ""
    if history.diverged:
        result = history.diverged
    elif history.cancelled:
        result = f"stopped after {len(history.steps)} iterations"
    else:
        result = (f"train accuracy <b>{history.metrics['train_accuracy']:.1%}</b>, final cost "
                  f"{history.costs[-1]:.3f}")
    parts = [f"<b>{html.escape(run.label)}</b>: {result}."]
    logistic = run.histories.get(fit.logistic_label)
    if logistic is not None and "train_accuracy" in logistic.metrics:
        accuracy = logistic.metrics["train_accuracy"]
        verdict = ("a straight line separates these points, so the hidden layer is not needed" if accuracy > 0.99
                   else "its boundary is the dashed straight line, which cannot bend around the classes")
        parts.append(f"Logistic regression on the same points: <b>{accuracy:.1%}</b> — {verdict}.")
    return " ".join([*parts, dead_sentence(fit)])


def shallow_network_dashboard(points: DrawnSet | None = None) -> Dashboard:
    """A 2-layer network on the flower, or on points the learner draws: every change of a control, click on the
    plot or change of data starts a new run. Views: the decision boundary, each hidden unit's map, costs."""
    device = lab_device()
    points = points if points is not None else DrawnSet("flower")
    controls = {
        "activation": control("activation", value="tanh"),
        "leaky_slope": control("leaky_slope"),
        "hidden_units": control("hidden_units", label="Hidden units n_h", value=8, low=1, high=50),
        "lr": control("lr", value=1.0, low=1e-3, high=10.0),
        "init_factor": control("init_factor", value=0.01, low=1e-3, high=10.0),
        "num_iterations": control("num_iterations", value=1000, low=50, high=5000),
        "compare": checkbox("Compare with logistic regression", "Also train logistic regression (no hidden layer) "
                            "on the same points; its boundary is the dashed straight line", True),
    }
    data = {"preset": choice("Start from", "Replace the points with a ready-made set, or with none to draw your own",
                             PRESETS, value=points.origin or "none"),
            "new_class": choice("New points are", "The class of the point a click on the plot adds",
                                [("blue (class 1)", "1"), ("orange (class 0)", "0")]),
            "clear_points": button("Clear points", "Remove every point, to draw a set of your own")}
    views, summary = NetworkViews(device), readout()
    views.reset(points.points)

    def setup(run: Run) -> None:  # the previous run can no longer draw
        run.model = Fit(points.points, f"logistic regression · {points.name}")
        summary.value = ""
        if drawn_set_problem([p[2] for p in run.model.points]):
            views.reset(run.model.points)

    def work(run: Run, cancel):
        fit, config = run.model, run.config
        problem = drawn_set_problem([p[2] for p in fit.points])
        if problem:  # said on the status line; the points stay for the learner to fix
            raise Refusal(problem)
        fit.X, Y = points_to_tensors(fit.points, device=device)
        fit.network = ShallowNetwork(2, config["hidden_units"], config["activation"], config["init_factor"],
                                     leaky_slope=config["leaky_slope"], generator=make_generator(0), device=device)
        n, others = config["num_iterations"], {}
        if config["compare"]:
            fit.logistic = DeepNetwork([2, 1], "sigmoid", "zeros", generator=make_generator(0), device=device)
            others[fit.logistic_label] = train(DeepNetworkTask(fit.logistic, fit.X, Y, LOGISTIC_LR), n, cancel=cancel)
        main = train(ShallowNetworkTask(fit.network, fit.X, Y, config["lr"]), n, cancel=cancel, hint=HINT)
        yield from side_by_side({**others, run.label: main})  # the main run last: its end is what the status says

    def show_progress(run: Run, _items) -> None:
        views.show(run.model)  # events come only from a run whose points were usable

    def show_result(run: Run) -> None:
        summary.value = run_summary(run)

    panel = TrainingPanel(controls, work, label=lambda config: run_label(config, points.name), device=device,
                          costs=CostCurves("Cost J while training (runs overlaid)"), fixed={"seed": 0},
                          on_start=setup, on_update=show_progress, on_done=show_result,
                          idle_text="Move a control, press Train, or click on the plot to add a point.")
    wire_data(data, points, views, panel)
    return panel.dashboard(W.HBox([views.board.figure, views.maps.figure]), panel.costs.figure,
                           figures={"board": views.board.figure, "units": views.maps.figure,
                                    "costs": panel.costs.figure},
                           readout=summary, header=(W.HBox(list(data.values())),), columns=2, extra_controls=data)


def wire_data(data: dict, points: DrawnSet, views: NetworkViews, panel: TrainingPanel) -> None:
    """A click adds a point of the chosen class, a preset replaces the points, Clear removes them; each retrains."""

    def add_point(x1: float, x2: float) -> None:
        try:
            points.add(x1, x2, int(data["new_class"].value))
        except ValueError as error:  # a full board: said in words, nothing lost
            panel.status.show(str(error), "warning")
            return
        views.board.show_points(points.points)  # at once, before the retraining
        panel.start()

    def load(change) -> None:
        points.clear() if change["new"] == "none" else points.load(change["new"])
        views.board.show_points(points.points)
        panel.start()

    def clear(_) -> None:
        if data["preset"].value != "none":
            data["preset"].value = "none"  # which clears, through `load`
        else:
            points.clear()
            views.board.show_points(points.points)
            panel.start()

    views.board.on_click(panel.guard(add_point))
    data["preset"].observe(panel.guard(load), names="value")
    data["clear_points"].on_click(panel.guard(clear))
