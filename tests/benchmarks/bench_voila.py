"""Voilà performance of the lab, measured in headless Chromium (a script, not a test: it prints, never asserts).

    .venv/bin/python tests/benchmarks/bench_voila.py [--loads 3] [--moves 30] [--runs 4] [--notebooks 01_....ipynb]
        [--navigation-only] [--voila-arg=--VoilaConfiguration.progressive_rendering=True ...] [--voila-config F]
        [--fresh-jupyterlab SECONDS [--without-binder-start]] [--back-to-back]

(a) navigation: from the request to an interactive dashboard (last widget drawn and the kernel idle), per
    notebook, median of --loads loads in fresh browser contexts (a first visit each time);
(b) control → updated plot for the views that don't train (VIEW_CASES: 01's photo, sigmoid and direction,
    02's graph and ε, 03's z, 06's dev shift, 10's logits and temperature, 12's filter editor, 14's IoU explorer
    and NMS thresholds, 09's unit and seed, 13's 1 × 1 sliders and dev digit, 17's sequence length and init
    factor), p50/p95 over --moves real key
    presses, timed in the page from the keydown to the first change of the dashboard's plots; a bare one-slider
    + one-FigureWidget notebook gives the floor;
(c) a change that starts training → the first point of the new run on its plot (TRAINING_CASES: 01, 03, 04,
    05, 06, 07, 09, 10, 13, 14, 17, 18), --runs changes each, every run stopped with its dashboard's Stop button before
    the next;
(d) the kernel's peak memory (VmHWM of the kernel process) per notebook.
Each load also prints `machine_cpu`: the CPU seconds of every process on the machine from the request until the
page had been quiet for 2 s (kernel, server, browser, a spare being made).
With --back-to-back, (a) times a second page of each lab, opened as soon as the first (which took the spare
kernel) is interactive: the page that finds no spare ready (widgets/warm_kernels.py).
With --fresh-jupyterlab, only (a), Binder's way: each visit is the first page of a JupyterLab server started for
it (Voilà as its extension), SECONDS after the server started; through binder/start, as Binder starts it (which starts
the kernel template before the server), unless --without-binder-start (as the README's JupyterLab command does).

Targets (issues 2–4, 9): (a) ≤ 4 s, (b) p95 ≤ 100 ms, (c) ≤ 250 ms, (d) ≤ 1.5 GB. Runs on whatever CPUs the
machine has; `taskset -c 0,1 …` pins it to two cores. Other load on the machine inflates every number: the
load average is printed with the results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from control_timing import percentile  # noqa: E402
from lab_servers import ROOT, jupyterlab_server, launch_chromium, notebook_names, voila_server  # noqa: E402

TARGETS = {"navigation_s": 4.0, "view_p95_ms": 100.0, "first_point_ms": 250.0, "memory_gb": 1.5}
FILTER_CELL = "filter cell"  # the first number box of 12's 3×3 filter editor, not a slider


@dataclass(frozen=True)
class Case:
    notebook: str
    control: str  # a slider's label, FILTER_CELL, or "Train" (the button)
    plot: str = ""  # title prefix of the plot timed; also picks the dashboard when labels repeat on a page
    prepare: str = ""  # "train briefly": a short detector training first, so there are predictions to threshold
    keys: tuple[str, str] = ("ArrowRight", "ArrowLeft")  # one move up, one move down
    from_start: bool = False  # press Home first: wander up from the slider's low end


VIEW_CASES = [
    Case("01_logistic_regression.ipynb", "Training photo #"),
    Case("01_logistic_regression.ipynb", "z = wᵀx + b"),
    Case("01_logistic_regression.ipynb", "Random direction d (seed)"),
    Case("12_convolutions.ipynb", FILTER_CELL),
    Case("14_object_detection_yolo.ipynb", "Box B: left edge x"),
    # thresholds move 0.05 a press (PageUp) from 0: moves of 0.01 at the default 0.6 often change no box at all
    Case("14_object_detection_yolo.ipynb", "Score threshold", prepare="train briefly", keys=("PageUp", "PageDown"),
         from_start=True),
    Case("14_object_detection_yolo.ipynb", "IoU threshold (NMS)", prepare="train briefly",
         keys=("PageUp", "PageDown"), from_start=True),
    Case("02_computation_graph_backprop.ipynb", "b", "Computation graph of J"),
    Case("02_computation_graph_backprop.ipynb", "Step ε", "Relative difference per parameter"),
    Case("03_activations_shallow_network.ipynb", "z", "The activation g(z)"),
    Case("06_input_normalization.ipynb", "Dev-set shift of x₂ (training σ's)", "Dev set normalized with the training"),
    Case("10_softmax_multiclass.ipynb", "Logit z₁", "Probabilities a = softmax"),
    Case("10_softmax_multiclass.ipynb", "Temperature T", "Probabilities a = softmax"),
    Case("09_batch_normalization.ipynb", "Unit j of the first hidden layer"),
    Case("09_batch_normalization.ipynb", "Seed (which digits, which weights)"),
    Case("13_cnn_architectures.ipynb", "Input channels n_C", "Multiplications:"),
    Case("13_cnn_architectures.ipynb", "Filter size f", "Multiplications:"),
    Case("13_cnn_architectures.ipynb", "Dev digit #", "Layer 1: 6 feature maps"),
    Case("15_face_verification.ipynb", "Threshold τ", "ROC curve"),
    Case("15_face_verification.ipynb", "Triplet shown", "Embeddings of"),
    Case("17_sequence_models.ipynb", "Sequence length T", "How much of the last step's gradient"),
    Case("17_sequence_models.ipynb", "Init factor", "How much of the last step's gradient"),
]
TRAINING_CASES = [
    Case("01_logistic_regression.ipynb", "Learning rate α", "Cost J on the training photos"),
    Case("04_deep_networks_initialization.ipynb", "Learning rate α", "Cost J on the training digits"),
    Case("05_bias_variance_regularization.ipynb", "L2 strength λ", "Error rate: train vs dev"),
    Case("07_optimization.ipynb", "Learning rate α", "Mini-batch cost J: update rules compared"),
    Case("14_object_detection_yolo.ipynb", "Train", "YOLO loss on each mini-batch"),
    Case("18_word_embeddings.ipynb", "Context window", "Skip-gram loss per mini-batch"),
    Case("03_activations_shallow_network.ipynb", "Learning rate α", "Cost J while training (runs overlaid)"),
    Case("06_input_normalization.ipynb", "Step size f (α = f / L)", "Cost J while training"),
    Case("10_softmax_multiclass.ipynb", "Learning rate α", "Cost J on the training digits"),
    Case("09_batch_normalization.ipynb", "Learning rate α", "Cost J on the training digits"),
    Case("13_cnn_architectures.ipynb", "Learning rate α", "Cost J on the training digits (runs overlaid"),
    Case("13_cnn_architectures.ipynb", "Layers L", "Cost J on the training digits: plain vs residual"),
    Case("08_hyperparameter_search.ipynb", "Train", "Dev error of every finished trial"),
    Case("11_ml_strategy.ipynb", "Hidden units (0 = softmax regression)", "Cost J of the 'is it a 9?' classifier"),
    Case("11_ml_strategy.ipynb", "Dev/test noise σ", "Cost J on the clean training digits"),
    Case("11_ml_strategy.ipynb", "Labelled 5–9 examples n", "Cost J while pre-training and fine-tuning"),
    Case("11_ml_strategy.ipynb", "Share of labels missing", "Cost J (summed over the labels present)"),
    Case("15_face_verification.ipynb", "Margin α", "Triplet loss per triplet"),
    Case("16_neural_style_transfer.ipynb", "Learning rate (Adam step on the pixels)", "Cost J of each run"),
    Case("16_neural_style_transfer.ipynb", "Image size (pixels, long side)", "J and its two parts"),
    Case("17_sequence_models.ipynb", "Distance T", "Cost J (cross-entropy) of each cell"),
    Case("17_sequence_models.ipynb", "Learning rate α", "Cost per letter on the training names"),
]

# Before any page script: remember when the last widget or plot changed.
TIMELINE_JS = """
window.__lab = {lastWidget: 0, firstWidget: 0};
new MutationObserver(mutations => {
  for (const m of mutations) {
    const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
    const added = Array.from(m.addedNodes).some(n => n.nodeType === 1
      && (n.matches('.jupyter-widgets, .js-plotly-plot') || n.querySelector('.jupyter-widgets, .js-plotly-plot')));
    if (added || (el && el.closest && el.closest('.jupyter-widgets, .js-plotly-plot'))) {
      window.__lab.lastWidget = performance.now();
      window.__lab.firstWidget ||= window.__lab.lastWidget;
      return;
    }
  }
}).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
"""

# Arms a timer: it starts at the next trusted keydown or click anywhere in the page and stops at the first
# change inside `plots` — any DOM change for a view, or for a training view the first point of a new run: a
# trace with points that is new, was empty, or got shorter (a run that restarts its traces). The promise is
# kept in window.__labTimer; Playwright then presses the key or clicks, and awaits it.
ARM_TIMER_JS = """([plots, firstPoint, limit]) => {
  const shape = () => new Map(plots.flatMap(gd => (gd.data || []).map(t => [t.uid, t.x ? t.x.length : 0])));
  const before = shape();
  const newPoint = () => Array.from(shape()).some(([uid, n]) => n > 0
    && (!before.has(uid) || before.get(uid) === 0 || n < before.get(uid)));
  window.__labTimer = new Promise(resolve => {
    let start = 0;
    const observer = new MutationObserver(() => {
      if (!start || (firstPoint && !newPoint())) return;
      observer.disconnect();
      resolve(performance.now() - start);
    });
    for (const p of plots) observer.observe(p, {childList: true, subtree: true, attributes: true});
    const begin = () => { start = start || performance.now(); };
    document.addEventListener('keydown', begin, {once: true, capture: true});
    document.addEventListener('click', begin, {once: true, capture: true});
    setTimeout(() => { observer.disconnect(); resolve(null); }, limit);
  });
}"""

BARE_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "bare", "metadata": {}, "outputs": [], "source": (
        "import ipywidgets as W\nimport plotly.graph_objects as go\n\n"
        "z = W.FloatSlider(description='z', min=-10, max=10, step=0.1, value=0.0)\n"
        "figure = go.FigureWidget(data=[go.Scatter(x=[0.0], y=[0.0], mode='markers')], layout={'height': 300})\n"
        "z.observe(lambda change: figure.data[0].update(x=[change['new']], y=[change['new'] ** 2]), names='value')\n"
        "W.VBox([z, figure])")}],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def fill_delay() -> float:
    """Seconds Voilà waits before it refills a preheated pool that a page took a kernel from (voila.json)."""
    config = json.loads((ROOT / "voila.json").read_text()).get("VoilaKernelManager", {})
    return float(config.get("fill_delay", 1.0))


def settle(limit: float = 60.0, idle_percent: float = 20.0) -> None:
    """Wait until the machine's CPUs are quiet (a refilling kernel pool, a finishing run)."""
    time.sleep(fill_delay() + 0.5)  # the refill has started by then
    end, quiet = time.monotonic() + limit, 0
    psutil.cpu_percent(None)
    while time.monotonic() < end and quiet < 2:
        quiet = quiet + 1 if psutil.cpu_percent(interval=0.5) < idle_percent else 0


