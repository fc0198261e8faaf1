"""Warm kernels (widgets/warm_kernels.py, widgets/warm_start.py): a kernel handed to a page has the lab's imports
done, and the page's folder and environment, as if it had been started for it; anything else starts as usual.
These tests are about spares (`WarmKernelProvisioner.fork` off); kernels forked from a template are in
test_forked_kernels.py."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

from widgets import warm_kernels
from widgets.warm_kernels import Spare
from widgets.warm_start import HANDOVER, apply_handover, listening_mark

PROBE = ("import json, os, sys; print(json.dumps({'torch': 'torch' in sys.modules, 'cwd': os.getcwd(), "
         "'query': os.environ.get('QUERY_STRING'), 'handover': os.environ.get('LAB_WARM_HANDOVER')}))")


def test_the_handover_sets_the_pages_environment_and_folder(tmp_path, monkeypatch):
    page = tmp_path / "notebooks"
    page.mkdir()
    handover = tmp_path / "handover.json"
    assert not apply_handover(str(handover))  # no page yet: nothing changes, the hook stays
    handover.write_text(json.dumps({"env": {"QUERY_STRING": "lr=0.3"}, "cwd": str(page)}))
    Path(listening_mark(str(handover))).touch()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["/lib", str(tmp_path), "/site"])
    monkeypatch.setenv("QUERY_STRING", "")  # restored (to unset, here) after the test: the handover sets it
    assert apply_handover(str(handover))
    assert os.environ["QUERY_STRING"] == "lr=0.3" and Path.cwd() == page
    assert sys.path == ["/lib", str(page), "/site"]  # the folder it started in no longer shadows the page's
    assert not handover.exists() and not Path(listening_mark(str(handover))).exists()


def test_a_spare_is_refused_when_the_page_sets_a_variable_that_may_act_at_start_up():
    spare = Spare(process=None, info={}, connection_file="", handover_file="",
                  env={"PATH": "/bin", "OMP_NUM_THREADS": "2", HANDOVER: "f", "JPY_PARENT_PID": "1"})
    page = {"PATH": "/bin", "OMP_NUM_THREADS": "2", "JPY_PARENT_PID": "7", "QUERY_STRING": "a=1",
            "SCRIPT_NAME": "/voila/render/07_optimization.ipynb", "VOILA_PREHEAT": "False", "SERVER_PORT": "8866",
            "JPY_SESSION_NAME": "/nb/07_optimization.ipynb"}
    assert spare.unsuitable_variables(page) == []  # Voilà's and the server's page variables; the launcher's own
    assert spare.unsuitable_variables({**page, "OMP_NUM_THREADS": "1"}) == ["OMP_NUM_THREADS"]
    assert spare.unsuitable_variables({**page, "LAB_DEVICE": "cpu"}) == ["LAB_DEVICE"]  # new, and not a page's
    assert spare.unsuitable_variables({"QUERY_STRING": "a=1"}) == ["OMP_NUM_THREADS", "PATH"]
    started_in_a_page = Spare(process=None, info={}, connection_file="", handover_file="",
                              env={"PATH": "/bin", "QUERY_STRING": "old=1", "SCRIPT_NAME": "/x"})
    assert started_in_a_page.unsuitable_variables({"PATH": "/bin", "QUERY_STRING": "a=1"}) == []  # a page's own


def manager(runtime: Path, fork: bool = False, spares: int = 1) -> AsyncKernelManager:
    config = Config()
    config.KernelManager.transport = "ipc"
    config.WarmKernelProvisioner.refill_delay = config.WarmKernelProvisioner.forked_refill_delay = 0.0
    config.WarmKernelProvisioner.fork = fork
    config.WarmKernelProvisioner.spares = spares
    km = AsyncKernelManager(config=config)
    km.connection_file = str(runtime / f"kernel-{time.monotonic_ns()}.json")
    return km


async def start(runtime: Path, cwd: Path, fork: bool = False, spares: int = 1,
                **env) -> tuple[AsyncKernelManager, dict]:
    """A kernel started for a page in `cwd` with `env` added, and what it says of itself before any import."""
    km = manager(runtime, fork, spares)
    await km.start_kernel(cwd=str(cwd), env={**os.environ, **env})
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=120)
    said = []
    reply = await client.execute_interactive(PROBE, output_hook=said.append, timeout=120)
    client.stop_channels()
    assert reply["content"]["status"] == "ok"
    text = "".join(m["content"]["text"] for m in said if m["msg_type"] == "stream")
    return km, json.loads(text)


async def interrupted(km: AsyncKernelManager) -> bool:
    """Whether a long cell stops at once when the kernel is interrupted."""
    client = km.client()
    client.start_channels()
    try:
        client.execute("import time; time.sleep(60)")
        await asyncio.sleep(1.0)
        await km.interrupt_kernel()
        while True:
            reply = await client.get_shell_msg(timeout=20)
            if reply["msg_type"] == "execute_reply":
                return reply["content"].get("ename") == "KeyboardInterrupt"
    finally:
        client.stop_channels()


async def wait_for_spare(timeout: float = 120) -> None:
    """Until the pool's spare has done its imports (its connection answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spares = [s for group in warm_kernels.POOL._spares.values() for s in group if s.alive()]
        if spares and await answers(spares[0]):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("no spare kernel became ready")


