"""Start Voilà and JupyterLab on free ports, and launch Debian's Chromium — shared by the browser tests
(`conftest.py`) and the benchmark (`tests/benchmarks/bench_voila.py`).

Nothing here downloads a browser: Playwright always gets `executable_path`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
BIN = Path(sys.executable).parent  # the venv's voila / jupyter sit next to its python

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The browser to drive: $LAB_CHROMIUM, else Debian's /usr/bin/chromium."""
    return os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")


def chromium_missing_reason() -> str | None:
    """Why the browser can't be used, or None when it can."""
    path = chromium_path()
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        return (f"Chromium not found at {path} (set LAB_CHROMIUM, or `apt-get install chromium`); "
                "the browser tests never download one")
    return None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    """Poll `url` until it answers (any HTTP status), failing early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:2]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: a 403/404 still means the server is up
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """SIGINT twice, as at a terminal (Jupyter servers then shut their kernels down), then escalate."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 0.3), (signal.SIGINT, 8.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _start(cmd: list[str], url: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        # its own process group, so stop() reaches the kernels it spawned as well
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_for_http(url, process, log)
    except BaseException:
        stop(process)
        raise
    return process


def isolated_env(home: Path) -> dict[str, str]:
    """Environment whose Jupyter runtime/config/data dirs live under `home`, not the user's."""
    env = dict(os.environ)
    for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
                      ("IPYTHONDIR", "ipython")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("LAB_DEVICE", "cpu")  # browser tests check the page, not the accelerator
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


@contextmanager
def voila_server(*extra_args: str, root: str = "notebooks/", config: dict | None = None, log_name: str = "voila.log"):
    """Voilà in tree mode on `root`, started from the repository root like `.ci/serve` (so a
    `voila.json`/`voila.py` there applies; `config`, if given, is added as one more `voila.json`).
    Yields the base URL, e.g. http://127.0.0.1:PORT/."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lab-voila-") as home:
        env = isolated_env(Path(home))
        if config:
            (Path(env["JUPYTER_CONFIG_DIR"]) / "voila.json").write_text(json.dumps(config))
        cmd = [str(BIN / "voila"), root, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               *extra_args]
        base = f"http://127.0.0.1:{port}/"
        process = _start(cmd, base, env, ARTIFACTS / log_name)
        try:
            yield base
        finally:
            stop(process)


@contextmanager
def jupyterlab_server(log_name: str = "jupyterlab.log", binder_start: bool = True):
    """A token-less JupyterLab rooted at a copy of notebooks/, with throw-away config and runtime dirs, started as
    Binder starts it: through `binder/start` (which starts the kernel template first), unless `binder_start` is
    False (as the README's JupyterLab command starts it). Yields the base URL. A copy, because JupyterLab saves what
    it runs: the committed notebooks (and their checked outputs) must not change when the tests run."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lab-jupyterlab-") as home:
        env = isolated_env(Path(home))
        root = Path(home) / "notebooks"
        shutil.copytree(NOTEBOOKS, root)
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab"
        for plugin, values in LAB_SETTINGS.items():
            (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
            (settings / plugin).write_text(json.dumps(values))
        cmd = [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
               "--LabApp.expose_app_in_browser=True",
               "--ServerApp.terminals_enabled=False",
               "--KernelManager.transport=ipc",  # as in voila.json: no TCP port a kernel could lose to another socket
               f"--config={ROOT / 'binder' / 'jupyter_server_config.json'}"]  # the README's: culling, spare kernels
        if os.geteuid() == 0:  # containers and CI often run as root; Jupyter refuses that unless told
            cmd.append("--allow-root")
        if binder_start:
            cmd = ["bash", str(ROOT / "binder" / "start"), *cmd]
            env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])  # its `python` is the server's, as on Binder
        base = f"http://127.0.0.1:{port}/"
        process = _start(cmd, base + "api", env, ARTIFACTS / log_name)
        try:
            yield base
        finally:
            stop(process)


# JupyterLab user settings for the test server: every cell in the DOM (so every plot can be counted),
# and no calls to the internet for news or updates.
LAB_SETTINGS = {
    "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def notebook_names() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def dashboard_cells(name: str) -> list[bool]:
    """Per code cell of notebook `name`, in order: whether it calls a dashboard (`something_dashboard(…)`)."""
    cells = json.loads((NOTEBOOKS / name).read_text())["cells"]
    return [bool(re.search(r"\w+_dashboard\(", "".join(c["source"]))) for c in cells if c["cell_type"] == "code"]
