"""Lab 15, face verification: an embedding network trained live with the triplet loss, judged on identities it
never saw.

`face_verification_dashboard()` returns (does not display) one dashboard:
- training controls (margin α, embedding size d, learning rate, random or hard triplets, steps) start a new run:
  the loss per triplet, and one-shot recognition accuracy while it trains;
- view controls that never train: which images to judge on, a triplet to look at (its anchor, positive and
  negative in a 2-D projection of the embeddings, and as images), and the threshold τ (its point on the ROC
  curve, and pairs accepted or rejected at τ).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator

import ipywidgets as W

from lab.embeddings import pca_2d
from lab.face_verification import (
    NUM_PAIRS,
    NUM_SHOWN_TRIPLETS,
    Judgement,
    TestSet,
    TripletTraining,
    collapse_text,
    digit_test_sets,
    pair_images,
    rows_per_identity,
    triplet_distances,
    verify_pairs,
)
from lab.training import EvalEvent, Event, train
from widgets.controls import choice, control
from widgets.dashboard import Dashboard, lab_device, readout, redraw_on
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.embedding_scatter import EmbeddingScatter
from widgets.views.figure import one_message_each
from widgets.views.image_grid import ImageGrid
from widgets.views.labelled_lines import LabelledLines
from widgets.views.roc_curve import RocCurve

EVAL_EVERY = 25  # steps between two looks at the test images
SHOWN_PER_IDENTITY = 40  # points per identity in the projection
PAIRS_SHOWN = 4  # same-identity pairs shown at τ, and as many different-identity pairs
SLOTS = [f"identity {i + 1}" for i in range(5)]  # scatter groups; renamed after the digits of the test set shown
# long run labels above a plot would cover its title
LEGEND_BELOW = {"legend": {"y": -0.3, "yanchor": "top", "x": 0, "xanchor": "left"}, "margin": {"b": 130}}


def warning(text: str) -> str:
    return (f'<div role="alert" style="color:#5a2a00;background:#fff1e0;padding:6px 10px;border-radius:4px">'
            f"⚠ {html.escape(text)}</div>")


def run_label(config: dict) -> str:
    """'α=0.2 · d=16 · lr=0.003 · random triplets · 400 steps'."""
    return (f"α={config['triplet_margin']:g} · d={config['face_embedding_dim']} · lr={config['lr']:.2g} · "
            f"{config['triplet_mode']} triplets · {config['triplet_steps']} steps")


def threshold_text(verdicts, test: TestSet, spread: float, margin: float) -> str:
    """The threshold readout: what τ accepts and rejects, and a warning when it calls every pair alike."""
    text = (f"At τ = {verdicts.threshold:.2f} on {html.escape(test.name)}: <b>{verdicts.tpr:.0%}</b> of "
            f"same-identity pairs accepted, <b>{verdicts.fpr:.0%}</b> of different-identity pairs wrongly accepted; "
            f"<b>{verdicts.accuracy:.0%}</b> of the {2 * NUM_PAIRS} pairs called right.")
    if verdicts.all_same:
        problem = ("Every pair is called “same”: τ is at or above every squared distance, so verification "
                   "accepts anyone. " + collapse_text(spread, margin))
        return text + warning(problem.strip())
    if verdicts.all_different:
        return text + warning("Every pair is called “different”: τ is below every squared distance, so "
                              "verification rejects everyone, the right person too.")
    return text


class EmbeddingViews:
    """The views that never train: a 2-D projection with a chosen triplet, the triplet's images, the ROC curve
    with τ's point and pairs accepted or rejected at τ — all of the latest network (`follow`)."""

    def __init__(self, tests: dict[str, TestSet]):
        self.tests, self.task = tests, None
        self.test_choice = choice("Judge on", "Which images the views below show: identities the network never "
                                  "saw, or new images of the ones it trained on",
                                  [(f"{t.name}", key) for key, t in tests.items()])
        self.triplet = control("example_index", label="Triplet shown", high=NUM_SHOWN_TRIPLETS - 1)
        self.threshold = control("verify_threshold")
        self.triplet_text, self.threshold_text = readout(), readout()
        self.scatter = EmbeddingScatter("Embeddings (2 principal components)", [*SLOTS, "chosen triplet"],
                                        num_arrows=2, arrow_names=["anchor → positive", "anchor → negative"],
                                        height=460, width=640)
        self.triplet_images = ImageGrid("The chosen triplet", columns=3, height=230, width=380)
        self.roc = RocCurve("ROC curve")
        self.pairs = ImageGrid("Pairs at threshold τ", columns=4, height=330, width=600)
        self._projection: tuple | None = None  # (judgement, points (m, 2)) of the picture shown
        redraw_on([self.test_choice, self.triplet], self.show_embedding, self.triplet_text)
        redraw_on([self.test_choice], self.show_curve, self.threshold_text)
        redraw_on([self.test_choice, self.threshold], self.show_threshold, self.threshold_text)

    def controls(self) -> dict:
        return {"judge_on": self.test_choice, "triplet_index": self.triplet, "verify_threshold": self.threshold}

    def follow(self, task: TripletTraining) -> None:
        self.task = task
        self.redraw()

    def redraw(self) -> None:
        with one_message_each(self.scatter.figure, self.triplet_images.figure, self.roc.figure, self.pairs.figure):
            self.show_embedding()
            self.show_curve()
            self.show_threshold()

    def current(self) -> tuple[TestSet, Judgement]:
        key = self.test_choice.value
        return self.tests[key], self.task.snapshot.judgements[key]

    def show_embedding(self, *_) -> None:
        if self.task is None:
            return
        test, judgement = self.current()
        triplet = test.triplets[self.triplet.value].tolist()  # rows of A, P, N
        if self._projection is None or self._projection[0] is not judgement:  # a new look at the network
            self._projection = (judgement, pca_2d(judgement.embeddings)[0])
            self.show_points(test, triplet)
        else:  # only the triplet moved: three points and two arrows, not the whole picture
            (xa, ya), (xp, yp), (xn, yn) = self._projection[1][triplet].tolist()
            with self.scatter.figure.batch_update():
                self.scatter.trace("chosen triplet").update(x=[xa, xp, xn], y=[ya, yp, yn])
                self.scatter.trace("arrow0").update(x=[xa, xp], y=[ya, yp])
                self.scatter.trace("arrow1").update(x=[xa, xn], y=[ya, yn])
        self.show_triplet(test, judgement, triplet)

    def show_points(self, test: TestSet, triplet: list[int]) -> None:
        shown = rows_per_identity(test, SHOWN_PER_IDENTITY)
        slot = {d: s for s, d in zip(SLOTS, test.identities, strict=False)}
        groups = [slot[int(test.y[r])] for r in shown] + ["chosen triplet"] * 3
        m = len(shown)
        with self.scatter.figure.batch_update():  # points and legend names in one message
            self.scatter.show(self._projection[1][[*shown.tolist(), *triplet]].tolist(),
                              [""] * m + ["A", "P", "N"], groups, arrows=[(m, m + 1), (m, m + 2)],
                              title=f"Embeddings of {test.short} after {self.task.snapshot.step} steps (2 principal "
                                    "components)")
            for s, d in zip(SLOTS, test.identities, strict=False):
                self.scatter.trace(s).name = f"digit {d}"

    def show_triplet(self, test: TestSet, judgement: Judgement, triplet: list[int]) -> None:
        a, p, n = triplet
        t = triplet_distances(judgement, test, self.triplet.value, self.task.margin)
        self.triplet_images.show(test.X[triplet].reshape(3, 8, 8).numpy(),
                                 [f"anchor: {int(test.y[a])}", f"positive: d²={t['d_ap']:.2f}",
                                  f"negative: d²={t['d_an']:.2f}"])
        verdict = ("the negative is far enough: this triplet adds nothing to the loss" if t["loss"] == 0 else
                   "this triplet still counts: the negative is not yet α farther than the positive")
        self.triplet_text.value = (f"Triplet {self.triplet.value}: d(A, P) = ‖f(A) − f(P)‖² = <b>{t['d_ap']:.3f}</b>, "
                                   f"d(A, N) = <b>{t['d_an']:.3f}</b>; with α = {self.task.margin:g} its loss is "
                                   f"max({t['d_ap']:.3f} − {t['d_an']:.3f} + {self.task.margin:g}, 0) = "
                                   f"<b>{t['loss']:.3f}</b>: {verdict}.")

    def show_curve(self, *_) -> None:
        if self.task is None:
            return
        test, judgement = self.current()
        self.roc.show_curve(judgement.roc.fpr.tolist(), judgement.roc.tpr.tolist(),
                            title=f"ROC curve on {test.short}: area {judgement.roc.auc:.3f}")

    def show_threshold(self, *_) -> None:
        if self.task is None:
            return
        test, judgement = self.current()
        verdicts = verify_pairs(judgement.pair_distances, test.same, self.threshold.value)
        self.roc.show_point(verdicts.fpr, verdicts.tpr, f"τ = {verdicts.threshold:.2f}")
        chosen = [*range(PAIRS_SHOWN), *range(NUM_PAIRS, NUM_PAIRS + PAIRS_SHOWN)]
        captions = []
        for i in chosen:
            d = float(judgement.pair_distances[i])
            accepted, same = d <= verdicts.threshold, bool(test.same[i])
            captions.append(f"d²={d:.2f} {'accept' if accepted else 'reject'} {'✓' if accepted == same else '✗'}")
        self.pairs.show(pair_images(test, chosen).numpy(), captions)
        self.pairs.figure.layout.title.text = (f"Pairs at τ = {verdicts.threshold:.2f}: top row the same identity, "
                                               "bottom row different")
        self.threshold_text.value = threshold_text(verdicts, test, judgement.spread, self.task.margin)