def kernel_state(base: str, kernel_id: str) -> tuple[str, float]:
    with urllib.request.urlopen(f"{base}api/kernels/{kernel_id}", timeout=10) as response:
        model = json.load(response)
    activity = datetime.datetime.fromisoformat(model["last_activity"].replace("Z", "+00:00")).timestamp()
    return model["execution_state"], activity


def kernel_process(kernel_id: str) -> psutil.Process | None:
    """The kernel's process: its command names the kernel, or, for a spare handed to the page
    (widgets/warm_kernels.py), the spare's own name, which the kernel's connection file gives; a kernel forked
    from a template (widgets/kernel_template.py) has the template's command, and is found by its sockets."""
    names, ips, folder = [kernel_id], [], Path(tempfile.gettempdir())
    # Voilà keeps connection files in a temporary folder of its own; the test servers' runtime folder otherwise
    for connection_file in [*folder.glob(f"voila_*/kernel-{kernel_id}.json"),
                            *folder.glob(f"lab-voila-*/runtime/kernel-{kernel_id}.json")]:
        ip = json.loads(connection_file.read_text()).get("ip", "")
        names.append(Path(ip).name.removesuffix("-ipc"))  # ipc sockets are named after the spare
        ips.append(ip)
    for name in names:
        for process in psutil.process_iter(["cmdline"]):
            if any(name in part for part in process.info["cmdline"] or []):
                return process
    for template in psutil.process_iter(["cmdline"]):
        if "widgets.kernel_template" in (template.info["cmdline"] or []):
            for kernel in template.children():
                with contextlib.suppress(psutil.Error):
                    sockets = [c.laddr for c in kernel.net_connections(kind="unix")]
                    if any(ip and str(path).startswith(ip) for path in sockets for ip in ips):
                        return kernel
    return None