async def answers(spare: Spare) -> bool:
    from jupyter_client.asynchronous import AsyncKernelClient

    client = AsyncKernelClient()
    client.load_connection_info(spare.info)
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=0.5)
        return True
    except RuntimeError:
        return False
    finally:
        client.stop_channels()


def run(coroutine):
    """asyncio.run in a thread of its own: an earlier test (Playwright's sync API) may leave an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture
def pool():
    """A fresh pool for the test; its spares are stopped after it."""
    saved = warm_kernels.POOL
    warm_kernels.POOL = warm_kernels.SparePool()
    yield warm_kernels.POOL
    warm_kernels.POOL.close()
    warm_kernels.POOL = saved


@pytest.fixture
def provisioner_named(monkeypatch):
    """Kernels are started through the entry point pyproject.toml declares (a server reads the name from its
    config; a bare kernel manager has none, so the factory's variable names it)."""
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    monkeypatch.setenv(KernelProvisionerFactory.default_provisioner_name_env, "dl-lab-warm")
    KernelProvisionerFactory.clear_instance()
    yield
    KernelProvisionerFactory.clear_instance()


def test_a_page_gets_a_spare_with_imports_done_and_its_own_folder_and_environment(tmp_path, pool, provisioner_named):
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        first, said = await start(tmp_path, page, QUERY_STRING="a=1")
        # no spare existed: an ordinary start (torch not imported), and the pool starts one for the next page
        assert said == {"torch": False, "cwd": str(page), "query": "a=1", "handover": None}
        await wait_for_spare()
        second, said = await start(tmp_path, page, QUERY_STRING="lr=0.3")
        assert said["torch"] and said["cwd"] == str(page) and said["query"] == "lr=0.3"
        assert await interrupted(second)  # JupyterLab's ■ reaches the spare's process
        await second.restart_kernel(now=True)  # a restart keeps the connection the page holds
        client = second.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        client.stop_channels()
        for km in (first, second):
            await km.shutdown_kernel(now=True)
        return second

    second = run(scenario())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "notebooks" and "spare" not in p.name]
    assert not leftovers, f"a kernel's files stayed: {leftovers}"
    assert not os.path.exists(second.connection_file)


def test_a_page_that_changes_a_start_up_variable_gets_an_ordinary_kernel(tmp_path, pool, provisioner_named):
    async def scenario():
        first, _ = await start(tmp_path, tmp_path)
        await wait_for_spare()
        other, said = await start(tmp_path, tmp_path, LAB_THREADS="1" if os.environ.get("LAB_THREADS") != "1" else "2")
        for km in (first, other):
            await km.shutdown_kernel(now=True)
        return said

    said = run(scenario())
    assert not said["torch"]  # started for the page, so the variable acted at its start
    assert pool.count(next(iter(pool._spares))) == 1  # the spare stays for a page it suits


def test_a_spare_that_cannot_take_a_handover_is_never_given_to_a_page(tmp_path, pool, provisioner_named, monkeypatch):
    """A kernel whose Python lacks widgets.warm_start would run the page in the server's folder with the server's
    environment: it must not be handed over."""
    monkeypatch.setattr(warm_kernels, "EXTENSION", "--ext=widgets.no_such_module")
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        first, _ = await start(tmp_path, page)
        await wait_for_spare()
        other, said = await start(tmp_path, page, QUERY_STRING="b=2")
        for km in (first, other):
            await km.shutdown_kernel(now=True)
        return said

    said = run(scenario())
    assert said == {"torch": False, "cwd": str(page), "query": "b=2", "handover": None}  # an ordinary kernel


def test_a_server_starts_a_spare_before_its_first_page_which_then_gets_it(tmp_path, pool, provisioner_named):
    """What the server extension does as JupyterLab or Binder starts: the first notebook opened is served warm."""
    from jupyter_client.multikernelmanager import AsyncMultiKernelManager

    config = Config()
    config.KernelManager.transport = "ipc"
    config.WarmKernelProvisioner.fork = False
    kernels = AsyncMultiKernelManager(config=config, connection_dir=str(tmp_path))
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        await warm_kernels.start_spares(kernels, delay=0.0)
        assert sorted(p.name for p in tmp_path.iterdir() if "spare" not in p.name) == ["notebooks"]  # nothing kept
        await wait_for_spare()
        first, said = await start(tmp_path, page, QUERY_STRING="lr=0.3")
        await first.shutdown_kernel(now=True)
        return said

    said = run(scenario())
    assert said["torch"] and said["cwd"] == str(page) and said["query"] == "lr=0.3"


def test_binders_server_enables_the_extension_that_starts_it():
    config = json.loads((Path(__file__).resolve().parents[2] / "binder" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["jpserver_extensions"] == {"widgets.warm_kernels": True}
    assert warm_kernels._jupyter_server_extension_points() == [{"module": "widgets.warm_kernels"}]
