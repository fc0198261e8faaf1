"""Lab 10, softmax and multi-class classification: logits → probabilities (temperature, and the overflow of the
naive formula), then softmax regression and a 2-layer softmax network trained on the ten digit classes.

Three dashboards, each returned (not displayed) by its function:
- `softmax_dashboard`: four logit sliders, a temperature and a shift c → the probabilities, the lab's softmax
  beside the naive e^z / Σ e^z;
- `typed_logits_dashboard`: any logits typed in a box (±10⁶ included) → the same comparison, bad input in words;
- `softmax_training_dashboard`: α, batch size, hidden units, epochs and implementation → cost curves, train/dev
  accuracy, the confusion matrix, the most confidently wrong digits, and the softmax output of a chosen digit.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator

import ipywidgets as W
import torch

from lab.data.digits import load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.softmax import (
    SoftmaxComparison,
    SoftmaxTraining,
    compare_softmax,
    confident_mistakes,
    confusion_matrix,
    dead_units,
    make_network,
    most_confused,
    parse_logits,
)
from lab.training import Event, train
from widgets.controls import CONTROL_LAYOUT, LABEL_STYLE, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.binned_cost_curves import BinnedCostCurves
from widgets.views.confusion_matrix import ConfusionMatrix
from widgets.views.figure import PALETTE
from widgets.views.grey_image import GreyImage
from widgets.views.image_grid import ImageGrid
from widgets.views.probability_bars import ProbabilityBars
from widgets.views.train_dev_curves import TrainDevCurves

COURSE_LOGITS = (5.0, 2.0, -1.0, 3.0)  # the course's four-class example
SUBSCRIPTS = "₁₂₃₄"
SERIES = ("softmax, max(z) subtracted first (the lab's)", "naive e^z / Σ e^z")
DIGITS = tuple(str(d) for d in range(10))
FLOAT32_LIMIT = "float32 stops at 3.4·10³⁸ ≈ e^88.7"


def numbers(values: list[float], fmt: str = ".4g") -> str:
    """'[148.4, 7.389, inf]' — NaN and inf as words a learner recognises."""
    return "[" + ", ".join("NaN" if v != v else format(v, fmt) for v in values) + "]"


def a_digit(digit: int) -> str:
    """'a 3', 'an 8'."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


def describe(result: SoftmaxComparison, fmt: str = ".1%", z: str = "z/T") -> str:
    """The readout under the bars: the steps of the formula, and what the naive formula made of them; `z` names
    the logits in the formulas."""
    probabilities = numbers(result.probabilities, fmt)
    steps = f"{z} = {numbers(result.scaled)} → t = e^({z}) = {numbers(result.exps)}"
    if not result.overflowed:
        return (f"{steps}, Σt = {sum(result.exps):.4g} → a = t / Σt = <b>{probabilities}</b>. "
                "The naive formula agrees: nothing overflowed.")
    return (f"{steps}: e^({z}) <b>overflowed</b> ({FLOAT32_LIMIT}), so the naive formula gives "
            f"<b>{numbers(result.naive, fmt)}</b>. Subtracting max({z}) = {max(result.scaled):.6g} first gives "
            f"t = {numbers(result.shifted_exps)} and a = <b>{probabilities}</b>: the same probabilities, since "
            "adding one number to every logit does not change softmax.")


def overflow_note(result: SoftmaxComparison) -> str:
    return "naive formula: NaN where e^z overflowed" if result.overflowed else ""


