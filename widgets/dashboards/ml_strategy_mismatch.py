"""Lab 11, ML strategy (part 2): train on clean digits, measure on distorted ones; then look at the mistakes.

- `mismatch_dashboard`: distortion strengths, hidden units, epochs → a network trained on clean digits; a
  human-level slider (no training) → the table human → train → train-dev → dev → test, its gaps and advice;
- `error_analysis_dashboard`: the same training, then a browser of the misclassified dev digits that the learner
  tags by what went wrong; counts per tag and the ceiling each fix could reach (no training while tagging).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import ipywidgets as W
import numpy as np

from lab.data.shifted_digits import MismatchSplit, load_mismatched_digits
from lab.data.split import ThreeWaySplit
from lab.data_mismatch import ADVICE, ErrorTable, error_table, with_human_level
from lab.error_analysis import TAGS, ceilings, dev_mistakes, tags_from_distortions
from lab.softmax import SoftmaxTraining, make_network
from lab.training import train
from widgets.controls import button, checkbox, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.count_bars import CountBars
from widgets.views.grey_image import GreyImage
from widgets.views.image_grid import ImageGrid

DISTORTION_CONTROLS = ("mismatch_noise", "mismatch_blur", "mismatch_shift")


def mismatch_controls() -> dict:
    return {**{name: control(name) for name in DISTORTION_CONTROLS},
            "softmax_hidden_units": control("softmax_hidden_units", value=32),
            "num_epochs": control("num_epochs", value=20, high=60)}


def mismatch_label(c: dict) -> str:
    return (f"noise {c['mismatch_noise']:.2f} · blur {c['mismatch_blur']:.2f} · shift {c['mismatch_shift']} · "
            f"{c['softmax_hidden_units']} hidden · {c['num_epochs']} epochs")


def train_on_clean(run: Run, device, cancel: threading.Event):
    """Load the sets for `run.config`, keep them in run.model["data"], train run.model["network"] on the clean
    training digits (its dev accuracy while training is the distorted dev set's)."""
    c = run.config
    data = load_mismatched_digits(c["mismatch_noise"], c["mismatch_blur"], c["mismatch_shift"]).to(device)
    network = make_network("torch_autograd", 64, c["softmax_hidden_units"], 10, seed=0, device=device)
    run.model = {"data": data, "network": network}
    split = ThreeWaySplit(data.X_train, data.Y_train, data.X_dev, data.Y_dev, data.X_test, data.Y_test,
                          class_names=tuple(str(d) for d in range(10)), image_shape=(8, 8))
    task = SoftmaxTraining(network, split, lr=0.5, batch_size=64)
    yield from train(task, c["num_epochs"] * task.steps_per_epoch, cancel=cancel)


def table_html(table: ErrorTable) -> str:
    rows = "".join(f"<tr><td>{name}</td><td style='text-align:right'>{e:.1%}</td></tr>" for name, e in table.rows)
    gaps = "".join(f"<tr><td>{name}</td><td style='text-align:right'><b>{g:+.1%}</b></td></tr>"
                   for name, g in table.gaps.items())
    worst = table.largest_gap
    return (f"<table style='display:inline-table;margin-right:30px'><tr><th>set</th><th>error</th></tr>{rows}"
            f"</table><table style='display:inline-table'><tr><th>gap</th><th>size</th></tr>{gaps}</table>"
            f"<p>Largest gap: <b>{worst}</b> ({table.gaps[worst]:.1%}). {ADVICE[worst]}</p>")


def show_examples(grid: ImageGrid, data: MismatchSplit) -> None:
    """Eight clean training digits and eight distorted dev digits."""
    images = [data.X_train[:, i].reshape(8, 8).cpu().numpy() for i in range(8)]
    images += [data.X_dev[:, i].reshape(8, 8).cpu().numpy() for i in range(8)]
    grid.show(np.stack(images), [f"train {int(data.Y_train[0, i])}" for i in range(8)]
              + [f"dev {int(data.Y_dev[0, i])}" for i in range(8)])


def mismatch_dashboard() -> Dashboard:
    """Distortions, hidden units, epochs → a network trained on clean digits; human level (no training) → the table."""
    device, measured = lab_device(), []
    controls = mismatch_controls()
    human = control("human_level_error", continuous_update=True)
    bars = CountBars("Error on each set", ["error"], y_title="error", height=320, label=lambda v: f"{v:.1%}")
    bars.figure.update_yaxes(tickformat=".0%")
    grid = ImageGrid("Clean training digits (left) and distorted dev digits (right)", columns=16, height=170)
    text = readout()

    def show(*_) -> None:
        if not measured:
            text.value = "Press <b>Train</b> to fill the table."
            return
        table = with_human_level(measured[-1], human.value)
        bars.show([name for name, _ in table.rows], [[e for _, e in table.rows]])
        text.value = table_html(table)

    def done(run: Run) -> None:
        if not run.history.diverged and run.history.finished and not run.history.cancelled:
            measured[:] = [error_table(run.model["network"], run.model["data"], human.value)]
            show()

    examples_of: Run | None = None  # the run whose digits the grid shows

    def show_examples_once(run: Run, _items) -> None:
        # at the run's first push, after its first cost point, from the sets the run has loaded anyway
        nonlocal examples_of
        if examples_of is not run:
            examples_of = run
            show_examples(grid, run.model["data"])

    costs = CostCurves("Cost J on the clean training digits", x_title="mini-batch step", height=300)
    panel = TrainingPanel(controls, lambda run, cancel: train_on_clean(run, device, cancel), label=mismatch_label,
                          device=device, costs=costs, on_update=show_examples_once, on_done=done, step_name="step",
                          fixed={"lr": 0.5, "batch_size": 64, "seed": 0})
    redraw_on([human], show, text)
    return panel.dashboard(grid.figure, costs.figure, human, text, bars.figure, readout=text, columns=2,
                           extra_controls={"human_level_error": human},
                           figures={"examples": grid.figure, "costs": costs.figure, "errors": bars.figure})


# ---------------------------------------------------------------- error analysis


@dataclass
class Tagging:
    """The latest trained network's dev mistakes and the learner's tags (mistake index → tags)."""

    data: MismatchSplit | None = None
    mistakes: list = field(default_factory=list)  # lab.softmax.Mistake, most confident first
    tags: dict[int, set[str]] = field(default_factory=dict)

    def current(self, position: int):
        return self.mistakes[min(position, len(self.mistakes) - 1)] if self.mistakes else None


def ceiling_text(state: Tagging) -> str:
    m_dev = state.data.X_dev.shape[1]
    rows = "".join(f"<tr><td>{c.tag}</td><td style='text-align:right'>{c.count}</td>"
                   f"<td style='text-align:right'>{c.share:.0%}</td><td style='text-align:right'>{c.error_now:.1%} → "
                   f"<b>{c.best_error:.1%}</b></td></tr>" for c in ceilings(state.tags, len(state.mistakes), m_dev))
    tagged = sum(bool(t) for t in state.tags.values())
    return (f"{len(state.mistakes)} of {m_dev} dev digits are wrong; {tagged} tagged so far."
            f"<table><tr><th>tag</th><th>mistakes</th><th>share</th><th>dev error if all fixed (ceiling)</th></tr>"
            f"{rows}</table>")


def error_analysis_dashboard() -> Dashboard:
    """Distortions, hidden units, epochs → a network trained on clean digits; then (no training) browse its dev
    mistakes, tag them, and read each tag's count and ceiling."""
    device, state = lab_device(), Tagging()
    # max ≥ 1 always: the browser's slider (noUiSlider) refuses a range whose ends are equal
    position = W.IntSlider(value=0, min=0, max=1, description="Mistake", tooltip="Which misclassified dev digit to "
                           "show, the most confident mistake first", style={"description_width": "initial"},
                           layout={"width": "420px"}, continuous_update=True)
    boxes = {tag: checkbox(tag, f"Tick if this mistake is explained by: {tag}") for tag in TAGS}
    key = button("Tag all from the answer key", "Tick noise / blur / shift as they were really applied to each image")
    image = GreyImage("Misclassified dev digit", height=300, width=320, fixed_range=(0.0, 1.0))
    counts = CountBars("Mistakes per tag", ["mistakes"], y_title="mistakes", height=300, width=520)
    text, syncing = readout(), [False]

    def show(*_) -> None:
        mistake = state.current(position.value)
        if mistake is None:
            text.value = "Press <b>Train</b>, then tag the mistakes." if state.data is None else "No mistakes."
            return
        image.show(state.data.X_dev[:, mistake.index].reshape(8, 8).cpu().numpy(),
                   title=f"Misclassified dev digit: true {mistake.label}, predicted {mistake.predicted} "
                         f"(ŷ = {mistake.confidence:.2f})")
        syncing[0] = True  # setting the boxes to this mistake's tags is not the learner tagging
        for tag, box in boxes.items():
            box.value = tag in state.tags.get(mistake.index, set())
        syncing[0] = False
        counts.show(list(TAGS), [[sum(t in s for s in state.tags.values()) for t in TAGS]])
        text.value = ceiling_text(state)

    def tag(*_) -> None:
        mistake = state.current(position.value)
        if mistake is not None and not syncing[0]:
            state.tags[mistake.index] = {t for t, box in boxes.items() if box.value}
            show()

    def answer_key(_=None) -> None:
        if state.mistakes:
            for index, found in tags_from_distortions(state.mistakes, state.data.dev_distortions).items():
                state.tags[index] = state.tags.get(index, set()) | found
            show()

    def done(run: Run) -> None:
        if not run.history.diverged and run.history.finished and not run.history.cancelled:
            data, network = run.model["data"], run.model["network"]
            state.data, state.mistakes, state.tags = data, dev_mistakes(network, data.X_dev, data.Y_dev), {}
            position.max, position.value = max(1, len(state.mistakes) - 1), 0
            show()

    costs = CostCurves("Cost J on the clean training digits (error analysis)", x_title="mini-batch step", height=260)
    panel = TrainingPanel(mismatch_controls(), lambda run, cancel: train_on_clean(run, device, cancel),
                          label=mismatch_label, device=device, costs=costs, on_done=done, step_name="step",
                          fixed={"lr": 0.5, "batch_size": 64, "seed": 0})
    redraw_on([position], show, text)
    redraw_on(list(boxes.values()), tag, text)
    key.on_click(panel.guard(answer_key))
    browser = W.HBox([image.figure, W.VBox([position, *boxes.values(), key])])
    return panel.dashboard(costs.figure, browser, text, counts.figure, readout=text, columns=2,
                           extra_controls={"mistake": position, **{f"tag {t}": b for t, b in boxes.items()},
                                           "answer_key": key},
                           figures={"costs": costs.figure, "mistake": image.figure, "tag_counts": counts.figure})
