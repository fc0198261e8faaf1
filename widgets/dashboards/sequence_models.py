"""Lab 17, sequence models: gradients through time, remembering across time, and a character model of names.

Three dashboards, each returned (not displayed) by its function:
- `gradients_through_time_dashboard`: cell, sequence length, init factor, memory gate bias and clipping →
  ‖∂L/∂a⟨t⟩‖ against t on a log axis, the latest settings overlaid (vanishing and exploding made visible);
- `recall_dashboard`: a plain RNN, a GRU and an LSTM trained side by side to recall a symbol across T steps →
  cost curves, held-out accuracy while training, and accuracy against T as the learner tries distances;
- `name_model_dashboard`: a character-level model of census names → cost curve, fresh samples every 250 steps,
  a sampling temperature and the next-letter probabilities of a typed prefix.
"""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Iterator

import ipywidgets as W

from lab.name_model import ALPHABET, MARK, NameTraining, chance_cost, encoded_names
from lab.recall_task import SYMBOLS, RecallTraining
from lab.sequence import CELL_NAMES
from lab.through_time import GradientsThroughTime, gradients_through_time
from lab.training import EvalEvent, Event, side_by_side, train
from widgets.controls import CONTROL_LAYOUT, LABEL_STYLE, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.binned_cost_curves import BinnedCostCurves
from widgets.views.cost_curves import CostCurves
from widgets.views.curve_overlay import CurveOverlay
from widgets.views.labelled_lines import LabelledLines
from widgets.views.probability_bars import ProbabilityBars

TRAINED_CELLS = ("rnn", "gru", "lstm")  # the three the recall task compares

# ---------------------------------------------------------------- gradients through time

# A learner moves a slider back and forth: settings seen before are answered from memory (a pass through 100
# steps takes 5–20 ms on 2 cores, by cell). Each result is a few hundred floats. Clipping is not part of the key:
# it only scales the pass's gradients (`GradientsThroughTime.clipped_at`), so moving its slider computes nothing.
remembered_gradients = functools.lru_cache(maxsize=64)(gradients_through_time)


def gradient_label(config: dict) -> str:
    """'GRU · T=100 · factor 1 · bias 0'."""
    return (f"{CELL_NAMES[config['rnn_cell']]} · T={config['sequence_length']} · factor {config['rnn_init_factor']:.2g}"
            f" · bias {config['gate_bias']:g}")


def verdict(ratio: float) -> str:
    if ratio < 1e-3:
        return ("<b>vanishing</b>: the first steps get almost none of the error signal, so their inputs barely "
                "change the weights")
    if ratio > 1e3:
        return "<b>exploding</b>: the further back, the larger the gradient, and a training step overshoots"
    return "the signal survives the trip back"


def describe_gradients(result: GradientsThroughTime, clip: float) -> str:
    """The readout: how much of the last step's gradient reaches the first, in words, and what clipping did."""
    cell = CELL_NAMES[result.kind]
    if result.memory_ratio is None:
        text = f"{cell}: ‖∂L/∂a⟨1⟩‖ / ‖∂L/∂a⟨T⟩‖ = <b>{result.ratio:.2g}</b> — {verdict(result.ratio)}."
    else:  # the LSTM's gradient travels back along its memory cell c, and reaches each a⟨t⟩ from there
        text = (f"{cell}: along its memory cell ‖∂L/∂c⟨1⟩‖ / ‖∂L/∂c⟨T⟩‖ = <b>{result.memory_ratio:.2g}</b> — "
                f"{verdict(result.memory_ratio)}; the hidden state gets ‖∂L/∂a⟨1⟩‖ / ‖∂L/∂a⟨T⟩‖ = "
                f"{result.ratio:.2g}, what the memory passes on through the update gate.")
    text += f" All the cell's gradients together: ‖∂L/∂W‖ = {result.parameter_norm:.3g}."
    if clip <= 0:
        return text
    if result.clip_scale < 1:
        return (text + f" Clipping at {clip:g} multiplies every gradient by {result.clip_scale:.2g} (the dotted "
                "line): the step stays a sane size, but the shape of the curve — how much each step counts "
                "relative to the last — is the same. Clipping tames an exploding gradient; it cannot revive a "
                "vanished one.")
    return text + f" The norm is under {clip:g}, so clipping leaves it as it is."