def peak_rss_gb(process: psutil.Process | None) -> float | None:
    """The process's high-water mark of resident memory (VmHWM), in GB."""
    if process is None:
        return None
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    return kb / 1024**2


def open_interactive(context, base: str, name: str, timeout: float = 180.0):
    """Load `name`, wait until it is interactive; returns (page, timings in s, kernel id)."""
    page = context.new_page()
    page.add_init_script(TIMELINE_JS)
    cpu_before = machine_cpu_seconds()
    page.goto(f"{base}voila/render/{name}", wait_until="commit", timeout=timeout * 1000)
    page.wait_for_function("!document.getElementById('loading') && document.getElementById('jupyter-config-data')",
                           timeout=timeout * 1000, polling=50)
    origin = page.evaluate("performance.timeOrigin") / 1000
    html_end = page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
    shown = page.evaluate("performance.now()") / 1000
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # quiet for 2 s: no widget changed and the kernel answered nothing
        timeline = page.evaluate("window.__lab")
        state, activity = kernel_state(base, kernel_id)
        now = time.time()
        last = origin + timeline["lastWidget"] / 1000
        quiet = now - last > 2.0 and now - activity > 2.0
        if state == "idle" and quiet and (timeline["lastWidget"] or now - origin > 20):
            break
        time.sleep(0.1)
    timings = {
        "html": html_end,
        "shown": shown,
        "first_widget": timeline["firstWidget"] / 1000,
        "last_widget": timeline["lastWidget"] / 1000,
        "kernel_idle": activity - origin,
    }
    timings["interactive"] = max(timings["last_widget"], timings["kernel_idle"], timings["shown"])
    # every process's CPU (kernel, server, browser, a spare being made) from the request to 2 s of quiet after it:
    # the work a page costs, which on a machine whose speed varies tells changes apart better than wall time
    timings["machine_cpu"] = machine_cpu_seconds() - cpu_before
    # when the page's head began loading plotly's code (widgets/page_head.py); absent without the lab's template
    head = page.evaluate("performance.getEntriesByName('dl-lab: plotly in the head')[0]?.startTime")
    if head is not None:
        timings["plotly_in_head"] = head / 1000
    # when the learner first saw something: Voilà's spinner, drawn from the page's head and body header
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime")
    if paint is not None:
        timings["first_paint"] = paint / 1000
    return page, timings, kernel_id


