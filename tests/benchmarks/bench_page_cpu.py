"""Where a lab's page load spends its CPU: Voilà's server, the lab's kernel, and the browser's main thread (a
script, not a test: it prints, never asserts).

    .venv/bin/python tests/benchmarks/bench_page_cpu.py [--notebooks 13_cnn_architectures.ipynb ...] [--voila-arg=...]

Each lab is loaded once, on a first visit, after the spare kernel has refilled. For each it prints the wall-clock
phases (the page's HTML complete, Voilà's spinner gone, first and last widget drawn, the kernel idle) and the CPU
seconds each process spent on the load: the server's and the kernel's from the OS, the browser main thread's from
Chromium's trace (thread time, so other load on the machine inflates it little), with its largest parts
(evaluating scripts and modules: plotly's 5 MB bundle is one module). On two cores the three share the machine:
when their sum is near the wall-clock time, the load is CPU-bound, and cutting any of them helps.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from bench_voila import kernel_process, open_interactive  # noqa: E402
from lab_servers import launch_chromium, notebook_names, voila_server  # noqa: E402

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute"]
PARTS = ("v8.evaluateModule", "EvaluateScript", "Layout", "UpdateLayoutTree", "Paint")
REFILL_S = 22.0  # a spare starts 5 s after a page took the last one, then imports for up to ~15 s on 2 cores


def cpu_seconds(process: psutil.Process | None) -> float | None:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except (psutil.Error, AttributeError):
        return None


def main_thread_cpu(trace: Path) -> tuple[float, collections.Counter]:
    """CPU seconds of the lab page's renderer main thread in a Chromium trace, in all and by kind of work."""
    events = json.loads(trace.read_text())["traceEvents"]
    renderer = {e["pid"] for e in events if e.get("name") == "ParseHTML"
                and "voila/render" in json.dumps(e.get("args", {}))}
    main = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
            and e["args"]["name"] == "CrRendererMain" and e["pid"] in renderer}
    ours = [e for e in events if (e.get("pid"), e.get("tid")) in main and e.get("ph") == "X"]
    parts = collections.Counter()
    for event in ours:
        if event["name"] in PARTS:
            parts[event["name"]] += event.get("tdur", 0) / 1e6
    return sum(e.get("tdur", 0) for e in ours if e["name"] == "RunTask") / 1e6, parts


def voila_process() -> psutil.Process:
    """The newest Voilà server this script started (its command line names the loopback address)."""
    found = [p for p in psutil.process_iter(["cmdline"])
             if p.info["cmdline"] and "--Voila.ip=127.0.0.1" in p.info["cmdline"]]
    return max(found, key=lambda p: p.create_time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="*", default=None, help="names in notebooks/ (default: every lab)")
    parser.add_argument("--voila-arg", action="append", default=[], help="extra option for voila, repeatable")
    args = parser.parse_args()
    names = args.notebooks or [n for n in notebook_names() if not n.startswith("00_")]

    print(f"{'lab':4} {'html':>5} {'shown':>6} {'first':>6} {'last':>6} {'idle':>6}  | CPU s: "
          f"{'server':>6} {'kernel':>6} {'page':>5}  (page: {', '.join(PARTS[:3])})")
    with voila_server(*args.voila_arg, log_name="voila-page-cpu.log") as base, sync_playwright() as playwright, \
            tempfile.TemporaryDirectory() as folder:
        browser = launch_chromium(playwright)
        server = voila_process()
        warm = browser.new_context()  # the server's first page pays for its own start-up: not a lab's cost
        open_interactive(warm, base, names[0])
        warm.close()
        for name in names:
            time.sleep(REFILL_S)
            spares = {child.pid: cpu_seconds(child) for child in server.children(recursive=True)}
            server_before = cpu_seconds(server)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            trace = Path(folder) / f"{name}.json"
            browser.start_tracing(path=str(trace), categories=TRACE_CATEGORIES)
            page, timings, kernel_id = open_interactive(context, base, name)
            browser.stop_tracing()
            server_cpu = cpu_seconds(server) - server_before
            kernel = kernel_process(kernel_id)
            # a spare's own start-up is not the page's: count from where it stood when the page came
            kernel_cpu = cpu_seconds(kernel) - spares[kernel.pid] if kernel and kernel.pid in spares else None
            page_cpu, parts = main_thread_cpu(trace)
            kernel_text = f"{kernel_cpu:6.2f}" if kernel_cpu is not None else "   new"  # no spare was ready
            print(f"{name[:2]:4} {timings['html']:5.2f} {timings['shown']:6.2f} {timings['first_widget']:6.2f} "
                  f"{timings['last_widget']:6.2f} {timings['kernel_idle']:6.2f}  |        {server_cpu:6.2f} "
                  f"{kernel_text} {page_cpu:5.2f}  ({', '.join(f'{parts[p]:.2f}' for p in PARTS[:3])})", flush=True)
            context.close()
        browser.close()
    print(f"load average now {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