def progress_text(task: TripletTraining, tests: dict[str, TestSet], stopped: bool = False) -> str:
    """'After 400 steps: one-shot recognition of digits 5–9 … 48% (raw pixels 71%, chance 20%); …'."""
    snap = task.snapshot
    parts = [f"<b>{html.escape(tests[k].short)}</b>: one-shot <b>{j.one_shot:.0%}</b> (raw pixels "
             f"{tests[k].pixel_one_shot:.0%}, chance {1 / len(tests[k].identities):.0%}), ROC area {j.roc.auc:.3f}"
             for k, j in snap.judgements.items()]
    text = f"After {snap.step} steps{' (stopped)' if stopped else ''}: " + "; ".join(parts) + "."
    problem = collapse_text(snap.judgements["unseen"].spread, task.margin)
    return text + (warning(problem) if problem else "")


class AccuracyProgress:
    """One-shot accuracy on each test set at every look during the current run, with the raw-pixel baselines."""

    def __init__(self, tests: dict[str, TestSet]):
        self.tests = tests
        self.names = {key: test.short for key, test in tests.items()}
        identities = next(iter(tests.values())).identities  # every test set has five
        chance = 1 / len(identities)
        self.lines = LabelledLines("One-shot recognition accuracy while training",
                                   [*self.names.values(), *(f"raw pixels, {n}" for n in self.names.values())],
                                   x_title="step", y_title="accuracy", markers=True,
                                   reference=(chance, f"chance (1 in {len(identities)})"), height=400)
        self.lines.figure.update_yaxes(range=[0, 1.05], tickformat=".0%")
        self.lines.figure.update_layout(width=540, **LEGEND_BELOW)
        self.steps: list[int] = []
        self.accuracy: dict[str, list[float]] = {key: [] for key in tests}

    def add(self, step: int, one_shot: dict[str, float]) -> None:
        """One look at `step`: `one_shot` holds the accuracy on each test set (keyed like `tests`)."""
        self.steps.append(step)
        for key, name in self.names.items():
            self.accuracy[key].append(one_shot[key])
            self.lines.show(name, self.steps, self.accuracy[key])
            self.lines.show(f"raw pixels, {name}", [0, self.steps[-1]], [self.tests[key].pixel_one_shot] * 2)

    def restart(self) -> None:
        """A new run: its first look redraws every line, so nothing is sent now (a slider's press stays quick)."""
        self.steps = []
        self.accuracy = {key: [] for key in self.tests}

    def clear(self) -> None:
        self.restart()
        self.lines.clear()