def machine_cpu_seconds() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system


def leave(context, page) -> None:
    """Leave the page as a learner does (its kernel is shut down: widgets/leave_page.py), then drop the context.
    Closing the context alone runs no unload handler, and every visited page's kernel stayed alive for the rest of
    the run, busy with whatever it had started."""
    with contextlib.suppress(Exception):  # a page that no longer answers has nothing to leave
        page.goto("about:blank", timeout=10_000)
    context.close()


def dashboard_of(page, case: Case):
    """(the dashboard's root VBox, the control to act on) for `case`."""
    boards = page.locator(".jp-OutputArea-output > .widget-vbox")
    if case.plot:
        boards = boards.filter(has=page.locator(".js-plotly-plot .gtitle", has_text=case.plot))
    if case.control == FILTER_CELL:
        board = boards.filter(has=page.locator(".widget-gridbox input")).first
        return board, board.locator(".widget-gridbox input").first
    if case.control == "Train":
        train = re.compile(r"^\s*(Train|Start search)\s*$")
        board = boards.filter(has=page.locator("button", has_text=train)).first
        return board, board.locator("button", has_text=train)
    label = page.locator("label.widget-label", has_text=re.compile(rf"^\s*{re.escape(case.control)}\s*$"))
    control = page.locator(".widget-slider", has=label)
    board = boards.filter(has=control).first  # the first on the page when two dashboards match
    return board, board.locator(".widget-slider", has=label).locator(".noUi-handle")


