"""Every slider of every lab, nudged the way a learner explores, timed in Voilà + headless Chromium (a script: it
prints a per-slider table, never asserts).

    .venv/bin/python tests/benchmarks/bench_sliders.py [--notebooks 03_....ipynb ...] [--json test-artifacts/F]

For each notebook: load it once (preheated, as served), then for every visible slider on the page, in page order:
focus its handle and press an arrow key 4 times, 250 ms apart, the same way (right; left at the slider's maximum), so
every press asks for a setting not seen on this slider before (nothing answered from a cache). Each press is timed
in the page from its keydown to:

- **view** (nothing trains): the first change of a plot of the slider's dashboard (or, on a dashboard whose plots
  did not change, of its other outputs: images, HTML tables — never the slider's own readout or the status line);
- **training** (the dashboard's status line went busy): the first point of a new run on its plots — a trace with
  points that is new, was empty, got shorter than at that keydown, or was taken over by a new run (its legend rank
  changed: a full cost plot gives a new run the oldest run's line) — counted for the latest press the kernel had
  answered by then (its run replaced the one before, whose pushes the runner drops). A run whose first points are
  those the plots already show (runs that differ only in length or in when they stop: "Iterations",
  "Early-stopping patience") changes no plot; its press is timed by the run's first progress on the status line,
  and the row says how many were ("by status").

Presses 250 ms apart overlap a slow update, which is the point: a press that waits behind the previous one's
redraw is timed with the wait included. A press that changes nothing (a slider at a step that redraws the same
picture) is not counted; for a view, neither is a press whose kernel reply carried no plot message (the page's
websocket frames are watched for that, `FRAMES_JS`): its plots had nothing to redraw, and the first change after it
would be the next press's. After the 4th press a training run is stopped with its Stop button, and the machine
left to settle before the next slider. Targets: p95 ≤ 100 ms for a view, ≤ 250 ms for a first point.

Some views only show something once a model exists: `PREPARE` trains those dashboards first (the Train buttons
on 11's page; 14's detector for 300 steps), as a learner would before moving their thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psutil
from bench_voila import Case, kernel_process, open_interactive, peak_rss_gb, prepare, wait_for_run_end
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from control_timing import percentile  # noqa: E402
from lab_servers import ARTIFACTS, ROOT, launch_chromium, notebook_names, voila_server  # noqa: E402

BUDGET_MS = {"view": 100.0, "training": 250.0}
PRESSES, GAP_MS = 4, 250
BOARD = ".jp-OutputArea-output > .widget-vbox"  # one dashboard: the root box of a cell's output
TRAIN_BUTTON = re.compile(r"^\s*Train\s*$")

# Which notebooks need a model before their views show anything, and how to get one.
PREPARE = {
    "11_ml_strategy.ipynb": "press every Train",
    "14_object_detection_yolo.ipynb": "train briefly",
}

# Installed in every page before its scripts run: hands each websocket frame's text (its first 4 kB: the message's
# header, parent header and method) to `window.__frameHook`, which INSTRUMENT_JS sets.
FRAMES_JS = """(() => {
  const Native = window.WebSocket, decoder = new TextDecoder();
  const text = data => {
    if (typeof data === 'string') return data.slice(0, 4096);
    try {  // an ArrayBuffer or a typed array (Jupyter's binary protocol); anything else reads as nothing
      return decoder.decode(new Uint8Array(data.buffer || data, data.byteOffset || 0, Math.min(data.byteLength, 4096)));
    } catch (error) { return ''; }
  };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => window.__frameHook && window.__frameHook('in', () => text(e.data)));
    }
    send(data) {
      if (window.__frameHook) window.__frameHook('out', () => text(data));
      return super.send(data);
    }
  };
})();"""

# Installed on the slider's dashboard before its presses: records, for each trusted keydown, when the dashboard
# first changed after it (plot, other output) and when a new run's first point appeared.
INSTRUMENT_JS = r"""(slider) => {
  const board = slider.closest('BOARD');
  document.querySelectorAll('[data-nudged]').forEach(el => el.removeAttribute('data-nudged'));
  board.setAttribute('data-nudged', '');  // for Playwright: the dashboard to stop
  const plots = () => Array.from(board.querySelectorAll('.js-plotly-plot'));
  // each trace's length, first point and legend rank: a new run either grows a trace from nothing, shortens one,
  // (a view that overwrites the last run's line, such as train-vs-dev curves) puts a different first point in it,
  // or takes over an older run's line on a full cost plot (a new rank: its place in the legend, and a new colour)
  const shape = () => new Map(plots().flatMap((gd, p) => (gd.data || []).map((t, i) => [t.uid || p + ':' + i,
    t.x ? [t.x.length, t.x.length ? `${t.x[0]},${t.y ? t.y[0] : ''}` : '', t.legendrank]
        : [t.z ? t.z.length : 0, '', undefined]])));
  const isNew = (snap, uid, [n, first, rank]) => n > 0 && (!snap.has(uid) || snap.get(uid)[0] === 0
    || n < snap.get(uid)[0] || (first !== '' && first !== snap.get(uid)[1]) || rank !== snap.get(uid)[2]);
  const rec = window.__nudges = {presses: [], busy: false, lastChange: 0};
  const isStatus = el => el.closest('.lab-status') || (el.querySelector && el.querySelector('.lab-status'));
  document.addEventListener('keydown', event => {
    if (event.isTrusted) rec.presses.push({t: performance.now(), snap: shape(), plot: null, other: null, point: null,
                                           sent: null, plotMessages: 0, started: null, progress: null});
  }, {capture: true});
  // the press's own message to the kernel (the first widget update sent after its keydown), and how many plot
  // messages the kernel sent in reply to it (frames that name it as their parent)
  window.__frameHook = (direction, read) => {
    const last = rec.presses.at(-1);
    if (direction === 'out') {
      if (!last || last.sent !== null) return;
      const frame = read();
      if (/"method":\s*"update"/.test(frame)) last.sent = (frame.match(/"msg_id":\s*"([^"]+)"/) || [, ''])[1];
      return;
    }
    if (!rec.presses.some(press => press.sent)) return;
    const frame = read();
    for (const press of rec.presses) {
      if (!press.sent || !frame.includes(press.sent)) continue;
      // the kernel's first message in reply (its echo of the value): the press's run starts in the same handler
      if (press.started === null) press.started = performance.now();
      if (frame.includes('_py2js_')) press.plotMessages += 1;
    }
  };
  // the runner's words on the status line with each push of a run (widgets/runner.py): "Training <run>: <step> <n>,
  // cost <c>", the latest answered press's run once the kernel has answered it
  const readStatus = now => {
    const line = board.querySelector('.lab-status');
    const text = line ? line.textContent : '';
    if (text === rec.status) return;
    rec.status = text;
    if (/^\W*Training\b.*: \S+ \d+, cost /.test(text)) {
      const press = rec.presses.filter(p => p.started !== null).at(-1);
      if (press && press.progress === null) press.progress = now - press.t;
    }
  };
  const observer = new MutationObserver(mutations => {
    const now = performance.now();
    if (board.querySelector('.lab-status-busy')) rec.busy = true;
    readStatus(now);
    let plot = false, other = false;
    for (const m of mutations) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (!el || el.closest('.widget-slider') || isStatus(el)) continue;
      if (el.closest('.js-plotly-plot')) plot = true; else other = true;
    }
    if (!plot && !other) return;
    rec.lastChange = now;
    for (const press of rec.presses) {
      if (plot && press.plot === null) press.plot = now - press.t;
      if (other && press.other === null) press.other = now - press.t;
    }
    if (!plot) return;
    const shapeNow = shape(), fresh = press => Array.from(shapeNow).some(([uid, st]) => isNew(press.snap, uid, st));
    const started = rec.presses.filter(press => press.started !== null);
    if (started.length) {  // the plots show the latest answered press's run: the runner drops a replaced run's pushes
      const owner = started.at(-1);
      if (owner.point === null && fresh(owner)) owner.point = now - owner.t;
      return;
    }
    // no answer recognised (a page without the frame hook): a new run's first point goes to the earliest press
    // still waiting for one, and the presses after it learn that run's traces
    const pending = rec.presses.filter(press => press.point === null);
    const first = pending.findIndex(fresh);
    if (first < 0) return;
    pending[first].point = now - pending[first].t;
    for (const later of pending.slice(first + 1)) later.snap = new Map([...later.snap, ...shapeNow]);
  });
  observer.observe(board, {childList: true, subtree: true, attributes: true, characterData: true});
  // the page's main thread busy for 50 ms or more at a time (plotly drawing, message decoding): the browser's share
  rec.longTasks = [];
  const busy = new PerformanceObserver(list => list.getEntries().forEach(e => rec.longTasks.push(e.duration)));
  busy.observe({type: 'longtask'});
  window.__nudgeStop = () => { observer.disconnect(); busy.disconnect(); window.__frameHook = null; };
}""".replace("BOARD", BOARD)


def quiet_cpu(limit: float = 30.0, idle_percent: float = 25.0) -> None:
    """Wait until the machine's CPUs have been quiet for a second (a finishing run, a refilling pool)."""
    end, quiet = time.monotonic() + limit, 0
    psutil.cpu_percent(None)
    while time.monotonic() < end and quiet < 2:
        quiet = quiet + 1 if psutil.cpu_percent(interval=0.5) < idle_percent else 0