def softmax_dashboard() -> Dashboard:
    """Four logit sliders, temperature T and a shift c added to every logit → the probabilities as bars, the
    lab's stable softmax beside the naive formula (which turns into NaN once e^z overflows)."""
    logits = {f"z{i + 1}": control("logit", label=f"Logit z{SUBSCRIPTS[i]}", value=value, continuous_update=True)
              for i, value in enumerate(COURSE_LOGITS)}
    temperature = control("softmax_temperature", continuous_update=True)
    shift = control("logit_shift", continuous_update=True)
    bars = ProbabilityBars("Probabilities a = softmax(z / T)", SERIES, width=900)
    text = readout()

    def show(*_) -> None:
        result = compare_softmax([w.value for w in logits.values()], temperature.value, shift.value)
        bars.show([f"class {i}" for i in range(1, 5)], [result.probabilities, result.naive],
                  note=overflow_note(result))
        text.value = describe(result)

    redraw_on([*logits.values(), temperature, shift], show, text)
    return Dashboard([W.HBox([W.VBox(list(logits.values())), W.VBox([temperature, shift])]), text, bars.figure],
                     controls={**logits, "softmax_temperature": temperature, "logit_shift": shift},
                     figures={"probabilities": bars.figure}, readout=text)


def warning_line(text: str) -> str:
    """A readout line in the status line's warning style: the learner's input could not be used."""
    return (f'<div role="alert" class="lab-status lab-status-warning" style="color:#5a2a00;background:#fff1e0;'
            f'padding:6px 10px;border-radius:4px">⚠ {html.escape(text)}</div>')


def typed_logits_dashboard() -> Dashboard:
    """A text box for any logits (up to 20, each within ±10⁶) → both formulas' probabilities; input that cannot
    be used gets a line saying why, and the bars keep the last logits that could be read."""
    box = W.Text(value="5, 2, −1, 3", description="Logits z (separated by commas)", continuous_update=False,
                 tooltip="Any numbers from −1000000 to 1000000, e.g. 1000, 0, -5; press Enter to apply",
                 style=LABEL_STYLE, layout={**CONTROL_LAYOUT, "width": "600px"})
    bars = ProbabilityBars("softmax(z) of the logits you typed", SERIES, width=900)
    text = readout()

    def show(*_) -> None:
        try:
            logits = parse_logits(box.value)
        except ValueError as error:
            text.value = warning_line(f"{error} The bars still show the last logits that could be read.")
            return
        result = compare_softmax(logits)
        bars.show([f"class {i}" for i in range(1, len(logits) + 1)], [result.probabilities, result.naive],
                  note=overflow_note(result))
        text.value = describe(result, ".4g", z="z")

    redraw_on([box], show, text)
    return Dashboard([box, text, bars.figure], controls={"logits": box}, figures={"probabilities": bars.figure},
                     readout=text)


# ---------------------------------------------------------------- training on the ten digits


class DigitInspector:
    """A slider over the dev digits → the digit, and the latest trained network's softmax output for it as bars
    (the true digit's bar in green)."""

    def __init__(self, data: ThreeWaySplit):
        self.X, self.Y, self.shape = data.X_dev, data.Y_dev.cpu(), data.image_shape
        self.pixels = data.X_dev.cpu()  # (64, m_dev) for the picture
        self.network, self.label = None, ""
        self.index = control("example_index", label="Dev digit #", value=0, high=self.X.shape[1] - 1,
                             continuous_update=True)
        self.image = GreyImage("Dev digit #0", height=280, width=280, fixed_range=(0, 1))
        self.bars = ProbabilityBars("Softmax output ŷ for this digit", ["ŷ of each digit"], x_title="digit",
                                    width=760)
        self.text = readout()
        self.widget = W.VBox([self.index, self.text, W.HBox([self.image.figure, self.bars.figure])])
        redraw_on([self.index], self.show, self.text)

    def use(self, network, label: str) -> None:
        """Show `network`'s output from now on (the run `label` has just finished)."""
        self.network, self.label = network, label
        self.show()

    def show(self, *_) -> None:
        i = self.index.value
        digit = int(self.Y[0, i])
        self.image.show(self.pixels[:, i].reshape(self.shape), title=f"Dev digit #{i}: {a_digit(digit)}")
        if self.network is None:
            self.bars.show(DIGITS, [[float("nan")] * 10], note="Train a network to see its softmax output",
                           title="Softmax output ŷ for this digit")
            self.text.value = f"Dev digit #{i} is {a_digit(digit)}. Train a network to see what it makes of it."
            return
        p = self.network.predict_proba(self.X[:, i:i + 1])[:, 0].double().cpu().tolist()  # (10,)
        said = max(range(10), key=p.__getitem__)
        colours = [PALETTE[2] if d == digit else PALETTE[0] for d in range(10)]
        self.bars.show(DIGITS, [p], colours=colours, title=f"Softmax output ŷ of {self.label}")
        verdict = "right" if said == digit else "<b>wrong</b>"
        self.text.value = (f"Dev digit #{i} is {a_digit(digit)}; the network says <b>{said}</b> with "
                           f"ŷ = {p[said]:.1%} ({verdict}); ŷ of the true digit is {p[digit]:.1%}, and the ten "
                           f"values sum to {sum(p):.4f}.")