def face_verification_dashboard() -> Dashboard:
    """Margin α, embedding size, learning rate, triplet choice and steps → a network trained with the triplet loss
    on digits 0–4; its loss, one-shot accuracy on digits never seen, embeddings, ROC curve and verified pairs."""
    device, tests = lab_device(), digit_test_sets()
    controls = {"triplet_margin": control("triplet_margin"), "face_embedding_dim": control("face_embedding_dim"),
                "lr": control("lr", value=0.003, low=1e-4, high=1.0), "triplet_mode": control("triplet_mode"),
                "triplet_steps": control("triplet_steps")}
    views, summary = EmbeddingViews(tests), readout()
    views.follow(TripletTraining(device=device))  # the untrained network until the first run
    summary.value = "The untrained network: " + progress_text(views.task, tests) + " Press Train or move a control."
    progress = AccuracyProgress(tests)

    def work(run: Run, cancel: threading.Event) -> Iterator[Event]:
        c = run.config
        run.model = TripletTraining(triplet_margin=c["triplet_margin"], face_embedding_dim=c["face_embedding_dim"],
                                    lr=c["lr"], triplet_mode=c["triplet_mode"], seed=c["seed"], device=device)
        # the loss is bounded (unit vectors): only a NaN can mean divergence
        yield from train(run.model, c["triplet_steps"], eval_every=EVAL_EVERY, cancel=cancel, blowup_ratio=None)

    def show_progress(run: Run, items) -> None:
        # one point per look: a batch holds several when the browser is slow to draw
        looks = [event for _, event in items if isinstance(event, EvalEvent)]
        with progress.lines.figure.batch_update():
            if not progress.steps:  # the run's first events: its untrained network is the look at step 0
                start = run.model.snapshot
                progress.add(start.step, {key: j.one_shot for key, j in start.judgements.items()})
            for look in looks:
                progress.add(look.step, {key: look.metrics[f"{key}_one_shot"] for key in tests})
        # The views redraw at each look, not with the first step: the first push then carries only the new
        # run's first points, and a run replaced within a few steps (a slider moving) never redraws them.
        if looks:
            views.follow(run.model)
            summary.value = progress_text(run.model, tests)

    def show_result(run: Run) -> None:
        if run.model is not None and views.task is not run.model:  # ended before its first look
            views.follow(run.model)
        if run.history.diverged:
            summary.value = f"<b>{html.escape(run.label)}</b>: {html.escape(run.history.diverged)}"
        elif run.model is not None:
            summary.value = f"<b>{html.escape(run.label)}</b>. " + progress_text(run.model, tests,
                                                                                  run.history.cancelled)

    costs = CostCurves("Triplet loss per triplet (mean of 64 per step), runs overlaid", x_title="step", log_y=False,
                       height=400)
    costs.figure.update_layout(width=540, **LEGEND_BELOW)
    panel = TrainingPanel(controls, work, label=run_label, device=device, costs=costs,
                          on_start=lambda _run: progress.restart(), on_update=show_progress,
                          on_done=show_result, on_clear=progress.clear, step_name="step", fixed={"seed": 0})
    return panel.dashboard(
        summary, W.HBox([costs.figure, progress.lines.figure]), W.HBox([views.test_choice, views.triplet]),
        views.triplet_text, W.HBox([views.scatter.figure, views.triplet_images.figure]), views.threshold,
        views.threshold_text, W.HBox([views.roc.figure, views.pairs.figure]), readout=summary, columns=2,
        extra_controls=views.controls(),
        figures={"costs": costs.figure, "accuracy": progress.lines.figure, "projection": views.scatter.figure,
                 "triplet": views.triplet_images.figure, "roc": views.roc.figure, "pairs": views.pairs.figure})
