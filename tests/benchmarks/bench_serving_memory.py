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
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil
from jupyter_core.paths import jupyter_runtime_dir
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


def role(process: psutil.Process, server: psutil.Process, spares: set[str]) -> str:
    if process.pid == server.pid:
        return "server"
    cmdline = process.cmdline()
    forked = "widgets.kernel_template" in cmdline  # a kernel forked from the template keeps its command line
    if forked and process.ppid() == server.pid:
        return "kernel template"
    if not forked and not any("ipykernel" in part for part in cmdline):
        return process.name()
    return "spare kernel" if listening_addresses(process) & spares else "kernel"


def listening_addresses(process: psutil.Process) -> set[str]:
    """Where the process listens: TCP ports, and Unix sockets' paths (a kernel with transport "ipc")."""
    ports = {str(c.laddr.port) for c in process.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    return ports | {c.laddr for c in process.net_connections("unix") if c.laddr}


def spare_addresses(server: psutil.Process) -> set[str]:
    """Where the spare kernels waiting for a page listen, read from their connection files (kernel-spare-*.json,
    next to the server's kernels': its runtime folder, or Voilà's temporary one), which are removed when a page
    takes the spare (widgets/warm_kernels.py)."""
    folders = [Path(server.environ().get("JUPYTER_RUNTIME_DIR") or jupyter_runtime_dir()),
               *Path(tempfile.gettempdir()).glob("voila_*")]
    addresses = set()
    for path in (path for folder in folders for path in folder.rglob("kernel-spare-*.json")):
        with contextlib.suppress(OSError, ValueError):
            if path.stat().st_mtime < server.create_time():  # a file some earlier server left behind
                continue
            info = json.loads(path.read_text())
            ports = [value for name, value in info.items() if name.endswith("_port")]
            addresses |= {f"{info['ip']}-{port}" if info.get("transport") == "ipc" else str(port) for port in ports}
    return addresses


def tree(server: psutil.Process) -> list[tuple[str, int, float, float]]:
    """(role, pid, USS GB, PSS GB) of the server and everything it started, spares included (their own
    sessions, but still its children)."""
    rows, spares = [], spare_addresses(server)
    for process in [server, *server.children(recursive=True)]:
        try:
            info = process.memory_full_info()
            rows.append((role(process, server, spares), process.pid, info.uss / 2**30, info.pss / 2**30))
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