def timed_action(page, board, target, key: str | None, plot: str, first_point: bool, limit_ms: int) -> float | None:
    """Arm the timer on the dashboard's plots (or the one titled `plot`), press `key` on `target` or click it."""
    plots = board.locator(".js-plotly-plot")
    if plot:
        plots = plots.filter(has=page.locator(".gtitle", has_text=plot))
    target.scroll_into_view_if_needed()
    if key:
        target.focus()
    page.evaluate(ARM_TIMER_JS, [plots.element_handles(), first_point, limit_ms])
    if key:
        page.keyboard.press(key)
    else:
        target.click()
    return page.evaluate("window.__labTimer")


def wait_for_run_end(board, timeout_ms: int = 600_000) -> None:
    expect(board.locator(".lab-status")).to_contain_text(re.compile("Finished|Stopped|try a smaller|diverged"),
                                                         timeout=timeout_ms)


def prepare(page, case: Case) -> None:
    """Train 14's detector for 300 steps once (a minute or two), so its thresholds act on real predictions."""
    if case.prepare != "train briefly" or page.evaluate("window.__labTrained || false"):
        return
    board, train_button = dashboard_of(page, Case(case.notebook, "Train"))
    _, steps = dashboard_of(page, Case(case.notebook, "Training steps"))
    steps.focus()
    page.keyboard.press("Home")  # 50 steps, then 5 × 50 more
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    train_button.click()
    wait_for_run_end(board)
    page.evaluate("window.__labTrained = true")
    page.screenshot(path=str(ROOT / "test-artifacts" / "bench-detector-trained.png"), full_page=True)