def gradients_through_time_dashboard() -> Dashboard:
    """Cell, T, init factor, memory gate bias and clip threshold → ‖∂L/∂a⟨t⟩‖ for t = 1 … T of one backward pass
    (loss on the last step only; for the LSTM ‖∂L/∂c⟨t⟩‖ too), on a log axis; the latest curves stay overlaid."""
    controls = {"rnn_cell": control("rnn_cell"), "sequence_length": control("sequence_length", value=100, low=2),
                "rnn_init_factor": control("rnn_init_factor"), "gate_bias": control("gate_bias"),
                "clip_norm": control("clip_norm")}
    curves = CurveOverlay("How much of the last step's gradient reaches step t: ‖∂L/∂a⟨t⟩‖", x_title="time step t",
                          y_title="‖∂L/∂a⟨t⟩‖ (and the LSTM's ‖∂L/∂c⟨t⟩‖)", slots=6)
    text = readout()

    def show(*_) -> None:
        config = {name: widget.value for name, widget in controls.items()}
        result = remembered_gradients(config["rnn_cell"], config["sequence_length"], config["rnn_init_factor"],
                                      gate_bias=config["gate_bias"]).clipped_at(config["clip_norm"])
        label, steps = gradient_label(config), list(range(1, len(result.norms) + 1))
        # a new curve for new settings (the clip threshold is not in the label: moving it adds only the dotted
        # copy), and the current settings' curves stand out among the earlier ones: one message either way
        current, new = {label}, []
        if label not in curves.labels:
            new.append((label, steps, result.norms, ""))
        if result.memory_norms is not None:
            current.add(f"{label} · memory c⟨t⟩")
            if f"{label} · memory c⟨t⟩" not in curves.labels:
                new.append((f"{label} · memory c⟨t⟩", steps, result.memory_norms, ""))
        if result.clip_scale < 1:
            clipped = f"{label}, clipped at {config['clip_norm']:g}"
            new.append((clipped, steps, [v * result.clip_scale for v in result.norms], f"×{result.clip_scale:.2g}"))
            current.add(clipped)
        curves.show(new, thick=current)
        text.value = describe_gradients(result, config["clip_norm"])

    redraw_on(list(controls.values()), show, text)
    return Dashboard([W.HBox([W.VBox([controls["rnn_cell"], controls["sequence_length"], controls["rnn_init_factor"]]),
                              W.VBox([controls["gate_bias"], controls["clip_norm"]])]), text, curves.figure],
                     controls=controls, figures={"gradients": curves.figure}, readout=text)


# ---------------------------------------------------------------- remembering across time


def recall_label(config: dict) -> str:
    """'T=40 · 32 units · α=0.02 · gate bias 3 · 500 steps'."""
    clip = f" · clip {config['clip_norm']:g}" if config["clip_norm"] else ""
    return (f"T={config['recall_distance']} · {config['rnn_hidden_units']} units · α={config['lr']:.2g} · gate bias "
            f"{config['gate_bias']:g}{clip} · {config['recall_steps']} steps")


class AccuracyByDistance:
    """Each cell's held-out accuracy at the end of every finished run, against the run's distance T: the points
    fill in as the learner tries distances (a newer run at the same T replaces the older point)."""

    def __init__(self):
        self.lines = LabelledLines("Held-out accuracy at the end of each run, against the distance T",
                                   [CELL_NAMES[k] for k in TRAINED_CELLS], x_title="distance T (steps to remember)",
                                   y_title="accuracy", markers=True, reference=(1 / SYMBOLS, "chance"), height=340)
        self.lines.figure.update_yaxes(range=[0, 1.05], tickformat=".0%")
        self.points: dict[str, dict[int, float]] = {CELL_NAMES[k]: {} for k in TRAINED_CELLS}

    def add(self, cell: str, distance: int, accuracy: float) -> None:
        self.points[cell][distance] = accuracy
        xs = sorted(self.points[cell])
        self.lines.show(cell, xs, [self.points[cell][x] for x in xs])

    def clear(self) -> None:
        for points in self.points.values():
            points.clear()
        self.lines.clear()


