"""What every training dashboard shares: Train / Stop / Clear, the runner wired to the controls, the status
line, the device badge, export links, and an error guard around every callback.

A training dashboard then declares only its controls, its views and its `work(run, cancel)`:

    panel = TrainingPanel(controls, work, label=run_label, device=device, costs=CostCurves(...),
                          on_done=show_result)

Every change of a control (or a click on Train) starts a new run and cancels the old one (latest wins).
`work` builds the model from `run.config`, keeps it in `run.model`, and yields the training loop's events;
a job that trains several models side by side yields `(label, event)` pairs instead, one history per label.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import torch

from lab.device import describe_device
from lab.history import RunHistory
from lab.training import Event
from widgets.controls import button
from widgets.dashboard import Dashboard, device_badge
from widgets.draw_pace import DrawPace
from widgets.export import ExportLinks
from widgets.guard import guarded
from widgets.runner import Item, Runner
from widgets.settings_link import SettingsLink, page_address
from widgets.status import StatusLine
from widgets.views.cost_curves import CostCurves


@dataclass
class Run:
    """One training run: what it was started with and what it has produced so far."""

    number: int  # 1 for the dashboard's first run, 2 for the next, …
    label: str  # names the run on plots and the status line, e.g. "α=0.005 · cross-entropy"
    config: dict  # the controls' values when the run started, plus the lab's fixed settings
    histories: dict[str, RunHistory] = field(default_factory=dict)  # one per label the job trains
    model: Any = None  # what `work` trains, kept so views can show the trained model

    @property
    def history(self) -> RunHistory:
        """The history of the run's own label; in a job that trains several models, the first model's."""
        return self.histories.get(self.label) or next(iter(self.histories.values()))

    @property
    def finished(self) -> bool:
        return bool(self.histories) and all(h.finished for h in self.histories.values())


Work = Callable[[Run, threading.Event], Iterator[Event | tuple[str, Event]]]


def export_stem(label: str) -> str:
    """A file name from a run label: 'α=0.05 · cross-entropy' → 'α0.05_cross-entropy'."""
    return re.sub(r"[^\w.\-]+", "_", label.replace("=", "")).strip("_") or "run"


class TrainingPanel:
    """Buttons, status, badge and export for a training dashboard, and the runner that calls `work`.

    - `controls`: name → widget; a change of any of them starts a run, except those in `start_on`'s
      complement when `start_on` names a subset. `run.config` holds their values (and `fixed`).
    - `label(config)`: the run's label; `work(run, cancel)`: the job (see the module docstring).
    - `costs`: a CostCurves view the panel draws each run's cost into (runs overlaid), x from `cost_x`.
    - `on_start(run)`: reset views for a new run; it runs once the old run can no longer draw.
    - `on_update(run, items)`: after each push of events (items are `(label, event)`), histories updated. A view
      that is slow to draw may skip a push while `browser_idle` is False and draw in `on_done`.
    - `on_done(run)`: once the job has ended (done, stopped or diverged), unless a newer run replaced it.
    - `on_clear()`: Clear was pressed (the cost view is cleared by the panel). A Clear button is shown when
      there is a cost view or an `on_clear`.
    """

    def __init__(self, controls: dict[str, W.ValueWidget], work: Work, *, label: Callable[[dict], str],
                 device: torch.device | str = "cpu", device_text: str | None = None, device_note: str = "",
                 costs: CostCurves | None = None,
                 cost_x: Callable[[Run, list[int]], list[float]] | None = None,
                 on_start: Callable[[Run], None] | None = None,
                 on_update: Callable[[Run, list[Item]], None] | None = None,
                 on_done: Callable[[Run], None] | None = None, on_clear: Callable[[], None] | None = None,
                 start_on: Iterable[str] | None = None, fixed: dict | None = None, export: bool = True,
                 train_text: str = "Train", train_tooltip: str = "Train again with the current settings",
                 stop_tooltip: str = "Stop the running training now",
                 step_name: str = "iteration", plots_evaluations: bool = False, idle_text: str | None = None):
        self.controls, self._work, self._label = dict(controls), work, label
        self.costs, self._cost_x = costs, cost_x
        self._on_start, self._on_update, self._on_done, self._on_clear = on_start, on_update, on_done, on_clear
        self.fixed = dict(fixed or {})
        self.run: Run | None = None  # the latest run
        self._count = 0
        self.status = StatusLine(idle_text or f"Move a control or press {train_text} to start.")
        device_text = device_text or describe_device(torch.device(device))
        self.badge = device_badge(device_text, device_note)  # the note explains the choice of device
        self.pace = DrawPace()  # the dashboard's figures, watched so that pushes wait for the browser to draw
        # whether the browser had drawn every earlier push when the current one began (see on_update)
        self.browser_idle = True
        if costs is not None:
            self.pace.watch([costs.figure])
        self.runner = Runner(self.status, self._on_batch, device_text=device_text, step_name=step_name,
                             plots_evaluations=plots_evaluations, ready=self.pace.drawn)
        self._drawn_lines: set[str] = set()  # labels of the latest run that have a line on the cost plot
        self.export = ExportLinks() if export else None
        self.buttons = {"train": button(train_text, train_tooltip, "primary"),
                        "stop": button("Stop", stop_tooltip, "warning")}
        if costs is not None or on_clear is not None:
            self.buttons["clear"] = button("Clear runs", "Remove every run from the plots")
            self.buttons["clear"].on_click(self.guard(lambda _: self.clear()))
        self.buttons["train"].on_click(self.guard(lambda _: self.start()))
        self.buttons["stop"].on_click(self.guard(lambda _: self.runner.stop()))
        self._held = False  # True while settings from a link are set: they wait for Train
        self.link: SettingsLink | None = None  # the link line of the Dashboard this panel becomes part of
        names = self.controls if start_on is None else list(start_on)
        for name in names:
            self.controls[name].observe(self.guard(lambda _: self.start()), names="value")

    @contextmanager
    def held(self) -> Iterator[None]:
        """No run starts inside, whatever calls `start` (settings from a link are set at load; they wait for Train)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def guard(self, callback: Callable) -> Callable:
        """`callback`, with any exception it raises shown on the status line instead of vanishing."""
        return guarded(callback, lambda text: self.status.show(text, "error"))

    def config(self) -> dict:
        """The controls' current values, with the lab's fixed settings."""
        return {**{name: widget.value for name, widget in self.controls.items()}, **self.fixed}

    def start(self) -> None:
        """Start a run with the current settings; the running one is cancelled. Nothing starts while held."""
        if self._held:
            return
        config = self.config()
        self._count += 1
        run = Run(self._count, self._label(config), config)

        def setup() -> None:  # the old run has lost the views by now
            self.run = run
            self._drawn_lines = set()
            if self._on_start is not None:
                self._on_start(run)

        def job(cancel: threading.Event) -> Iterator[Item]:
            for item in self._work(run, cancel):
                yield item if isinstance(item, tuple) else (run.label, item)
        self.runner.start(job, run.label, setup, on_end=lambda: self._ended(run))

    def clear(self) -> None:
        if self.costs is not None:
            self.costs.clear()
            self._drawn_lines = set()  # a run still going gets its line back at its next push
        if self._on_clear is not None:
            self._on_clear()

    def _on_batch(self, items: list[Item]) -> None:
        run = self.run
        self.browser_idle = self.pace.drawn()  # asked before this push sends anything
        for label, event in items:
            history = run.histories.get(label)
            if history is None:
                history = run.histories[label] = RunHistory(label, run.config)
            history.record(event)
        if self.costs is not None:
            new, drawn = [], []  # lines to start and lines to update: one message (one redraw) for all of them
            for label in dict(items):
                history = run.histories[label]
                if not history.steps:  # a rerun stopped before its first step keeps the old curve
                    continue
                x = self._cost_x(run, history.steps) if self._cost_x else history.steps
                line = (label, x, history.costs, "diverged" if history.diverged else "")
                (drawn if label in self._drawn_lines else new).append(line)
            if new or drawn:  # new lines arrive with their first points: the new run shows at once
                self.costs.draw(new=new, updated=drawn)
                self._drawn_lines.update(label for label, *_ in new)
        if self._on_update is not None:
            self._on_update(run, items)

    def _ended(self, run: Run) -> None:
        if not run.histories:  # stopped before its first event
            return
        if self.export is not None:
            query = self.link.query(run.config) if self.link is not None else ""  # the run's settings, not today's
            self.export.show(run.history, export_stem(run.label), page_address(query))
        if self._on_done is not None:
            self._on_done(run)

    def control_box(self, columns: int = 1) -> W.HBox:
        """The controls in `columns` columns, and the buttons beside them."""
        widgets = list(self.controls.values())
        per_column = -(-len(widgets) // columns)
        boxes = [W.VBox(widgets[i:i + per_column]) for i in range(0, len(widgets), per_column)]
        return W.HBox([*boxes, W.VBox(list(self.buttons.values()))])

    def dashboard(self, *views: W.Widget, figures: dict, readout: W.HTML | None = None, header=(),
                  columns: int = 1, extra_controls: dict | None = None) -> Dashboard:
        """The standard page: badge, controls and buttons, `header` widgets, status line, `readout`, the views,
        and the export links. `extra_controls` are controls the panel does not start runs from (instant views)."""
        clash = set(extra_controls or {}) & (set(self.controls) | set(self.buttons))
        if clash:
            raise ValueError(f"extra_controls {sorted(clash)} would hide the panel's controls of the same names")
        top = [self.badge, self.control_box(columns), *header, self.status.widget]
        bottom = [self.export.widget] if self.export is not None else []
        # the readout goes above the views, unless the dashboard placed it among them
        lead = [readout] if readout is not None and readout not in views else []
        return Dashboard([*top, *lead, *views, *bottom],
                         controls={**self.controls, **(extra_controls or {}), **self.buttons},
                         figures=figures, status=self.status, runner=self.runner, readout=readout, panel=self)