def view_latencies(page, case: Case, moves: int) -> list[float]:
    """Key presses on the control; each timed to the first redraw of its dashboard's plots. Returns the times
    of the moves that redrew something."""
    board, target = dashboard_of(page, case)
    up, down = ("ArrowUp", "ArrowDown") if case.control == FILTER_CELL else case.keys
    if case.from_start:
        target.focus()
        page.keyboard.press("Home")
        page.wait_for_timeout(500)
    results = []
    for i in range(moves):
        key = up if (i // 5) % 2 == 0 else down  # wander back and forth
        # a move that changes nothing on the plot (no box crosses the threshold) is not timed: 3 s, then None
        latency = timed_action(page, board, target, key, "", False, 3_000)
        if latency is not None:
            results.append(latency)
        page.wait_for_timeout(300)  # let the update finish: one move at a time, not a queue
    return results


def first_point_latencies(page, case: Case, runs: int) -> list[float]:
    """Changes that start a run (a slider step, or the Train button), each timed to the run's first point;
    the run is then stopped with the dashboard's Stop button so the next change starts from a quiet kernel."""
    board, target = dashboard_of(page, case)
    stop_button = board.locator("button", has_text=re.compile(r"^\s*Stop\s*$"))
    results = []
    for i in range(runs):
        key = None if case.control == "Train" else ("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        latency = timed_action(page, board, target, key, case.plot, True, 30_000)
        if latency is not None:
            results.append(latency)
        with contextlib.suppress(Exception):
            stop_button.click()
            wait_for_run_end(board, 60_000)
        settle(20)
    return results


def row(name: str, value: float | None, unit: str, target: float | None) -> str:
    if value is None:
        return f"  {name:<58} {'—':>10}"
    ratio = f"{value / target:6.2f}× target ({target:g} {unit})" if target else ""
    return f"  {name:<58} {value:10.3g} {unit:<3} {ratio}"


def measure_floor(args, report: dict) -> None:
    """A bare notebook with one slider and one FigureWidget, served on its own: the floor for (a) and (b)."""
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp, ExitStack() as stack:
        (Path(tmp) / "bare.ipynb").write_text(json.dumps(BARE_NOTEBOOK))
        base = stack.enter_context(voila_server(*args.voila_arg, root=tmp, config=args.config,
                                                log_name="voila-bench-floor.log"))
        playwright = stack.enter_context(sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)
        settle()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page, timings, _ = open_interactive(context, base, "bare.ipynb")
        report["navigation"]["bare one-slider notebook (floor)"] = timings["interactive"]
        settle()
        report["views"]["bare one-slider notebook (floor)"] = view_latencies(page, Case("bare.ipynb", "z"), args.moves)
        leave(context, page)


def first_visits_in_fresh_jupyterlab(names: list[str], loads: int, after: float, binder_start: bool = True) -> None:
    """Binder's case: a fresh JupyterLab server (Voilà as its extension, binder/jupyter_server_config.json) per
    visit, the notebook opened in Voilà `after` seconds after the server answered (a learner's first look at the
    page), no other page before it. Prints each visit and the median per notebook."""
    medians = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name in names:
            times = []
            for _ in range(loads):
                with jupyterlab_server(log_name="jupyterlab-bench.log", binder_start=binder_start) as base:
                    time.sleep(after)
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page, timings, _kernel = open_interactive(context, base, name)
                    times.append(timings["interactive"])
                    print(f"  {name} (fresh JupyterLab, {after:.0f} s after it started): "
                          + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()), flush=True)
                    leave(context, page)
            medians[name] = statistics.median(times)
        browser.close()
    print("first notebook a fresh JupyterLab server opens in Voilà, median:")
    for name, seconds in medians.items():
        print(row(name, seconds, "s", TARGETS["navigation_s"]))


def machine_speed() -> str:
    """How fast this machine's CPU is, in two figures that can be compared between machines and sessions: the
    same numbers on a slower machine are slower pages, not slower code."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    loop = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    torch_import = time.perf_counter() - started
    return (f"{psutil.cpu_count()} CPUs; a Python loop of 10⁷ additions {loop:.2f} s, a new process's "
            f"`import torch` {torch_import:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=3, help="page loads per notebook for the navigation time")
    parser.add_argument("--moves", type=int, default=30, help="slider moves per view for the latency")
    parser.add_argument("--runs", type=int, default=4, help="changes per training view for the first-point latency")
    parser.add_argument("--notebooks", nargs="*", default=None, help="names in notebooks/ (default: all)")
    parser.add_argument("--voila-arg", action="append", default=[], help="extra option for voila, repeatable")
    parser.add_argument("--voila-config", type=Path, help="a voila.json to serve with (on top of the repo's own)")
    parser.add_argument("--navigation-only", action="store_true", help="only (a) and (d): no latencies, no floor")
    parser.add_argument("--back-to-back", action="store_true", help="navigation: time a second page of each lab "
                        "opened as soon as the first is interactive, before a new spare kernel is ready")
    parser.add_argument("--fresh-jupyterlab", type=float, metavar="SECONDS", default=None,
                        help="instead: each visit the first page of a fresh JupyterLab server, SECONDS in")
    parser.add_argument("--without-binder-start", action="store_true", help="with --fresh-jupyterlab: start the "
                        "server directly, not through binder/start (no kernel template before the server)")
    args = parser.parse_args()
    names = args.notebooks or notebook_names()
    unknown = sorted(set(names) - set(notebook_names()))
    if unknown:  # a misspelt name would be a 404 page waited on for minutes
        parser.error(f"no such notebooks in notebooks/: {unknown}")
    print(f"This machine: {machine_speed()}", flush=True)
    if args.fresh_jupyterlab is not None:
        first_visits_in_fresh_jupyterlab(names, args.loads, args.fresh_jupyterlab, not args.without_binder_start)
        return
    args.config = json.loads(args.voila_config.read_text()) if args.voila_config else None

    report: dict = {"navigation": {}, "memory": {}, "views": {}, "first_point": {}}
    load_before = os.getloadavg()
    with ExitStack() as stack:
        base = stack.enter_context(voila_server(*args.voila_arg, config=args.config, log_name="voila-bench.log"))
        playwright = stack.enter_context(sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)

        # (a) navigation and (d) memory, every notebook
        for name in names:
            runs, peaks = [], []
            for _ in range(args.loads):
                settle()
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page, timings, kernel_id = open_interactive(context, base, name)
                if args.back_to_back:  # the page above took the spare; this one opens before the next is ready
                    first = (context, page)
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page, timings, kernel_id = open_interactive(context, base, name)
                    leave(*first)
                peaks.append(peak_rss_gb(kernel_process(kernel_id)))
                runs.append(timings)
                print(f"  {name}: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()), flush=True)
                leave(context, page)
            report["navigation"][name] = statistics.median(t["interactive"] for t in runs)
            report["memory"][name] = max((p for p in peaks if p is not None), default=None)

        # (b), (c), and the memory of each notebook after it trained
        for name in [] if args.navigation_only else names:
            cases = [c for c in VIEW_CASES + TRAINING_CASES if c.notebook == name]
            if not cases:
                continue
            settle()
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page, _, kernel_id = open_interactive(context, base, name)
            process = kernel_process(kernel_id)
            for case in cases:
                prepare(page, case)
                settle()
                key = f"{name[:2]} · {case.control}"
                if case in VIEW_CASES:
                    values = report["views"][key] = view_latencies(page, case, args.moves)
                    print(f"  {key}: {len(values)} of {args.moves} moves redrew, "
                          f"p50 {percentile(values, 0.50):.0f} ms, p95 {percentile(values, 0.95):.0f} ms", flush=True)
                else:
                    values = report["first_point"][key] = first_point_latencies(page, case, args.runs)
                    print(f"  {key}: first point after {[round(v) for v in values]} ms", flush=True)
            peak = peak_rss_gb(process)
            if peak is not None:
                report["memory"][f"{name} (after its runs)"] = peak
            leave(context, page)

    if not args.navigation_only:
        measure_floor(args, report)

    load_after = os.getloadavg()
    print(f"\nDL Lab in Voilà — {psutil.cpu_count()} CPUs, load average {load_before[0]:.1f} → {load_after[0]:.1f}"
          f"{'  (busy machine: numbers inflated)' if max(load_before[0], load_after[0]) > psutil.cpu_count() else ''}")
    print("(a) navigation to an interactive dashboard, median")
    for name, value in report["navigation"].items():
        print(row(name, value, "s", TARGETS["navigation_s"]))
    print("(b) control → updated plot (views that don't train)")
    for label, values in report["views"].items():
        if values:
            print(row(f"{label}: p50", percentile(values, 0.50), "ms", None))
            print(row(f"{label}: p95", percentile(values, 0.95), "ms", TARGETS["view_p95_ms"]))
    print("(c) a change that starts training → the run's first point on its plot")
    for label, values in report["first_point"].items():
        if values:
            print(row(f"{label}: median", statistics.median(values), "ms", TARGETS["first_point_ms"]))
            print(row(f"{label}: worst", max(values), "ms", TARGETS["first_point_ms"]))
    print("(d) kernel peak memory (VmHWM)")
    for name, value in report["memory"].items():
        print(row(name, value, "GB", TARGETS["memory_gb"]))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