def recall_summary(run: Run) -> str:
    """'<b>T=40 · 32 units · α=0.02 · gate bias 3 · 500 steps</b>: T = 40: plain RNN 50%, GRU 100%, LSTM 100%
    of 512 held-out sequences (chance 25%).'"""
    parts = []
    for cell in (CELL_NAMES[k] for k in TRAINED_CELLS):
        history = run.histories.get(f"{cell} · T={run.config['recall_distance']}")
        if history is None:
            continue
        if history.diverged:
            parts.append(f"{cell} diverged")
        elif "accuracy" in history.metrics:
            parts.append(f"{cell} <b>{history.metrics['accuracy']:.0%}</b>")
        else:
            parts.append(f"{cell} stopped")
    return (f"<b>{run.label}</b>: T = {run.config['recall_distance']}: " + ", ".join(parts)
            + f" of 512 held-out sequences (chance {1 / SYMBOLS:.0%}).")


def recall_dashboard() -> Dashboard:
    """Distance T, hidden units, α, training steps, memory gate bias and clipping → a plain RNN, a GRU and an LSTM
    trained side by side on the recall task: costs, held-out accuracy while training, accuracy against T."""
    device = lab_device()
    controls = {"recall_distance": control("recall_distance", value=40),
                "rnn_hidden_units": control("rnn_hidden_units", high=128),
                "lr": control("lr", value=0.02, low=1e-3, high=1.0), "recall_steps": control("recall_steps", value=500),
                "gate_bias": control("gate_bias", value=3.0), "clip_norm": control("clip_norm")}
    progress = LabelledLines("Held-out accuracy while training", [CELL_NAMES[k] for k in TRAINED_CELLS],
                             x_title="training step", y_title="accuracy", reference=(1 / SYMBOLS, "chance"),
                             height=340)
    progress.figure.update_yaxes(range=[0, 1.05], tickformat=".0%")
    by_distance, summary = AccuracyByDistance(), readout()

    def work(run: Run, cancel: threading.Event) -> Iterator[tuple[str, Event]]:
        c = run.config
        streams = {}
        for kind in TRAINED_CELLS:
            task = RecallTraining(kind, c["recall_distance"], hidden_size=c["rnn_hidden_units"], lr=c["lr"],
                                  clip_norm=c["clip_norm"], gate_bias=c["gate_bias"], seed=c["seed"], device=device)
            streams[f"{CELL_NAMES[kind]} · T={c['recall_distance']}"] = train(
                task, c["recall_steps"], eval_every=25, cancel=cancel)
        yield from side_by_side(streams, cancel=cancel)

    def show_progress(_run: Run, items) -> None:
        progress.extend([(label.split(" · ")[0], event.step, event.metrics["accuracy"]) for label, event in items
                         if isinstance(event, EvalEvent)])

    def show_result(run: Run) -> None:
        with by_distance.lines.figure.batch_update():  # every cell's new point in one redraw
            for label, history in run.histories.items():
                if history.finished and not history.cancelled and not history.diverged:
                    by_distance.add(label.split(" · ")[0], run.config["recall_distance"], history.metrics["accuracy"])
        summary.value = recall_summary(run)

    costs = CostCurves("Cost J (cross-entropy) of each cell while training, latest two runs", x_title="training step",
                       height=360)
    panel = TrainingPanel(controls, work, label=recall_label, device=device, costs=costs,
                          on_start=lambda _run: progress.clear(), on_update=show_progress, on_done=show_result,
                          on_clear=by_distance.clear,
                          step_name="step", fixed={"seed": 0, "batch_size": 64, "task": "recall after T steps"})
    return panel.dashboard(costs.figure, W.HBox([progress.figure, by_distance.lines.figure]), readout=summary,
                           columns=2, figures={"costs": costs.figure, "accuracy": progress.figure,
                                               "accuracy_by_distance": by_distance.lines.figure})


