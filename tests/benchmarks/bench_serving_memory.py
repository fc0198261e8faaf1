"""Memory of the lab as served (a script, not a test: it prints, never asserts).

    .venv/bin/python tests/benchmarks/bench_serving_memory.py [--labs 01_logistic_regression.ipynb ...]

(a) idle: Voilà started as `.ci/serve` starts it (the repository's voila.json), waited on until its spare kernel
    is ready and the machine is quiet; the server and every process it started, by role;
(b) labs open together: each of --labs opened in its own Chromium page and kept open (as a learner with four tabs,
    or four notebooks in JupyterLab: the kernels are the same), then every process again.

Memory is each process's USS (pages only it holds: what it would free on exit) and, summed, the tree's PSS (shared
pages split among their users): the total a machine must have. Targets (issue 9): the idle server with all labs
≤ 2.5 GB; four labs' kernels together ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from lab_servers import launch_chromium, voila_server  # noqa: E402

DEFAULT_LABS = ["01_logistic_regression.ipynb", "07_optimization.ipynb", "14_object_detection_yolo.ipynb",
                "18_word_embeddings.ipynb"]  # the four largest kernels measured


def server_process(port: int) -> psutil.Process:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.endswith("voila") for part in cmdline[:2]) and f"--port={port}" in cmdline:
            return process
    raise LookupError(f"no Voilà server on port {port}")


def role(process: psutil.Process, server: psutil.Process) -> str:
    if process.pid == server.pid:
        return "server"
    cmdline = process.cmdline()
    if not any("ipykernel" in part for part in cmdline):
        return process.name()
    # a spare's own connection file is removed when a page takes it (widgets/warm_kernels.py)
    connection_file = cmdline[cmdline.index("-f") + 1] if "-f" in cmdline else ""
    return "spare kernel" if "kernel-spare-" in connection_file and Path(connection_file).exists() else "kernel"


def tree(server: psutil.Process) -> list[tuple[str, int, float, float]]:
    """(role, pid, USS GB, PSS GB) of the server and everything it started, spares included (their own
    sessions, but still its children)."""
    rows = []
    for process in [server, *server.children(recursive=True)]:
        try:
            info = process.memory_full_info()
            rows.append((role(process, server), process.pid, info.uss / 2**30, info.pss / 2**30))
        except psutil.Error:
            continue
    return rows


def report(title: str, rows: list[tuple[str, int, float, float]]) -> None:
    print(f"\n{title}")
    for name, pid, uss, pss in sorted(rows, key=lambda row: -row[3]):
        print(f"  {name:14s} pid {pid:7d}   USS {uss:5.2f} GB   PSS {pss:5.2f} GB")
    print(f"  {'total':14s} {len(rows):3d} processes        PSS {sum(row[3] for row in rows):5.2f} GB")


def quiet(seconds: float = 60.0) -> None:
    """Until the CPUs have been mostly idle for two samples in a row (a spare importing, a page settling)."""
    end, calm = time.monotonic() + seconds, 0
    psutil.cpu_percent(None)
    while time.monotonic() < end and calm < 2:
        calm = calm + 1 if psutil.cpu_percent(interval=1.0) < 25 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labs", nargs="*", default=DEFAULT_LABS, help="notebooks to open together")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds after the server starts, before (a)")
    args = parser.parse_args()
    with voila_server(log_name="voila-memory.log") as base:
        port = int(base.rstrip("/").rsplit(":", 1)[1])
        server = server_process(port)
        time.sleep(args.wait)  # the index's kernel starts, then the spare a few seconds later
        quiet()
        report("(a) idle, as served", tree(server))
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            pages = []
            for name in args.labs:
                page = browser.new_page()
                page.goto(f"{base}voila/render/{name}", timeout=180_000)
                page.wait_for_function("!document.getElementById('loading')", timeout=180_000)
                pages.append(page)
                quiet()
            rows = tree(server)
            report(f"(b) {len(pages)} labs open: {', '.join(name[:2] for name in args.labs)}", rows)
            kernels = [row for row in rows if row[0] == "kernel"]
            print(f"  the {len(kernels)} kernels with a page (the index's included) together: PSS "
                  f"{sum(row[3] for row in kernels):.2f} GB")
            browser.close()


if __name__ == "__main__":
    main()
