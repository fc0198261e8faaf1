"""Lab 08, hyperparameter search: grid or random, on the right scale, trials run in parallel on a real engine.

`hyperparameter_search_dashboard` returns (does not display) the dashboard: budget, method, the ranges and scales
of α and momentum β, and where trials run (a local process pool, a Dask local cluster, or a Dask scheduler at an
address) → a scatter of α against dev error coloured by β that fills in as trials finish (the trials still to
finish are ticks along its bottom from the moment Start is pressed), the best dev error so far against trials
finished (searches overlaid), a progress line, Stop, and a Zoom-in button (coarse to fine).

Nothing starts with the dashboard: the pool or cluster starts with the first search and is reused while the
choice stays the same; it is shut down when the choice changes, and when the kernel ends (`lab.search.Backend`).
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import ipywidgets as W

from lab.search import (
    Axis,
    Backend,
    BackendChoice,
    WorkerDiedError,
    open_backend,
    run_trials,
    sample_configs,
    scheduler_address,
    zoom,
)
from lab.search_objective import DigitsTrial
from lab.training import DoneEvent
from widgets.controls import CONTROL_LAYOUT, LABEL_STYLE, button, control
from widgets.dashboard import Dashboard, readout
from widgets.runner import Refusal
from widgets.training_panel import Run, TrainingPanel
from widgets.views.cost_curves import CostCurves
from widgets.views.trial_scatter import TrialScatter

SCALE_WORDS = {"log": "log", "linear": "linear", "one_minus_log": "1 − β log"}


@dataclass(frozen=True)
class LaunchedEvent:
    total: int  # trials in this search
    configs: tuple[dict, ...]  # their hyperparameters, in launch order
    workers: int  # trials that run at once
    description: str  # where they run, e.g. "a local pool of 2 processes"
    dashboard_link: str | None  # the Dask dashboard, if any
    seconds: float  # from Start until the trials were handed to the executor


@dataclass(frozen=True)
class TrialEvent:
    number: int  # 1 for the first trial to finish
    config: dict  # the hyperparameters it was trained with
    metrics: dict | None  # what the objective returned; None if it failed
    error: str  # why it failed ("" if it did not)
    seconds: float  # from Start until it finished


@dataclass
class Search:
    """The current search, as the views need it."""

    total: int = 0
    workers: int = 0
    started: float = 0.0  # perf_counter at Start
    planned: tuple[dict, ...] = ()  # every config of the search
    trials: list[TrialEvent] = field(default_factory=list)
    # seconds after Start: "launched", "planned_drawn" (the plan's ticks), "first_point" (the first finished trial)
    timings: dict[str, float] = field(default_factory=dict)

    def reset(self) -> None:
        self.total = self.workers = 0
        self.started, self.planned, self.trials, self.timings = time.perf_counter(), (), [], {}

    @property
    def pending(self) -> list[dict]:
        """The planned configs that have not finished (nor failed) yet: waiting, running, or cancelled by Stop."""
        ended = Counter(config_key(t.config) for t in self.trials)
        left = []
        for config in self.planned:
            key = config_key(config)
            if ended[key]:
                ended[key] -= 1
            else:
                left.append(config)
        return left

    @property
    def finished(self) -> list[TrialEvent]:
        return [t for t in self.trials if t.metrics is not None]

    def best(self) -> TrialEvent | None:
        return min(self.finished, key=lambda t: t.metrics["dev_error"], default=None)


def config_key(config: dict) -> tuple:
    return tuple(sorted(config.items()))


class Backends:
    """One open backend at a time, started on first use, kept while the choice stays the same."""

    def __init__(self):
        self._lock = threading.Lock()
        self.current: Backend | None = None
        self._choice: BackendChoice | None = None

    def get(self, choice: BackendChoice) -> Backend:
        with self._lock:
            if self.current is not None and (self._choice != choice or self.current.closed):
                self.current.close()
                self.current = None
            if self.current is None:
                self.current, self._choice = open_backend(choice), choice
            return self.current

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.close()
                self.current = None


def search_label(config: dict) -> str:
    """'random · 32 trials · α 0.001–3 (log) · β 0.8–0.99 (1 − β log)'."""
    return (f"{config['search_method']} · {config['search_budget']} trials · α {config['lr_low']:.2g}–"
            f"{config['lr_high']:.2g} ({SCALE_WORDS[config['lr_scale']]}) · β {config['beta_low']:.3g}–"
            f"{config['beta_high']:.3g} ({SCALE_WORDS[config['beta_scale']]})")


def search_axes(config: dict) -> list[Axis]:
    return [Axis("lr", config["lr_low"], config["lr_high"], config["lr_scale"]),
            Axis("beta", config["beta_low"], config["beta_high"], config["beta_scale"])]


def search_controls() -> dict[str, W.ValueWidget]:
    address = scheduler_address()
    return {
        "search_method": control("search_method"), "search_budget": control("search_budget"),
        "lr_low": control("lr", label="α from", value=1e-3, low=1e-4, high=10.0),
        "lr_high": control("lr", label="α to", value=3.0, low=1e-4, high=10.0),
        "lr_scale": control("search_scale", label="α drawn on a scale", value="log"),
        "beta_low": control("beta", label="β from", value=0.8, high=0.999, step=0.001),
        "beta_high": control("beta", label="β to", value=0.99, high=0.999, step=0.001),
        "beta_scale": control("search_scale", label="β drawn on a scale", value="one_minus_log"),
        "search_executor": control("search_executor", value="dask_address" if address else "local_pool"),
        "search_workers": control("search_workers"),
        "address": W.Text(value=address or "", description="Dask scheduler", placeholder="tcp://host:8786",
                          tooltip="The address of a running Dask scheduler (used by “dask address”); "
                                  "LAB_DASK_SCHEDULER fills it in", style=LABEL_STYLE, layout=dict(CONTROL_LAYOUT)),
    }


def trial_text(t: TrialEvent) -> str:
    where = f"α={t.config['lr']:.3g}, β={t.config['beta']:.4g}"
    if t.metrics is None:
        return f"{where}: failed — {t.error}"
    return f"{where}: dev error {t.metrics['dev_error']:.1%}, train error {t.metrics['train_error']:.1%}"


def search_work(objective, backends: Backends, search: Search):
    """The job: configs from the controls, trials on the chosen backend, one event per finished trial."""

    def work(run: Run, cancel: threading.Event) -> Iterator:
        c, started = run.config, time.perf_counter()
        try:
            configs = sample_configs(search_axes(c), c["search_budget"], c["search_method"], seed=c["seed"])
            choice = BackendChoice(c["search_executor"], c["search_workers"], c["address"].strip() or None)
            backend = backends.get(choice)
        except (ValueError, ConnectionError) as error:  # said on the status line; the local pool still works
            hint = " Choose “local pool” to search on this machine." if isinstance(error, ConnectionError) else ""
            raise Refusal(f"{error}{hint}") from None
        yield LaunchedEvent(len(configs), tuple(configs), backend.workers, backend.description, backend.dashboard_link,
                            time.perf_counter() - started)
        done, best = 0, math.inf
        for config, result in run_trials(objective, configs, backend.executor, cancel=cancel):
            done += 1
            if isinstance(result, BaseException):
                kind = "worker died" if isinstance(result, WorkerDiedError) else type(result).__name__
                yield TrialEvent(done, config, None, f"{kind}: {result}", time.perf_counter() - started)
            else:
                best = min(best, result["dev_error"])
                yield TrialEvent(done, config, result, "", time.perf_counter() - started)
        metrics = {"best_dev_accuracy": 1 - best} if math.isfinite(best) else {}
        yield DoneEvent(done, cancel.is_set(), time.perf_counter() - started, metrics)

    return work


class SearchViews:
    """The scatter, the best-so-far curves, the Dask link and the summary, fed from the events."""

    def __init__(self, search: Search):
        self.search = search
        self.status = None  # the panel's status line, once the panel exists
        self.scatter = TrialScatter("Dev error of every finished trial against α, coloured by momentum β",
                                    x_title="learning rate α (log scale)", y_title="dev error (log scale)",
                                    colour_title="β")
        self.best = CostCurves("Best dev error so far", x_title="trials finished", y_title="best dev error",
                               max_runs=4, height=320)
        self.link, self.summary = W.HTML(), readout()

    def start(self, run: Run) -> None:
        self.search.reset()
        self.scatter.clear()
        self.best.add_run(run.label)
        self.summary.value, self.link.value = "", ""

    def update(self, run: Run, items) -> None:
        s = self.search
        for _label, event in items:
            if isinstance(event, LaunchedEvent):
                s.total, s.workers, s.planned = event.total, event.workers, event.configs
                s.timings["launched"] = event.seconds
                self.link.value = (f'Trials run on {html.escape(event.description)}. <a href="{event.dashboard_link}" '
                                   f'target="_blank">Open the Dask dashboard</a> to watch the workers.'
                                   if event.dashboard_link else f"Trials run on {html.escape(event.description)}.")
            elif isinstance(event, TrialEvent):
                s.trials.append(event)
        if s.planned:
            self.draw(run)
        elapsed = time.perf_counter() - s.started
        if not any(isinstance(e, DoneEvent) for _, e in items):
            self.status.show(f"{len(s.trials)} / {s.total} trials, {s.workers} worker{'s' * (s.workers != 1)}, "
                             f"{elapsed:.0f} s{self.best_words()}", "busy")

    def draw(self, run: Run) -> None:
        s, finished = self.search, self.search.finished
        failed = [t for t in s.trials if t.metrics is None]
        betas = [t.config["beta"] for t in finished]
        ticks = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]
        pending = s.pending
        self.scatter.show([t.config["lr"] for t in finished], [t.metrics["dev_error"] for t in finished],
                          [-math.log10(1 - b) for b in betas], [trial_text(t) for t in finished],
                          [t.config["lr"] for t in failed], [trial_text(t) for t in failed],
                          colour_ticks=([-math.log10(1 - b) for b in ticks], [f"{b:g}" for b in ticks]),
                          pending_xs=[c["lr"] for c in pending],
                          pending_texts=[f"α={c['lr']:.3g}, β={c['beta']:.4g}: not finished yet" for c in pending])
        best, curve = math.inf, []
        for t in s.trials:
            if t.metrics is not None:
                best = min(best, t.metrics["dev_error"])
            curve.append(best)
        self.best.update_run(run.label, list(range(1, len(curve) + 1)), curve)
        s.timings.setdefault("planned_drawn", time.perf_counter() - s.started)
        if finished and "first_point" not in s.timings:
            s.timings["first_point"] = time.perf_counter() - s.started

    def clear(self) -> None:
        self.scatter.clear()
        self.best.clear()

    def best_words(self) -> str:
        best = self.search.best()
        return "" if best is None else f" — best so far: {trial_text(best)}"

    def done(self, run: Run) -> None:
        s = self.search
        cancelled = len(s.pending)  # left by Stop (or by an error that ended the search)
        if cancelled:
            s.planned = tuple(t.config for t in s.trials)
            self.draw(run)  # takes their ticks away
        failed = [t for t in s.trials if t.metrics is None]
        best = s.best()
        text = f"<b>{html.escape(run.label)}</b>: {len(s.finished)} trials finished"
        if cancelled:
            text += f", {cancelled} never run (stopped)"
        if best is not None:
            text += f"; best {html.escape(trial_text(best))}"
        if failed:
            text += (f". <b>{len(failed)} failed</b> (crosses on the plot): "
                     + "; ".join(html.escape(trial_text(t)) for t in failed[:3]))
        self.summary.value = text + "."


def hyperparameter_search_dashboard(objective=None) -> Dashboard:
    """Budget, method, α and β ranges and scales, and where trials run → trial scatter, best so far, progress.
    `objective` (default `DigitsTrial()`, about a second a trial on one core) is what each trial runs: any picklable
    callable config → {"dev_error", "train_error", …}."""
    objective = objective or DigitsTrial()
    controls, backends, search = search_controls(), Backends(), Search()
    views = SearchViews(search)
    panel = TrainingPanel(controls, search_work(objective, backends, search), label=search_label,
                          device_text="CPU worker processes, 1 torch thread each", start_on=(), export=False,
                          train_text="Start search", train_tooltip="Train every configuration of the search",
                          stop_tooltip="Stop launching trials and cancel the ones waiting",
                          on_start=views.start, on_update=views.update, on_done=views.done, on_clear=views.clear,
                          fixed={"seed": 0}, step_name="trial", idle_text="Set the search and press Start search.")
    views.status = panel.status
    zoom_button = button("Zoom in around the best", "Coarse to fine: narrow both ranges to a quarter of their width "
                         "around the best trial so far")
    zoom_button.on_click(panel.guard(lambda _: zoom_in(controls, search, panel)))
    dashboard = panel.dashboard(W.HBox([views.scatter.figure, views.best.figure]), readout=views.summary,
                                header=[W.HBox([zoom_button]), views.link], columns=2,
                                extra_controls={"zoom": zoom_button},
                                figures={"trials": views.scatter.figure, "best": views.best.figure})
    dashboard.search, dashboard.backends = search, backends
    return dashboard


def zoom_in(controls: dict, search: Search, panel: TrainingPanel) -> None:
    """Set the range sliders to a quarter of their width around the best trial (on each axis's own scale)."""
    best = search.best()
    if best is None:
        panel.status.show("Run a search first: zooming needs a best trial to zoom in on.", "warning")
        return
    lr, beta = zoom(search_axes(panel.config()), best.config, factor=0.25)
    for name, value in (("lr_low", lr.low), ("lr_high", lr.high), ("beta_low", beta.low), ("beta_high", beta.high)):
        controls[name].value = value
    panel.status.show(f"Zoomed in: α {lr.low:.3g}–{lr.high:.3g}, β {beta.low:.4g}–{beta.high:.4g}. Press Start "
                      "search to search there.", "info")