# ---------------------------------------------------------------- a character model of names

LETTER_LABELS = ["end" if c == MARK else c for c in ALPHABET]
SAMPLES_SHOWN = 12  # names drawn each time


def name_label(config: dict) -> str:
    """'GRU · 64 units · α=0.01 · batch 64 · surnames' (and ' · clip 1' when clipping)."""
    clip = f" · clip {config['clip_norm']:g}" if config["clip_norm"] else ""
    return (f"{CELL_NAMES[config['rnn_cell']]} · {config['rnn_hidden_units']} units · α={config['lr']:.2g} · "
            f"batch {config['batch_size']}{clip} · {config['name_list'].replace('_', ' ')}")


def sample_line(names: list[str]) -> str:
    return ", ".join(f"<b>{html.escape(n.capitalize())}</b>" if n else "<i>(empty)</i>" for n in names)


class NameExplorer:
    """What the latest model makes of names: samples at a temperature, and the next letter after a prefix."""

    def __init__(self):
        self.task: NameTraining | None = None
        self.temperature = control("sample_temperature", continuous_update=False)
        self.prefix = W.Text(value="mar", description="Prefix", continuous_update=True, style=LABEL_STYLE,
                             tooltip="Letters a name starts with; the bars show what the model expects next",
                             layout={**CONTROL_LAYOUT, "width": "300px"})
        self.samples, self.prefix_text, self.history = readout(), readout(), readout()
        self.bars = ProbabilityBars("P(next letter | prefix)", ["P(next letter)"], x_title="next letter",
                                    height=320, width=1000)
        self.bars.figure.update_yaxes(range=[0, 1.05])
        self.rounds: list[str] = []  # "after 250 steps: …" lines, newest last
        self.widget = W.VBox([W.HBox([self.temperature, self.prefix]), self.samples, self.prefix_text,
                              self.bars.figure, self.history])
        # the bars first: their update is cheap, while drawing 200 samples takes ~25 ms that it need not wait for
        redraw_on([self.temperature, self.prefix], self.show_next_letter, self.prefix_text)
        redraw_on([self.temperature], self.show_samples, self.samples)

    def follow(self, task: NameTraining) -> None:
        """Explore `task`'s model from now on (it may still be training: samples show what it knows so far)."""
        self.task, self.rounds = task, []
        self.history.value = ""

    def record_round(self, step: int, dev_cost: float) -> None:
        """Samples at temperature 1 after `step` steps, kept in the list under the bars."""
        names = self.task.model.sample(SAMPLES_SHOWN, 1.0, seed=step)
        self.rounds = [*self.rounds, f"after {step} steps (dev cost {dev_cost:.3f}): {sample_line(names)}"][-6:]
        self.history.value = "<b>Samples at temperature 1 as it learned</b><br>" + "<br>".join(self.rounds)

    def show_samples(self, *_) -> None:
        if self.task is None:
            self.samples.value = "Train the model to draw names from it."
            return
        t = self.temperature.value
        names = self.task.model.sample(200, t, seed=0)
        report = self.task.sample_report(names)
        self.samples.value = (
            f"At temperature {t:.2g}: {sample_line(names[:SAMPLES_SHOWN])}<br>Of 200 samples, "
            f"<b>{report['pronounceable']:.0%}</b> read as names, <b>{report['copies']:.1%}</b> are names it "
            f"trained on and {report['dev_hits']:.1%} are census names it never saw (a model that composes rather "
            f"than recites hits both at the same rate per name: copies ≈ 9 × the latter, "
            f"{9 * report['dev_hits']:.1%}).")

    def show_next_letter(self, *_) -> None:
        if self.task is None:
            self.bars.show(LETTER_LABELS, [[float("nan")] * len(ALPHABET)], note="Train the model first",
                           title="P(next letter | prefix)")
            return
        try:
            p = self.task.model.next_letter_probabilities(self.prefix.value, self.temperature.value).tolist()
        except ValueError as error:
            self.bars.show(LETTER_LABELS, [[float("nan")] * len(ALPHABET)], note="no letters to predict: see the "
                           "line above", title="P(next letter | prefix)")
            self.prefix_text.value = f"⚠ {html.escape(str(error))}"
            return
        self.prefix_text.value = ""
        prefix = self.prefix.value.strip().lower()
        likeliest = max(range(len(p)), key=p.__getitem__)
        self.bars.show(LETTER_LABELS, [p], title=f"P(next letter | “{prefix}”) at temperature "
                       f"{self.temperature.value:.2g}: likeliest “{LETTER_LABELS[likeliest]}” ({p[likeliest]:.0%})")


