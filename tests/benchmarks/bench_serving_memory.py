"""Memory of the lab as served (a script, not a test: it prints, never asserts).

    .venv/bin/python tests/benchmarks/bench_serving_memory.py [--labs 01_logistic_regression.ipynb ...]

(a) idle: Voilà started as `.ci/serve` starts it (the repository's voila.json), waited on until its spare kernel
    is ready and the machine is quiet; the server and every process it started, by role;
(b) labs open together: each of --labs opened in its own Chromium page and kept open (a learner with four tabs),
    then every process again.

With --jupyterlab the server is the README's JupyterLab (binder/jupyter_server_config.json, as on Binder) and each
lab is opened in JupyterLab and run with Run → Run All Cells, the way a learner there opens one lab after another.

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
from lab_servers import jupyterlab_server, launch_chromium, voila_server  # noqa: E402
from test_jupyterlab import run_all  # noqa: E402

DEFAULT_LABS = ["01_logistic_regression.ipynb", "07_optimization.ipynb", "14_object_detection_yolo.ipynb",
                "18_word_embeddings.ipynb"]  # the four largest kernels measured


def server_process(port: int) -> psutil.Process:
    """The Voilà or JupyterLab server listening on `port` (its command line names the port)."""
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "ipykernel" not in " ".join(cmdline) and f"--port={port}" in cmdline:
            return process
    raise LookupError(f"no server on port {port}")


def role(process: psutil.Process, server: psutil.Process) -> str:
    if process.pid == server.pid:
        return "server"
    cmdline = process.cmdline()
    if "widgets.kernel_template" in cmdline:  # the template, or a kernel forked from it (widgets/kernel_template.py)
        return "kernel template" if process.ppid() == server.pid else "kernel"
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


def open_in_voila(browser, base: str, name: str):
    page = browser.new_page()
    page.goto(f"{base}voila/render/{name}", timeout=180_000)
    page.wait_for_function("!document.getElementById('loading')", timeout=180_000)
    return page


def open_in_jupyterlab(browser, base: str, name: str):
    """The notebook in a JupyterLab tab of its own (its own workspace), every cell run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}lab/workspaces/memory-{name[:2]}/tree/{name}", timeout=180_000)
    run_all(page)
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labs", nargs="*", default=DEFAULT_LABS, help="notebooks to open together")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds after the server starts, before (a)")
    parser.add_argument("--jupyterlab", action="store_true", help="serve with JupyterLab and Run All Cells")
    args = parser.parse_args()
    server_context = jupyterlab_server(log_name="jupyterlab-memory.log") if args.jupyterlab else \
        voila_server(log_name="voila-memory.log")
    open_lab = open_in_jupyterlab if args.jupyterlab else open_in_voila
    with server_context as base:
        port = int(base.rstrip("/").rsplit(":", 1)[1])
        server = server_process(port)
        time.sleep(args.wait)  # Voilà: the index's kernel starts, then the spare; JupyterLab: its spare
        quiet()
        report(f"(a) idle, as served by {'JupyterLab' if args.jupyterlab else 'Voilà'}", tree(server))
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            pages = []
            for name in args.labs:
                pages.append(open_lab(browser, base, name))
                quiet()
            rows = tree(server)
            report(f"(b) {len(pages)} labs open: {', '.join(name[:2] for name in args.labs)}", rows)
            kernels = [row for row in rows if row[0] == "kernel"]
            index = "" if args.jupyterlab else " (the index's included)"
            print(f"  the {len(kernels)} kernels with a page{index} together: PSS "
                  f"{sum(row[3] for row in kernels):.2f} GB")
            browser.close()


if __name__ == "__main__":
    main()
