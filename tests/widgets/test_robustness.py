"""Robustness gates over every dashboard of every notebook, found by walking `widgets.dashboards`.

- sweep: every control at its minimum, maximum, default and three seeded random values → no error on screen,
  no NaN/inf in any figure, every training run ends done, stopped or with its divergence explained;
- burst: 50 quick changes of a training control → one training thread, and the last run drawn is the last value's;
  five bursts in a row do not grow the process's memory;
- determinism: the shortest run, trained twice, gives identical costs on the CPU.

Dashboards are found, never listed: a module that lands in `widgets/dashboards/` is gated from then on, and one
that fails to import fails the gates. Run `pytest -s tests/widgets/test_robustness.py` to see the counts.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import math
import pkgutil
import random
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator

import ipywidgets as W
import numpy as np
import psutil
import pytest
from ipywidgets.widgets.widget_selection import _MultipleSelection, _Selection

import widgets.dashboards
from widgets.runner import Runner

RUN_BUDGET = 0.5  # seconds a training run may go on in the sweep before Stop is pressed
SETTLE_TIMEOUT = 120.0  # generous: a stopped run ends within a step; 2 busy cores can make a step slow
RANDOM_VALUES = 3
TEXT_SAMPLES = ("king", "qzxvbwy", "")  # a known word, an unknown one, a cleared box
DIVERGENCE = re.compile(r"Cost (grew to .+|became (NaN|infinite)) at step \d+")
STEP_CONTROL = re.compile(r"(iteration|epoch|step|examples|budget)s?$")  # num_epochs, detector_steps, search_budget…
JOB_PREFIX = "lab-job-"
BURST_CHANGES, BURST_SECONDS = 50, 2.0
MEMORY_BURSTS, MEMORY_LIMIT_MB = 5, 50.0


# ----------------------------------------------------------------------------------------------- finding them

def dashboard_modules() -> list[str]:
    """Every public module of `widgets.dashboards`, without importing it (collection must not fail on one)."""
    return sorted(info.name for info in pkgutil.iter_modules(widgets.dashboards.__path__)
                  if not info.name.startswith("_"))


def dashboard_functions(module_name: str) -> list[tuple[str, callable]]:
    """The public `*_dashboard` callables a dashboards module defines; importing it may raise, and that fails."""
    module = importlib.import_module(f"widgets.dashboards.{module_name}")
    found = [(name, value) for name, value in vars(module).items()
             if name.endswith("_dashboard") and not name.startswith("_") and callable(value)
             and getattr(value, "__module__", module.__name__) == module.__name__]
    return sorted(found, key=lambda item: inspect.getsourcelines(item[1])[1] if inspect.isfunction(item[1]) else 0)


def all_dashboards(failures: list[str]) -> Iterator[tuple[str, callable]]:
    """(module.function, function) for every dashboard; a module that fails to import is recorded in `failures`."""
    modules = dashboard_modules()
    if not modules:
        failures.append("widgets.dashboards holds no module")
    for module_name in modules:
        try:
            functions = dashboard_functions(module_name)
        except Exception:
            failures.append(f"widgets.dashboards.{module_name} fails to import:\n{traceback.format_exc()}")
            continue
        if not functions:
            failures.append(f"widgets.dashboards.{module_name} defines no public *_dashboard function")
        for name, function in functions:
            yield f"{module_name}.{name}", function


def build(name: str, function, failures: list[str]):
    """The dashboard, called with no arguments; an exception is a failure of that dashboard."""
    try:
        return function()
    except Exception:
        failures.append(f"{name}(): building it raised:\n{traceback.format_exc()}")
        return None


# ----------------------------------------------------------------------------------------------- settling

def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(JOB_PREFIX) and t.is_alive()]


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def press(dashboard, name: str) -> None:
    dashboard.controls[name].click()


def stop_and_wait(dashboard) -> bool:
    """Press Stop (the runner's stop where there is no Stop button); True once every training thread has ended."""
    if "stop" in dashboard.controls:
        press(dashboard, "stop")
    else:
        dashboard.runner.stop()
    return dashboard.runner.wait(SETTLE_TIMEOUT) and wait_for(lambda: not job_threads(), SETTLE_TIMEOUT)


def trains(dashboard) -> bool:
    """A training dashboard: its `runner` is a `widgets.runner.Runner`. (A view may keep another background job
    there, e.g. a timing thread with a `wait()`: it is waited for, not treated as training.)"""
    return isinstance(dashboard.runner, Runner)


def settle(dashboard, budget: float = RUN_BUDGET) -> bool:
    """Let a training run go on for at most `budget` seconds, then Stop; True once no training thread is left."""
    if dashboard.runner is None:
        return True
    if not trains(dashboard):
        return dashboard.runner.wait(SETTLE_TIMEOUT)
    if dashboard.runner.wait(budget) and wait_for(lambda: not job_threads(), budget):
        return True
    return stop_and_wait(dashboard)


# ----------------------------------------------------------------------------------------------- what the screen shows

def walk_widgets(widget) -> Iterator[W.Widget]:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk_widgets(child)


def non_finite(value) -> int:
    """How many NaN/inf numbers `value` holds that the browser cannot draw, nested lists and arrays included: in JSON
    either voids the whole message. None and text are fine, and so is NaN in a 1-D float array, which plotly's
    widget serializer sends as a binary buffer (a heatmap's rows, `set_heatmap_z`): there NaN draws a gap, while
    ±inf would still stretch an axis or a colour scale to infinity."""
    if value is None or isinstance(value, (str, bytes)):
        return 0
    if isinstance(value, (bool, np.bool_)):
        return 0
    if isinstance(value, (int, float, np.number)):
        return 0 if math.isfinite(float(value)) else 1
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.dtype.kind == "f":
            return int(np.isinf(value).sum())
        if value.dtype.kind in "fc":
            return int((~np.isfinite(value)).sum())
        if value.dtype.kind == "O":
            return sum(non_finite(v) for v in value.ravel())
        return 0
    if isinstance(value, dict):
        return sum(non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(non_finite(v) for v in value)
    return 0


def screen_problems(dashboard) -> list[str]:
    """Errors on screen and non-finite numbers in figures."""
    problems = []
    for widget in walk_widgets(dashboard):
        value = getattr(widget, "value", None)
        if isinstance(value, str) and "lab-status-error" in value:
            problems.append(f"{type(widget).__name__} shows an error: {re.sub(r'<[^>]+>', '', value)[:300]!r}")
    if dashboard.status is not None and dashboard.status.kind == "error":
        problems.append(f"status line is an error: {dashboard.status.text[:300]!r}")
    last_error = getattr(dashboard.runner, "last_error", None)
    if last_error is not None:
        problems.append(f"runner.last_error: …{last_error[-600:]}")
    for figure_name, figure in dashboard.figures.items():
        for i, trace in enumerate(figure.data):
            for axis in ("x", "y", "z"):
                bad = non_finite(getattr(trace, axis, None)) if axis in trace else 0
                if bad:
                    problems.append(f"figure {figure_name!r} trace {i} ({trace.name or trace.meta!r}) "
                                    f"has {bad} non-finite {axis} value(s)")
    return problems


def refused(dashboard) -> bool:
    """The latest run ended without a single event: the dashboard declined to train it."""
    panel = dashboard.panel
    return panel is not None and panel.run is not None and not panel.run.histories and not dashboard.runner.running


def ending_kind(dashboard, idle_text: str) -> str:
    status = dashboard.status
    if status.kind == "success":
        return "finished"
    if status.kind == "warning":
        return "diverged" if DIVERGENCE.search(status.text) else "refused, with a reason"
    return "idle" if status.text == idle_text else "stopped"


def ending_problem(dashboard, idle_text: str) -> str | None:
    """A training view must end done, stopped or with an explained divergence; or be idle, before any run; or
    have declined to train with a reason on the status line."""
    status = dashboard.status
    if status is None:
        return "training dashboard without a status line"
    kind, text = status.kind, status.text
    if kind == "success":
        return None
    if kind == "info" and (text.startswith("Stopped") or text == idle_text):
        return None
    if kind == "warning" and DIVERGENCE.search(text):
        return None
    if kind == "warning" and text and refused(dashboard):
        return None  # the run trained nothing and the status line says why (e.g. no points to learn from)
    return f"ended with status {kind}: {text[:300]!r}"


# ----------------------------------------------------------------------------------------------- sweep values

def _on_grid(low: float, high: float, step: float | None, value: float) -> float:
    if step:
        value = low + round((value - low) / step) * step
    return float(min(max(round(value, 12), low), high))


def sweep_values(widget, rng: random.Random) -> list | None:
    """Minimum, maximum, three random values and the default, last so that the control ends where it began.
    None for buttons; an unknown kind of control fails, so that a new one is not silently left out."""
    default = widget.value if hasattr(widget, "value") else None
    if isinstance(widget, W.Button):
        return None
    if isinstance(widget, (W.Checkbox, W.ToggleButton)):
        return [not default, default]
    if isinstance(widget, _Selection):
        n = len(widget.options)
        indices = [0, n - 1, *(rng.randrange(n) for _ in range(RANDOM_VALUES)), widget.index]
        return [("index", i) for i in indices]
    if isinstance(widget, _MultipleSelection):
        n = len(widget.options)
        picks = [(0,), (n - 1,), *(tuple(sorted(rng.sample(range(n), rng.randint(1, n)))) for _ in range(3))]
        return [("index", p) for p in [*picks, widget.index]]
    if isinstance(widget, (W.Text, W.Textarea, W.Combobox, W.Password)):
        return [*TEXT_SAMPLES, default]
    if isinstance(widget, (W.FloatRangeSlider, W.IntRangeSlider)):
        low, high = widget.min, widget.max
        pairs = [(low, low), (high, high), (low, high)]
        for _ in range(RANDOM_VALUES):
            a, b = sorted(_on_grid(low, high, widget.step, rng.uniform(low, high)) for _ in range(2))
            pairs.append((int(a), int(b)) if isinstance(widget, W.IntRangeSlider) else (a, b))
        return [*pairs, default]
    if isinstance(widget, W.FloatLogSlider):
        base, low, high, step = widget.base, widget.min, widget.max, widget.step
        exponents = [low, high, *(_on_grid(low, high, step, rng.uniform(low, high)) for _ in range(RANDOM_VALUES))]
        # ipywidgets clamps the value into [base**min, base**max]; a bound must round-trip within that range
        values = [min(max(base ** e, base ** low), base ** high) for e in exponents]
        return [*values, default]
    if hasattr(widget, "min") and hasattr(widget, "max") and isinstance(default, (int, float)):
        low, high, step = widget.min, widget.max, getattr(widget, "step", None)
        randoms = [_on_grid(low, high, step, rng.uniform(low, high)) for _ in range(RANDOM_VALUES)]
        if isinstance(default, int):
            randoms = [int(round(v)) for v in randoms]
        return [low, high, *randoms, default]
    if isinstance(widget, (W.IntText, W.FloatText)):  # an unbounded number box: a few ordinary numbers
        randoms = [rng.randint(-10, 10) for _ in range(RANDOM_VALUES)]
        return [0, 1, *(randoms if isinstance(default, int) else [float(v) for v in randoms]), default]
    raise AssertionError(f"the sweep has no values for a {type(widget).__name__}: teach sweep_values about it")


def apply(widget, setting) -> bool:
    """Set a control as a learner would; False when the setting equals what it shows (no change, nothing sent)."""
    if isinstance(setting, tuple) and len(setting) == 2 and setting[0] == "index":
        if widget.index == setting[1]:
            return False
        widget.index = setting[1]
        return True
    if widget.value == setting:
        return False
    widget.value = setting
    return True


def shown(widget, setting) -> str:
    if isinstance(setting, tuple) and len(setting) == 2 and setting[0] == "index":
        return f"{widget.value!r} (option {setting[1]})"
    return repr(setting)


# ----------------------------------------------------------------------------------------------- the sweep

SWEEP_TOTALS: dict[str, tuple[int, int, int, float]] = {}  # module → dashboards, controls, settings, seconds
ENDINGS: Counter = Counter()  # how the training views' settings ended: finished, stopped, diverged, idle


@pytest.fixture(scope="module")
def sweep_summary():
    yield SWEEP_TOTALS
    if SWEEP_TOTALS:
        d, c, s, t = (sum(v[i] for v in SWEEP_TOTALS.values()) for i in range(4))
        endings = ", ".join(f"{n} {kind}" for kind, n in ENDINGS.most_common())
        print(f"\nsweep: {d} dashboards, {c} controls, {s} settings in {t:.0f} s "
              f"({len(SWEEP_TOTALS)} modules: {', '.join(sorted(SWEEP_TOTALS))}; training settings ended: {endings})")


def sweep_dashboard(name: str, dashboard, failures: list[str]) -> tuple[int, int]:
    """Sweep every control of one dashboard; returns (controls swept, settings applied)."""
    idle_text = dashboard.status.text if dashboard.status is not None else ""
    controls = settings = 0
    for control_name, widget in dashboard.controls.items():
        try:
            values = sweep_values(widget, random.Random(f"{name}.{control_name}"))
        except AssertionError as error:
            failures.append(f"{name} · {control_name}: {error}")
            continue
        if values is None:
            continue
        controls += 1
        for setting in values:
            run = dashboard.panel.run if dashboard.panel is not None else None
            try:
                changed = apply(widget, setting)
            except Exception as error:  # the widget itself refused the value: a bound it does not accept
                failures.append(f"{name} · {control_name} = {setting!r}: setting it raised {error!r}")
                continue
            if not changed:
                continue
            settings += 1
            where = f"{name} · {control_name} = {shown(widget, setting)}"
            panel = dashboard.panel
            if panel is not None and control_name in panel.controls and panel.run is run:
                press(dashboard, "train")  # a Train-only dashboard: its training controls start no run
            if not settle(dashboard):
                failures.append(f"{where}: the run did not end within {SETTLE_TIMEOUT:.0f} s of Stop "
                                f"(threads alive: {[t.name for t in job_threads()]})")
                return controls, settings
            failures.extend(f"{where}: {problem}" for problem in screen_problems(dashboard))
            if trains(dashboard):
                problem = ending_problem(dashboard, idle_text)
                if problem:
                    failures.append(f"{where}: {problem}")
                else:
                    ENDINGS[ending_kind(dashboard, idle_text)] += 1
    return controls, settings


@pytest.mark.parametrize("module_name", dashboard_modules())
def test_sweep_every_control_of_every_dashboard(module_name, sweep_summary):
    failures: list[str] = []
    started = time.perf_counter()
    try:
        functions = dashboard_functions(module_name)
    except Exception:
        pytest.fail(f"widgets.dashboards.{module_name} fails to import:\n{traceback.format_exc()}")
    assert functions, f"widgets.dashboards.{module_name} defines no public *_dashboard function"
    dashboards = controls = settings = 0
    for function_name, function in functions:
        name = f"{module_name}.{function_name}"
        dashboard = build(name, function, failures)
        if dashboard is None:
            continue
        dashboards += 1
        c, s = sweep_dashboard(name, dashboard, failures)
        controls, settings = controls + c, settings + s
        if trains(dashboard) and not stop_and_wait(dashboard):
            failures.append(f"{name}: training threads still alive after Stop: {[t.name for t in job_threads()]}")
    seconds = time.perf_counter() - started
    sweep_summary[module_name] = (dashboards, controls, settings, seconds)
    print(f"\nsweep {module_name}: {dashboards} dashboards, {controls} controls, {settings} settings "
          f"in {seconds:.1f} s")
    assert settings > 0, f"{module_name}: the sweep set no control at all"
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures[:40])


# ----------------------------------------------------------------------------------------------- burst

def training_dashboards(failures: list[str]) -> Iterator[tuple[str, object]]:
    """Every dashboard that trains (has a runner), built; one that trains without a TrainingPanel is a failure,
    since the gates read the latest run from `panel.run`."""
    found = 0
    for name, function in all_dashboards(failures):
        dashboard = build(name, function, failures)
        if dashboard is None or not trains(dashboard):
            continue
        found += 1
        if dashboard.panel is None:
            failures.append(f"{name}: trains (has a runner) but has no TrainingPanel (dashboard.panel is None)")
            continue
        yield name, dashboard
    if not found:
        failures.append("no training dashboard found")


def first_slider(dashboard) -> tuple[str, W.Widget] | None:
    """The first slider among the controls that start a run (the panel's own controls)."""
    for name, widget in dashboard.panel.controls.items():
        if isinstance(widget, (W.IntSlider, W.FloatSlider, W.FloatLogSlider)):
            return name, widget
    return None


def burst_values(widget) -> list:
    """50 values that alternate between two points of the slider and end on one that differs from the start."""
    if isinstance(widget, W.FloatLogSlider):
        low, high = widget.base ** widget.min, widget.base ** widget.max
        middle = widget.base ** _on_grid(widget.min, widget.max, widget.step, (widget.min + widget.max) / 2)
    else:
        low, high = widget.min, widget.max
        middle = _on_grid(low, high, widget.step, (low + high) / 2)
        if isinstance(widget, W.IntSlider):
            middle = int(middle)
    start = widget.value
    final = low if not math.isclose(low, start) else middle  # the low end: the shortest or calmest run
    other = next(v for v in (high, middle, low) if not math.isclose(v, start) and not math.isclose(v, final))
    return [other, final] * (BURST_CHANGES // 2)


def set_and_train(dashboard, widget, value) -> None:
    """Set a training control; where its change does not start a run (a Train-only dashboard), press Train."""
    run = dashboard.panel.run
    widget.value = value
    if dashboard.panel.run is run:
        press(dashboard, "train")


def burst(dashboard, name: str, widget) -> tuple[object, float, list]:
    """Move `widget` through the burst's values within about BURST_SECONDS; returns the final value, the seconds
    it took and the runner's jobs the burst started (recorded as `runner.start` makes them)."""
    runner, jobs = dashboard.runner, []

    def recording_start(*args, **kwargs):
        Runner.start(runner, *args, **kwargs)
        jobs.append(runner._job)

    values = burst_values(widget)
    runner.start = recording_start
    try:
        began = time.perf_counter()
        for i, value in enumerate(values):
            set_and_train(dashboard, widget, value)
            pause = began + (i + 1) * BURST_SECONDS / len(values) - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        seconds = time.perf_counter() - began
    finally:
        del runner.start
    return widget.value, seconds, jobs


def burst_problems(name: str, dashboard) -> list[str]:
    found = first_slider(dashboard)
    if found is None:
        return [f"{name}: no slider among the training controls {list(dashboard.panel.controls)}"]
    control_name, widget = found
    problems = []
    if not wait_for(lambda: not job_threads(), SETTLE_TIMEOUT):
        problems.append(f"{name}: training threads alive before the burst: {[t.name for t in job_threads()]}")
    final, seconds, jobs = burst(dashboard, control_name, widget)
    where = f"{name} · burst of {BURST_CHANGES} changes of {control_name!r} in {seconds:.1f} s ending on {final!r}"
    if len(jobs) != BURST_CHANGES:
        problems.append(f"{where}: {len(jobs)} runs started, not one per change")
    live = [job for job in jobs[:-1] if not job.cancel.is_set()]
    if live:  # latest wins: every run but the last was cancelled by the next one
        problems.append(f"{where}: {len(live)} superseded run(s) were not cancelled: {[j.number for j in live]}")
    # settled: every cancelled run has noticed and ended, at most the final run trains on
    for job in jobs[:-1]:
        if job.thread is not None:
            job.thread.join(SETTLE_TIMEOUT)
    alive = job_threads()
    if len(alive) > 1:
        problems.append(f"{where}: {len(alive)} training threads alive after settling: {[t.name for t in alive]}")
    panel = dashboard.panel
    run = panel.run
    if run is None or run.config.get(control_name) != final:
        got = None if run is None else run.config.get(control_name)
        problems.append(f"{where}: the latest run was started with {control_name}={got!r}, not {final!r}")
    elif panel.costs is not None:
        # the final run draws its curve with its first step; wait for that drawing (or for the run's end). Not for
        # its first step in the history: the job thread records a push's steps and then draws them, so a check
        # between the two saw steps and no curve (fresh-clone CI, detector dashboard).
        def final_drawn() -> bool:
            drawn = panel.costs.labels  # oldest first, as the legend lists them
            return bool(drawn) and drawn[-1] in (run.histories or {run.label: None})
        wait_for(lambda: final_drawn() or not dashboard.runner.running, SETTLE_TIMEOUT)
        drawn = panel.costs.labels
        if not final_drawn():
            problems.append(f"{where}: the cost view's newest line is {drawn[-1] if drawn else None!r}, "
                            f"not the final run's ({list(run.histories) or run.label!r})")
    if not stop_and_wait(dashboard):
        problems.append(f"{where}: training threads alive after Stop: {[t.name for t in job_threads()]}")
    problems.extend(f"{where}: {problem}" for problem in screen_problems(dashboard))
    print(f"\n  {where}: {len(alive)} thread(s) after settling, latest run {run.label if run else None!r}")
    return problems


def test_a_burst_of_changes_leaves_one_run_and_draws_the_last_value():
    failures: list[str] = []
    bursts = 0
    started = time.perf_counter()
    for name, dashboard in training_dashboards(failures):
        began = time.perf_counter()
        failures.extend(burst_problems(name, dashboard))
        print(f"  ({time.perf_counter() - began:.1f} s)", end="")
        bursts += 1
    print(f"\nburst: {bursts} training dashboards in {time.perf_counter() - started:.1f} s")
    assert bursts > 0
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures[:40])


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def test_bursts_in_a_row_do_not_grow_memory():
    from widgets.dashboards.logistic_regression import learning_rate_dashboard

    dashboard = learning_rate_dashboard()
    assert burst_problems("logistic_regression.learning_rate_dashboard (warm-up)", dashboard) == []
    before = rss_mb()
    problems = []
    for i in range(MEMORY_BURSTS):
        problems += burst_problems(f"logistic_regression.learning_rate_dashboard (burst {i + 1})", dashboard)
    grown = rss_mb() - before
    print(f"\nmemory: {MEMORY_BURSTS} bursts grew RSS by {grown:.1f} MB (from {before:.0f} MB)")
    assert problems == []
    assert grown < MEMORY_LIMIT_MB, f"{MEMORY_BURSTS} bursts grew the RSS by {grown:.1f} MB"


# ----------------------------------------------------------------------------------------------- determinism

def step_control(dashboard) -> tuple[str, W.Widget] | None:
    for name, widget in dashboard.panel.controls.items():
        if isinstance(widget, W.IntSlider) and STEP_CONTROL.search(name):
            return name, widget
    return None


def costs_of(run) -> dict[str, list]:
    """label → costs, NaN spelled out so that two diverged runs compare equal."""
    return {label: ["nan" if c != c else c for c in history.costs] for label, history in run.histories.items()}


def train_once(dashboard) -> tuple[bool, object]:
    press(dashboard, "train")
    ended = dashboard.runner.wait(SETTLE_TIMEOUT) and wait_for(lambda: not job_threads(), SETTLE_TIMEOUT)
    return ended, dashboard.panel.run


# Dashboards whose runs record trial results, not a cost per step; their reproducibility is tested where the
# results are made (lab 08: the same seeds, the same dev errors on a local pool and on Dask, tests/test_search.py).
NO_COST_HISTORY = {"hyperparameter_search.hyperparameter_search_dashboard"}


def determinism_problems(name: str, dashboard) -> list[str]:
    if name in NO_COST_HISTORY:
        return []
    found = step_control(dashboard)
    if found is None:
        return [f"{name}: no whole-number step-count control among {list(dashboard.panel.controls)}"]
    control_name, widget = found
    where = f"{name} · {control_name}={widget.min}"
    widget.value = widget.min  # starts a run of its own: let it end
    if not (dashboard.runner.wait(SETTLE_TIMEOUT) and wait_for(lambda: not job_threads(), SETTLE_TIMEOUT)):
        return [f"{where}: the run did not end within {SETTLE_TIMEOUT:.0f} s"]
    (ended_1, run_1), (ended_2, run_2) = train_once(dashboard), train_once(dashboard)
    problems = []
    if not (ended_1 and ended_2):
        problems.append(f"{where}: a run did not end within {SETTLE_TIMEOUT:.0f} s")
    elif run_1 is run_2 or not run_1.finished or not run_2.finished:
        problems.append(f"{where}: Train did not give two finished runs "
                        f"(status {dashboard.status.kind}: {dashboard.status.text!r})")
    else:
        first, second = costs_of(run_1), costs_of(run_2)
        if not first or not all(first.values()):
            problems.append(f"{where}: the run recorded no costs: {first}")
        elif first != second:
            differing = [label for label in first.keys() | second.keys() if first.get(label) != second.get(label)]
            label = sorted(differing)[0]
            a, b = first.get(label, []), second.get(label, [])
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            problems.append(f"{where}: two runs differ ({len(differing)} of {len(first)} histories); {label!r} "
                            f"first at step {at + 1}: {a[at:at + 1]} vs {b[at:at + 1]} (lengths {len(a)}, {len(b)})")
    problems.extend(f"{where}: {problem}" for problem in screen_problems(dashboard))
    if not problems:
        first = costs_of(run_1)
        print(f"\n  {where}: {len(first)} histories × {[len(c) for c in first.values()]} costs, identical twice")
    return problems


def test_the_same_settings_train_the_same_costs_twice():
    failures: list[str] = []
    checked = 0
    started = time.perf_counter()
    for name, dashboard in training_dashboards(failures):
        began = time.perf_counter()
        failures.extend(determinism_problems(name, dashboard))
        print(f"  ({time.perf_counter() - began:.1f} s)", end="")
        checked += 1
    print(f"\ndeterminism: {checked} training dashboards in {time.perf_counter() - started:.1f} s")
    assert checked > 0
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures[:40])
