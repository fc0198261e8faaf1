"""Runs training in a background thread so sliders and Stop stay responsive.

- Latest wins: starting a job cancels the one running; its late updates are dropped.
- Throttled: events are handed to the dashboard in batches, at most about four a second, no faster than the
  browser draws them (`ready`, see widgets/draw_pace.py), and taking at most a fifth of the run's time (a push
  runs in the job's thread: the dashboard's drawing of a long curve stops the training while it lasts), plus at
  once on the first step (or the first evaluation, for curves drawn from evaluations), on divergence and at the
  end, so a new run shows its first point quickly. A job that trains several models side by side pushes its first
  round whole (`lab.training.FirstRound`): every model's first point at once.
- Never silent: errors, divergence and cancellation are written to the status line.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lab.training import DivergedEvent, DoneEvent, EvalEvent, Event, FirstRound, StepEvent
from widgets.status import StatusLine

Item = tuple[str, Event]  # (run label, event)

# The most of a run's time that its routine pushes may take: after a push that took d seconds the job trains for at
# least 4·d before the next. A push's drawing in the browser costs the machine too when both share it: lab 01's
# 5,000 iterations took 0.8 s with a push a second, 2.9 s with ten (two plots of up to 5,000 points each) and 2.2 s
# with four, the default `interval`, in Voilà + Chromium on 2 cores.
PUSH_SHARE = 0.2


class Refusal(Exception):  # noqa: N818  (a refusal shown as a warning, not an error)
    """Raised by a job that will not train what it was given (too few points, one class only): the message says
    what is wrong and what to do, and is shown as a warning, not as an error."""
Work = Callable[[threading.Event], Iterator[Item]]


@dataclass
class _Job:
    number: int
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    diverged: dict[str, str] = field(default_factory=dict)  # run label → divergence message
    on_end: Callable[[], None] | None = None  # called once the work has ended, if no newer job replaced it
    last_batch: list[Item] = field(default_factory=list)  # what the status line last reported
    stopping_shown: bool = False  # "Stopping…" is on screen: the end must replace it
    ended: bool = False  # the work is over and its end reported: nothing is left to stop


def describe_metrics(metrics: dict[str, float]) -> str:
    """'train accuracy 97.3%, test accuracy 96.0%' for fractions; other numbers as they are."""
    return ", ".join(f"{name.replace('_', ' ')} {value:.1%}" if "accuracy" in name
                     else f"{name.replace('_', ' ')} {value:.4g}" for name, value in metrics.items())


class Runner:
    def __init__(self, status: StatusLine, on_batch: Callable[[list[Item]], None], *, device_text: str = "",
                 interval: float = 0.25, step_name: str = "iteration", plots_evaluations: bool = False,
                 ready: Callable[[], bool] = lambda: True):
        self.status, self.on_batch = status, on_batch
        self.device_text, self.interval = device_text, interval
        self.ready = ready  # False while the browser is still drawing the last push: routine pushes wait
        # a dashboard whose live curves are drawn from evaluations (train/dev error) gets its first one at once
        self.plots_evaluations = plots_evaluations
        self.step_name = step_name  # what one step of the loop is called on screen: "iteration", "step", "epoch"
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._job: _Job | None = None
        self._count = 0

    @property
    def running(self) -> bool:
        job = self._job
        return job is not None and job.thread is not None and job.thread.is_alive() and not job.cancel.is_set()

    def start(self, work: Work, description: str, setup: Callable[[], None] | None = None,
              on_end: Callable[[], None] | None = None) -> None:
        """Cancel whatever runs and start `work(cancel_flag)` in a new thread.

        `setup` (e.g. resetting the views for the new run) runs after the old job has lost the views,
        so none of its late updates can land in the new run's plots. `on_end` runs after the work's last
        events were handed over, unless a newer job has replaced this one or the work raised.
        """
        with self._lock:
            if self._job is not None:
                self._job.cancel.set()
            self._count += 1
            job = self._job = _Job(self._count, on_end=on_end)
            self.last_error = None
            if setup is not None:
                setup()
        where = f" on {self.device_text}" if self.device_text else ""
        self.status.show(f"Training {description}{where}…", "busy")
        job.thread = threading.Thread(target=self._run, args=(job, work), daemon=True, name=f"lab-job-{job.number}")
        job.thread.start()

    def stop(self) -> None:
        """Ask the running job to stop; the loop notices before its next step."""
        with self._lock:  # not while the job reports its end: its "Finished" must not be overwritten
            job = self._job
            if job is not None and not job.cancel.is_set():
                job.cancel.set()
                if not job.ended and job.thread is not None and job.thread.is_alive():
                    job.stopping_shown = True
                    self.status.show("Stopping…", "busy")

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the current job ends (for tests and scripts); True if it ended in time."""
        job = self._job
        if job is None or job.thread is None:
            return True
        job.thread.join(timeout)
        return not job.thread.is_alive()

    def _run(self, job: _Job, work: Work) -> None:
        batch: list[Item] = []
        last_push, evaluated, push_cost = 0.0, False, 0.0
        try:
            for item in work(job.cancel):
                batch.append(item)
                if isinstance(item, FirstRound):  # the other models' first points go out with this one
                    continue
                # At once: the first step, the first evaluation where the curves are drawn from evaluations,
                # a divergence and the end. Other evaluations wait for the next push like steps do: a loop that
                # evaluates every step would otherwise push every step.
                first_evaluation = self.plots_evaluations and not evaluated and isinstance(item[1], EvalEvent)
                evaluated = evaluated or first_evaluation
                urgent = last_push == 0.0 or first_evaluation or isinstance(item[1], (DivergedEvent, DoneEvent))
                gap = max(self.interval, push_cost * (1 - PUSH_SHARE) / PUSH_SHARE) if self.interval > 0 else 0.0
                if urgent or (time.perf_counter() - last_push >= gap and self.ready()):
                    began = time.perf_counter()
                    self._push(job, batch)
                    batch, last_push = [], time.perf_counter()
                    push_cost = last_push - began
            self._push(job, batch)
            with self._lock:
                job.ended = True
                if job is self._job and job.stopping_shown:  # Stop came after the last step: say how the run ended
                    if job.last_batch:
                        self._report(job, job.last_batch)
                    else:
                        self.status.show("Stopped before the first step.", "info")
                if job is self._job and job.on_end is not None:
                    job.on_end()
        except Refusal as refusal:
            with self._lock:
                if job is self._job:
                    job.ended = True
                    self.status.show(str(refusal), "warning")
        except Exception as error:  # shown on screen: Voilà would otherwise swallow it
            with self._lock:
                if job is self._job:
                    self.last_error = traceback.format_exc()
                    self.status.show(f"Error: {type(error).__name__}: {error}", "error")

    def _push(self, job: _Job, batch: list[Item]) -> None:
        with self._lock:
            if job is not self._job or not batch:
                return  # a newer job owns the views now
            self.on_batch(batch)
            self._report(job, batch)

    def _report(self, job: _Job, batch: list[Item]) -> None:
        job.last_batch = batch
        for label, event in batch:
            if isinstance(event, DivergedEvent):
                job.diverged[label] = event.message
        label, event = batch[-1]
        warnings = "; ".join(f"{run}: {message}" for run, message in job.diverged.items())
        if isinstance(event, StepEvent):
            self.status.show(f"Training {label}: {self.step_name} {event.step}, cost {event.cost:.4g}", "busy")
        elif isinstance(event, DoneEvent) and event.cancelled:
            self.status.show(f"Stopped {label} after {event.steps} {self.step_name}s.", "info")
        elif isinstance(event, DoneEvent) and label not in job.diverged:
            result = describe_metrics(event.metrics)
            text = (f"Finished {label}: {event.steps} {self.step_name}s in {event.seconds:.1f} s"
                    + (f" — {result}" if result else "") + ".")
            self.status.show(f"{text} But {warnings}" if warnings else text, "warning" if warnings else "success")
        elif warnings:
            self.status.show(warnings, "warning")