def press_all_train_buttons(page) -> None:
    """Train every dashboard on the page once with its defaults, one after another."""
    buttons = page.locator(f"{BOARD} button", has_text=TRAIN_BUTTON)
    for i in range(buttons.count()):
        button = buttons.nth(i)
        # the nearest box around the button that holds a status line: its dashboard
        board = button.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' widget-vbox ')]"
                               "[.//*[contains(concat(' ', @class, ' '), ' lab-status ')]][1]")
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_timeout(500)
        wait_for_run_end(board, 300_000)


def nudge(page, slider) -> dict:
    """Four presses on `slider`, 250 ms apart; returns what the page recorded, once the dashboard has settled."""
    handle = slider.locator(".noUi-handle")
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    keys = ["ArrowLeft"] * 4 if at_max else \
        ["ArrowRight"] * 4
    handle.scroll_into_view_if_needed()
    page.evaluate(INSTRUMENT_JS, slider.element_handle())
    handle.focus()
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(GAP_MS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a view: 1.5 s without a change; a run: the last press's first point
        rec = page.evaluate("({busy: window.__nudges.busy, last: window.__nudges.presses.at(-1).point,"
                            " quiet: performance.now() - window.__nudges.lastChange})")
        # a run's press whose run was replaced before it drew gets the next run's point, so the last press may
        # wait in vain: 3 s without a change ends the wait too
        if rec["busy"] and (rec["last"] is not None or rec["quiet"] > 3000) or \
                (not rec["busy"] and rec["quiet"] > 1500):
            break
        page.wait_for_timeout(100)
    rec = page.evaluate("window.__nudgeStop(), ({busy: window.__nudges.busy, long: window.__nudges.longTasks, "
                        "presses: window.__nudges.presses.map(p => ({plot: p.plot, other: p.other, point: p.point, "
                        "sent: p.sent, plot_messages: p.plotMessages, progress: p.progress, "
                        "answered: p.started === null ? null : p.started - p.t}))})")
    if rec["busy"]:
        board = page.locator("[data-nudged]")
        stop = board.locator("button", has_text=re.compile(r"^\s*(Stop|Stop search)\s*$"))
        if stop.count() and stop.first.is_enabled():
            stop.first.click()
        wait_for_run_end(board, 120_000)
    return rec


def latencies(rec: dict) -> tuple[str, list[float], int]:
    """('view' or 'training', the presses' times in ms, how many of them the status line timed). A view's press whose
    message the kernel answered without a plot message had nothing to redraw: the plot change timed after it is the
    next press's. A run's press whose run changed no plot (its first points were on them already) is timed by the
    run's first progress on the status line."""
    if rec["busy"]:
        points = [p["point"] for p in rec["presses"] if p["point"] is not None]
        by_status = [p["progress"] for p in rec["presses"] if p["point"] is None and p["progress"] is not None]
        return "training", points + by_status, len(by_status)
    redrawn = [p for p in rec["presses"] if not p.get("sent") or p.get("plot_messages")]
    plotted = [p["plot"] for p in redrawn if p["plot"] is not None]
    return "view", plotted or [p["other"] for p in rec["presses"] if p["other"] is not None], 0


def walk(page, name: str) -> list[dict]:
    """Every visible slider of the page, in order; one row each."""
    rows = []
    sliders = page.locator(".widget-slider")
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        label = slider.locator("label.widget-label").inner_text().strip() or f"slider {i + 1}"
        if not slider.is_visible():
            rows.append({"notebook": name, "slider": label, "kind": "hidden", "times": []})
            continue
        if slider.locator(".noUi-handle").get_attribute("disabled") is not None or \
                "disabled" in (slider.get_attribute("class") or ""):
            rows.append({"notebook": name, "slider": label, "kind": "disabled", "times": []})
            continue
        quiet_cpu()
        rec = nudge(page, slider)
        kind, times, by_status = latencies(rec)
        long_tasks = rec["long"]
        row = {"notebook": name, "slider": label, "kind": kind, "times": [round(t, 1) for t in times],
               "by_status": by_status, "page_busy_ms": round(sum(long_tasks)),
               "longest_task_ms": round(max(long_tasks, default=0)),
               # when the kernel first answered each press (its echo of the value): the rest of a press's time is
               # the run's set-up, first step and push, and the page drawing it (and what it drew before)
               "answered": [None if p["answered"] is None else round(p["answered"], 1) for p in rec["presses"]]}
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def format_row(row: dict) -> str:
    times, kind = row["times"], row["kind"]
    head = f"{row['notebook'][:2]}  {row['slider'][:46]:<46} {kind:<8}"
    if not times:
        return f"{head} {'no press redrew anything' if kind in BUDGET_MS else ''}"
    p95 = percentile(times, 0.95)
    verdict = "ok" if p95 <= BUDGET_MS[kind] else f"OVER ({BUDGET_MS[kind]:.0f} ms)"
    by_status = f"  ({row['by_status']} by status)" if row.get("by_status") else ""
    return (f"{head} {len(times)}/{PRESSES}  p50 {statistics.median(times):6.0f}  p95 {p95:6.0f}  "
            f"max {max(times):6.0f} ms  {verdict}{by_status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="*", default=None, help="names in notebooks/ (default: all)")
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "bench-sliders.json", help="where to save rows")
    args = parser.parse_args()
    names = args.notebooks or [n for n in notebook_names() if not n.startswith("00_")]
    unknown = sorted(set(names) - set(notebook_names()))
    if unknown:
        parser.error(f"no such notebooks: {', '.join(unknown)} (see notebooks/)")
    rows, memory = [], {}
    load_before = os.getloadavg()
    with ExitStack() as stack:
        base = stack.enter_context(voila_server(log_name="voila-bench-sliders.log"))
        playwright = stack.enter_context(sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)
        for name in names:
            quiet_cpu(120)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(FRAMES_JS)
            page, timings, kernel_id = open_interactive(context, base, name)
            print(f"{name}: interactive after {timings['interactive']:.2f} s", flush=True)
            if PREPARE.get(name) == "press every Train":
                press_all_train_buttons(page)
            elif PREPARE.get(name) == "train briefly":
                prepare(page, Case(name, "Score threshold", prepare="train briefly"))
            rows += walk(page, name)
            memory[name] = peak_rss_gb(kernel_process(kernel_id))
            page.screenshot(path=str(ARTIFACTS / f"bench-sliders-{name[:2]}.png"), full_page=True)
            context.close()
    load_after = os.getloadavg()

    print(f"\nEvery slider, {PRESSES} presses {GAP_MS} ms apart — {psutil.cpu_count()} CPUs, load average "
          f"{load_before[0]:.1f} → {load_after[0]:.1f}")
    for row in rows:
        print(format_row(row))
    timed = [r for r in rows if r["times"]]
    over = [r for r in timed if percentile(r["times"], 0.95) > BUDGET_MS[r["kind"]]]
    print(f"\n{len(rows)} sliders, {len(timed)} timed, {len(over)} over budget: "
          + (", ".join(f"{r['notebook'][:2]} {r['slider']}" for r in over) or "none"))
    print("kernel peak memory (VmHWM): " + ", ".join(f"{n[:2]} {m:.2f} GB" for n, m in memory.items() if m))
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "memory_gb": memory, "load": [load_before[0], load_after[0]]},
                                    indent=1, ensure_ascii=False))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