def name_model_dashboard() -> Dashboard:
    """Name list, cell, hidden units, α, batch size, steps and clipping → a character model trained on census
    names: its cost per letter, samples every 250 steps, and (instant) samples at any temperature and the
    next-letter probabilities of a typed prefix."""
    device = lab_device()
    controls = {"name_list": control("name_list"), "rnn_cell": control("rnn_cell"),
                "rnn_hidden_units": control("rnn_hidden_units", value=64), "lr": control("lr", value=0.01, high=1.0),
                "batch_size": control("batch_size", value=64, high=512), "name_steps": control("name_steps"),
                "clip_norm": control("clip_norm")}
    explorer, summary = NameExplorer(), readout()
    # a model's first run reads and encodes the census list (0.17 s of its first point, measured 281 ms in the page):
    # done now, beside the page's loading, it is ready before the learner's first press
    threading.Thread(target=encoded_names, args=(controls["name_list"].value,), daemon=True).start()

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        run.model = NameTraining(c["rnn_cell"], names=c["name_list"], hidden_size=c["rnn_hidden_units"], lr=c["lr"],
                                 batch_size=c["batch_size"], clip_norm=c["clip_norm"], seed=c["seed"], device=device)
        yield from train(run.model, c["name_steps"], eval_every=250, cancel=cancel)

    def show_rounds(run: Run, items) -> None:
        if explorer.task is not run.model:  # the new run's model exists once its first events arrive
            explorer.follow(run.model)
        for _label, event in items:
            if isinstance(event, EvalEvent):
                explorer.record_round(event.step, event.metrics["dev_cost"])

    def show_result(run: Run) -> None:
        history = run.history
        if history.diverged:
            summary.value = f"<b>{run.label}</b>: {html.escape(history.diverged)}"
            return
        explorer.show_samples()
        explorer.show_next_letter()
        steps = len(history.steps)
        dev = history.metrics.get("dev_cost")
        known = f"dev cost <b>{dev:.3f}</b> per letter" if dev is not None else "no evaluation yet"
        summary.value = (f"<b>{run.label}</b>{' (stopped)' if history.cancelled else ''}: {steps} steps, {known} "
                         f"on names it never trained on (a model that knows nothing: {chance_cost():.2f}).")

    costs = BinnedCostCurves("Cost per letter on the training names (mean over each 25 steps)",
                             x_title="thousands of training steps", points_per_epoch=40, height=420)
    # the legend under the plot: long run labels above it would cover the title
    costs.figure.update_layout(legend={"y": -0.25, "yanchor": "top", "x": 0, "xanchor": "left"}, margin={"b": 110})
    panel = TrainingPanel(controls, work, label=name_label, device=device, costs=costs,
                          cost_x=lambda _run, steps: [s / 1000 for s in steps],
                          on_update=show_rounds, on_done=show_result, step_name="step", fixed={"seed": 0})
    return panel.dashboard(costs.figure, explorer.widget, readout=summary, columns=2,
                           extra_controls={"sample_temperature": explorer.temperature, "prefix": explorer.prefix},
                           figures={"costs": costs.figure, "next_letter": explorer.bars.figure})