class ErrorAnalysis:
    """The confusion matrix of the dev digits and the ones the network gets wrong most confidently."""

    def __init__(self, data: ThreeWaySplit):
        self.data = data
        self.confusion = ConfusionMatrix("Confusion matrix on the dev digits", DIGITS)
        self.mistakes = ImageGrid("Dev digits it gets wrong most confidently", columns=8, height=230, width=1000,
                                  empty_text="Every dev digit is classified correctly")

    def show(self, run: Run) -> str:
        """Redraw both for the run's network; returns a sentence on its most frequent confusion."""
        d = self.data
        P = run.model.network.predict_proba(d.X_dev)  # (10, m_dev)
        counts = confusion_matrix(d.Y_dev, P.argmax(dim=0), 10)
        self.confusion.show(counts.tolist(), title=f"Confusion matrix on the {d.X_dev.shape[1]} dev digits")
        wrong = confident_mistakes(P, d.Y_dev, 8)
        images = d.X_dev[:, [w.index for w in wrong]].T.reshape(-1, *d.image_shape).cpu().numpy()
        self.mistakes.show(images, [f"is {w.label}, said {w.predicted} ({w.confidence:.0%})<br>dev #{w.index}"
                                    for w in wrong])
        true, said, count = most_confused(counts)
        if count == 0:
            return "no mistakes"
        return f"most frequent mistake: {a_digit(true)} taken for {a_digit(said)} ({count}×)"

    def clear(self, reason: str) -> None:
        """Empty both, with `reason` in the titles (a diverged network has nothing to analyse)."""
        self.confusion.show([[0] * 10] * 10, title=f"Confusion matrix: {reason}")
        self.mistakes.empty_text = reason
        self.mistakes.show(torch.zeros(0, *self.data.image_shape).numpy(), [])


def run_label(config: dict) -> str:
    """'softmax regression · α=0.5 · batch 64 · by hand'."""
    hidden = config["softmax_hidden_units"]
    model = "softmax regression" if hidden == 0 else f"{hidden} hidden units"
    how = "by hand" if config["softmax_implementation"] == "by_hand" else "autograd"
    return f"{model} · α={config['lr']:.2g} · batch {config['batch_size']} · {how}"


def dead_text(run: Run) -> str:
    """How many hidden units died, in words; '' for softmax regression."""
    hidden = run.config["softmax_hidden_units"]
    if hidden == 0:
        return ""
    dead = dead_units(run.model.network, run.model.data.X_train)
    if dead > hidden // 2:
        return (f" <b>{dead} of the {hidden} hidden units are dead</b>: their ReLU outputs 0 for every training "
                "digit, so they get no gradient and the network can barely do better than guess — try a smaller α.")
    return f" Dead hidden units (ReLU 0 on every training digit): {dead} of {hidden}."


def run_summary(run: Run, confusion: str) -> str:
    history, m_dev = run.history, run.model.data.X_dev.shape[1]
    if history.diverged:
        return f"<b>{run.label}</b>: {html.escape(history.diverged)}"
    if history.cancelled:
        return f"<b>{run.label}</b>: stopped after {len(history.steps)} steps."
    dev = history.metrics["dev_accuracy"]
    return (f"<b>{run.label}</b>: dev accuracy <b>{dev:.1%}</b> ({round(dev * m_dev)}/{m_dev} digits), train "
            f"accuracy {history.metrics['train_accuracy']:.1%}, training cost {history.metrics['train_cost']:.3f}; "
            f"{confusion}.{dead_text(run)}")


def softmax_training_dashboard(data: ThreeWaySplit | None = None) -> Dashboard:
    """α, mini-batch size, hidden units (0 = softmax regression), epochs and implementation → a network trained on
    the ten digit classes: cost curves overlaid, train/dev accuracy, and, once a run ends, the dev confusion
    matrix, the most confidently wrong dev digits and the softmax output of the digit the slider picks."""
    device = lab_device()
    data = (data or load_digits_multiclass()).to(device)
    n_x, m = data.X_train.shape
    controls = {
        "lr": control("lr", value=0.5, low=1e-3, high=10.0),
        "batch_size": control("batch_size", value=64, low=1, high=m),
        "softmax_hidden_units": control("softmax_hidden_units", value=0),
        "num_epochs": control("num_epochs", value=20, low=1, high=100),
        "softmax_implementation": control("softmax_implementation"),
    }
    accuracy = TrainDevCurves("Accuracy on the training and dev digits", "accuracy", x_title="epoch", width=560)
    accuracy.figure.data[4].showlegend = False  # no early stopping here: no star to explain
    accuracy.figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    errors, inspector, summary = ErrorAnalysis(data), DigitInspector(data), readout()

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        network = make_network(c["softmax_implementation"], n_x, c["softmax_hidden_units"], 10, seed=c["seed"],
                               device=device)
        run.model = SoftmaxTraining(network, data, lr=c["lr"], batch_size=c["batch_size"], seed=c["seed"])
        per_epoch = run.model.steps_per_epoch
        yield from train(run.model, c["num_epochs"] * per_epoch, cancel=cancel, eval_every=per_epoch)

    def show_accuracy(run: Run, _items) -> None:
        evaluations = list(run.model.evaluations)
        if not evaluations:  # the first steps come before the first evaluation: nothing to draw yet
            return
        accuracy.show([e for e, _ in evaluations], [r["train_accuracy"] for _, r in evaluations],
                      [r["dev_accuracy"] for _, r in evaluations])

    def show_result(run: Run) -> None:
        if run.history.diverged:
            summary.value = run_summary(run, "")
            errors.clear("the latest run diverged")
            inspector.use(None, "")
            return
        summary.value = run_summary(run, errors.show(run))
        inspector.use(run.model.network, run.label)

    costs = BinnedCostCurves("Cost J on the training digits (runs overlaid; mean over each tenth of an epoch)",
                             x_title="epoch", height=440)
    # the legend under the plot: six long run labels above it would cover the title
    costs.figure.update_layout(legend={"y": -0.22, "yanchor": "top", "x": 0, "xanchor": "left"}, margin={"b": 110})
    panel = TrainingPanel(controls, work, label=run_label, device=device, step_name="mini-batch step", costs=costs,
                          cost_x=lambda run, steps: [s / run.model.steps_per_epoch for s in steps],
                          on_start=lambda _run: accuracy.new_run(), on_update=show_accuracy, on_done=show_result,
                          fixed={"seed": 0, "data": "scikit-learn digits, ten classes, 60/20/20 split"})
    return panel.dashboard(panel.costs.figure, W.HBox([accuracy.figure, errors.confusion.figure]),
                           errors.mistakes.figure, inspector.widget, readout=summary,
                           extra_controls={"example_index": inspector.index},
                           figures={"costs": panel.costs.figure, "accuracy": accuracy.figure,
                                    "confusion": errors.confusion.figure, "mistakes": errors.mistakes.figure,
                                    "digit": inspector.image.figure, "digit_probabilities": inspector.bars.figure})
