"""Kernels forked from a kernel template (widgets/kernel_template.py, widgets/forked_kernels.py): pages that find
no spare ready get a kernel with the labs' imports done, in its own folder, environment and process group, with its
own random seeds, however many open at once; interrupt, restart and shutdown work; a page the template does not
suit, or a template that fails, gets an ordinary kernel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from test_warm_kernels import PROBE, interrupted, manager, pool, provisioner_named, run, start, wait_for_spare  # noqa: F401 (fixtures)

from widgets import forked_kernels, kernel_template, warm_kernels
from widgets.forked_kernels import ForkedKernel, PendingKernel, forkable, start_time

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="kernels are forked on Linux only"),
              pytest.mark.usefixtures("provisioner_named", "pool")]

SEEDS = "import random, numpy, torch; print(random.random(), numpy.random.rand(), torch.rand(1).item())"
# a product large enough for torch's thread pool and OpenBLAS's: a pool broken by the fork would hang here
THREADS = ("import numpy, torch; a = torch.ones(600, 600); print(torch.get_num_threads(), (a @ a).sum().item(), "
           "(numpy.ones((600, 600)) @ numpy.ones((600, 600))).sum())")


@pytest.fixture
def templates(monkeypatch):
    """A fresh set of templates for the test, closed after it."""
    fresh = forked_kernels.TemplatePool()
    monkeypatch.setattr(warm_kernels, "TEMPLATES", fresh)
    yield fresh
    fresh.close()


async def output(km, code: str) -> str:
    client = km.client()
    client.start_channels()
    said = []
    try:
        reply = await client.execute_interactive(code, output_hook=said.append, timeout=120)
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"]["text"] for m in said if m["msg_type"] == "stream")


def only_template(templates) -> forked_kernels.Template:
    (template,) = templates._templates.values()
    return template


def test_pages_that_find_no_spare_each_get_a_forked_kernel_with_imports_done(tmp_path, templates):
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        (first, said1), (second, said2) = await asyncio.gather(
            start(tmp_path, page, fork=True, QUERY_STRING="a=1"), start(tmp_path, page, fork=True, QUERY_STRING="b=2"))
        assert said1 == {"torch": True, "cwd": str(page), "query": "a=1", "handover": None}
        assert said2 == {"torch": True, "cwd": str(page), "query": "b=2", "handover": None}
        template = only_template(templates)
        pids = [km.provisioner.pid for km in (first, second)]
        assert len(set(pids)) == 2 and template.process.pid not in pids
        assert all(isinstance(km.provisioner.process, ForkedKernel) and os.getpgid(pid) == pid for km, pid in
                   zip((first, second), pids, strict=True))  # a process group each: interrupt and kill by group
        seeds = [await output(km, SEEDS) for km in (first, second)]
        assert seeds[0] != seeds[1], "two forked kernels drew the same random numbers"
        threads, torch_sum, numpy_sum = (await output(first, THREADS)).split()
        assert int(threads) >= 1 and float(torch_sum) == float(numpy_sum) == 600.0**3
        assert await interrupted(second)  # JupyterLab's ■
        await second.restart_kernel(now=True)  # forked again, with the same connection
        client = second.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)  # as a front end does after a restart
        client.stop_channels()
        assert second.provisioner.pid not in pids
        assert "True" in await output(second, "import sys; print('torch' in sys.modules)")
        for km in (first, second):
            await km.shutdown_kernel(now=True)
        return pids

    pids = run(scenario())
    assert all(start_time(pid) is None for pid in pids)  # gone, and reaped by the template
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "notebooks" and "spare" not in p.name]
    assert not leftovers, f"a kernel's files stayed: {leftovers}"


def test_a_page_that_changes_a_start_up_variable_gets_an_ordinary_kernel(tmp_path, templates):
    async def scenario():
        first, said = await start(tmp_path, tmp_path, fork=True)
        assert said["torch"]
        other, said = await start(tmp_path, tmp_path, fork=True,
                                  LAB_THREADS="1" if os.environ.get("LAB_THREADS") != "1" else "2")
        assert not isinstance(other.provisioner.process, ForkedKernel)
        for km in (first, other):
            await km.shutdown_kernel(now=True)
        return said

    assert not run(scenario())["torch"]  # started for the page, so the variable acted at its start


def test_a_template_that_died_is_replaced_and_one_that_cannot_start_leaves_ordinary_kernels(
        tmp_path, templates, monkeypatch):
    async def scenario():
        first, said = await start(tmp_path, tmp_path, fork=True)
        assert said["torch"]
        dead = only_template(templates)
        dead.process.kill()
        dead.process.wait()
        assert first.provisioner.process.wait(timeout=10) is not None  # its kernel ended with it
        second, said = await start(tmp_path, tmp_path, fork=True)  # a new template, imports and all
        assert said["torch"] and only_template(templates) is not dead
        await second.shutdown_kernel(now=True)
        templates.close()
        warm_kernels.POOL.close()  # no spare ready either
        monkeypatch.setattr(subprocess, "Popen", broken_template_popen(subprocess.Popen, started))
        third, said = await start(tmp_path, tmp_path, fork=True)
        fourth, _ = await start(tmp_path, tmp_path, fork=True)
        for km in (first, third, fourth):
            await km.shutdown_kernel(now=True)
        return said

    started = []
    said = run(scenario())
    assert not said["torch"]  # the template's Python could not import it: the page got an ordinary kernel
    assert len(started) == 1  # and the next page did not try another template (it would fail as fast)


def test_a_page_that_comes_while_the_template_imports_gets_its_connection_at_once_and_its_kernel_when_ready(
        tmp_path, templates):
    """The moment a fresh server answers (Binder's redirect): the kernel manager must not wait for the template's
    imports, so that Voilà sends the page's head and the browser loads its code meanwhile. The kernel answers once
    forked; one shut down before then never runs; one whose template dies meanwhile starts the usual way."""
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        waiting = manager(tmp_path, fork=True, spares=0)
        await waiting.start_kernel(cwd=str(page), env={**os.environ, "QUERY_STRING": "lr=0.3"})
        template = only_template(templates)
        assert not template.ready(), "the kernel manager waited for the template's imports"
        assert isinstance(waiting.provisioner.process, PendingKernel) and await waiting.is_alive()
        assert waiting.provisioner.pid is None and waiting.provisioner.pgid is None
        dropped = manager(tmp_path, fork=True, spares=0)  # a page left before its kernel began
        await dropped.start_kernel(cwd=str(page), env=dict(os.environ))
        await dropped.shutdown_kernel(now=True)
        assert not await dropped.is_alive()
        client = waiting.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)  # asked before the kernel existed, answered once forked
        client.stop_channels()
        kernel = waiting.provisioner.process
        assert isinstance(kernel, ForkedKernel) and waiting.provisioner.pid == waiting.provisioner.pgid == kernel.pid
        said = json.loads(await output(waiting, PROBE))
        assert said == {"torch": True, "cwd": str(page), "query": "lr=0.3", "handover": None}
        await asyncio.sleep(1.0)  # the dropped page's fork, if any, has been made and ended
        children = psutil.Process(template.process.pid).children()
        assert [child.pid for child in children] == [kernel.pid], "a kernel nobody waits for was left running"
        await waiting.shutdown_kernel(now=True)

        templates.close()  # a new template; it dies before it is ready
        orphaned = manager(tmp_path, fork=True, spares=0)
        await orphaned.start_kernel(cwd=str(page), env=dict(os.environ))
        only_template(templates).process.kill()
        client = orphaned.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        client.stop_channels()
        assert isinstance(orphaned.provisioner.process, subprocess.Popen)  # started the usual way
        said = json.loads(await output(orphaned, PROBE))
        await orphaned.shutdown_kernel(now=True)
        return said

    said = run(scenario())
    assert said["cwd"] == str(page) and said["handover"] is None


def test_a_template_is_ready_once_every_pages_imports_are_done_and_does_the_rest_between_requests(tmp_path, templates):
    """A page opened as the server starts waits for the imports every page needs, not for those of other labs
    (their dashboards, skimage's photo readers: 0.3-0.5 s); kernels forked later find those done too."""
    common_only = subprocess.run([sys.executable, "-c", (
        "import sys; from widgets.warm_start import preload_common, some_pages_imports; preload_common(); "
        "print([name for name in some_pages_imports() if name in sys.modules])")],
        capture_output=True, text=True, check=True).stdout.strip()
    assert common_only == "[]", f"what makes a template ready imports {common_only}"
    done = ("import sys; from widgets.warm_start import some_pages_imports; "
            "print(set(some_pages_imports()) - set(sys.modules))")

    async def scenario():
        deadline = time.monotonic() + 60
        while True:
            km, _ = await start(tmp_path, tmp_path, fork=True, spares=0)
            missing = await output(km, done)
            await km.shutdown_kernel(now=True)
            if missing.strip() == "set()" or time.monotonic() > deadline:
                return missing.strip()
            await asyncio.sleep(0.5)

    assert run(scenario()) == "set()", "the template stopped importing once it was ready"


def test_a_template_forks_for_the_pages_waiting_before_it_forks_a_spare_and_leaves_them_the_cpu_a_while(monkeypatch):
    template = forked_kernels.Template(process=None, socket_path="", env={}, spare_after=0.3)
    ready, forked = [False], []
    monkeypatch.setattr(template, "ready", lambda: ready[0])
    monkeypatch.setattr(template, "alive", lambda: True)
    monkeypatch.setattr(template, "fork_now", lambda argv, env, cwd: forked.append((argv[0], time.monotonic()))
                        or len(forked))

    async def scenario():
        spare = asyncio.ensure_future(template.fork(["spare"], {}, "", wait=10, spare=True))
        await asyncio.sleep(0.05)
        page = asyncio.ensure_future(template.fork(["page"], {}, "", wait=10))
        await asyncio.sleep(0.05)
        ready[0] = True
        return await asyncio.gather(spare, page)

    assert run(scenario()) == [2, 1] and [name for name, _ in forked] == ["page", "spare"]
    assert forked[1][1] - forked[0][1] >= 0.3  # the page's kernel starts without a spare's start beside it


def started_before_server(tmp_path, monkeypatch, *extra: str, **env: str) -> tuple[subprocess.Popen, str]:
    """A template started as binder/start starts one before the server (the server here is this process): its
    socket named by the variable that names it to the server, and `env` added to its environment."""
    path = str(tmp_path / "before.sock")
    monkeypatch.setenv(kernel_template.BEFORE_SERVER, path)
    process = subprocess.Popen([sys.executable, "-m", "widgets.kernel_template", path, "--before-server", *extra],
                               env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(path + kernel_template.ANNOUNCED) and time.monotonic() < deadline:
        time.sleep(0.02)
    return process, path


def test_a_template_started_before_the_server_is_adopted_and_its_kernels_serve_pages(tmp_path, templates,
                                                                                       monkeypatch):
    """Binder's case: binder/start begins the template's imports while the server starts; the server's kernels
    come from that template, not from one of its own."""
    early, path = started_before_server(tmp_path, monkeypatch)
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        km, said = await start(tmp_path, page, fork=True, spares=0, QUERY_STRING="lr=0.3")
        template = only_template(templates)
        kernel = km.provisioner.process
        parent = psutil.Process(kernel.pid).ppid()
        claimed = os.path.exists(path + kernel_template.CLAIMED)
        await km.shutdown_kernel(now=True)
        return template, parent, claimed, said

    template, parent, claimed, said = run(scenario())
    assert template.process.pid == early.pid and parent == early.pid and claimed
    assert said == {"torch": True, "cwd": str(page), "query": "lr=0.3", "handover": None}
    templates.close()
    assert early.wait(timeout=10) == 0
    assert not [name for name in os.listdir(tmp_path) if name.startswith("before.sock")], "its files stayed"


def test_a_template_started_before_the_server_that_does_not_suit_its_kernels_is_ended(tmp_path, templates,
                                                                                        monkeypatch):
    early, _ = started_before_server(tmp_path, monkeypatch, LAB_THREADS="7")  # a variable that acts at start-up
    template = templates.get(("test",), sys.executable, dict(os.environ),
                             unsuitable=lambda env: warm_kernels.unsuitable_variables(env, dict(os.environ)))
    assert template.process.pid != early.pid  # a template of the server's own
    assert early.wait(timeout=10) != 0  # ended (SIGTERM while importing)


def test_a_template_started_before_a_server_that_never_claims_it_exits(tmp_path, monkeypatch):
    """binder/start with a server that does not use the lab's provisioner: the template would only hold memory."""
    early, path = started_before_server(tmp_path, monkeypatch, "--unclaimed-exit", "0")
    assert early.wait(timeout=60) == 0
    assert not [name for name in os.listdir(tmp_path) if name.startswith("before.sock")], "its files stayed"


def test_binder_start_starts_the_template_as_a_child_of_the_server_it_becomes(tmp_path):
    """The template must be the server's child (it exits when its parent does) and named to it by the variable."""
    check = ("import json, os, sys, time\n"
             f"path = os.environ['{kernel_template.BEFORE_SERVER}']\n"
             f"while not os.path.exists(path + '{kernel_template.ANNOUNCED}'): time.sleep(0.02)\n"
             f"said = json.load(open(path + '{kernel_template.ANNOUNCED}'))\n"
             "print(json.dumps({'child': open(f'/proc/{said[\"pid\"]}/stat').read().rsplit(')', 1)[1].split()[1] "
             "== str(os.getpid()), 'python': said['python'], 'pid': said['pid']}))\n")
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
           "TMPDIR": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "binder" / "start"), sys.executable, "-c", check], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    said = json.loads(done.stdout)
    with contextlib.suppress(ProcessLookupError):  # its parent is gone: it would exit after its imports anyway
        os.kill(said["pid"], signal.SIGKILL)
    assert said["child"] and said["python"] == sys.executable


def broken_template_popen(popen, started: list):
    """Popen, except that a template is asked to run a module that does not exist (it exits at once); each such
    start is added to `started`."""
    def start(args, *rest, **kwargs):
        if "widgets.kernel_template" in args:
            args = [("widgets.no_such_template" if a == "widgets.kernel_template" else a) for a in args]
            started.append(args)
        return popen(args, *rest, **kwargs)
    return start


def test_a_server_starts_the_template_at_once_and_its_first_page_gets_a_forked_spare(tmp_path, templates):
    """What the server extension does as JupyterLab or Binder starts: no waiting (`delay` is for spares started the
    usual way), the template's imports begin at once and a spare is forked from it when they are done."""
    from jupyter_client.multikernelmanager import AsyncMultiKernelManager
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    kernels = AsyncMultiKernelManager(config=config, connection_dir=str(tmp_path))
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        # within 2 minutes, though told to wait 5 minutes before a spare started the usual way
        await asyncio.wait_for(warm_kernels.start_spares(kernels, delay=300.0), timeout=120)
        spares = [spare for group in warm_kernels.POOL._spares.values() for spare in group]
        assert len(spares) == 1 and isinstance(spares[0].process, ForkedKernel)
        await wait_for_spare()
        first, said = await start(tmp_path, page, fork=True, QUERY_STRING="lr=0.3")
        assert first.provisioner.pid == spares[0].process.pid
        await first.shutdown_kernel(now=True)
        return said

    said = run(scenario())
    assert said["torch"] and said["cwd"] == str(page) and said["query"] == "lr=0.3"


def test_closing_the_templates_ends_their_kernels(tmp_path, templates):
    """As a server does when it stops: the template ends, and its kernels with it."""
    async def scenario():
        km, _ = await start(tmp_path, tmp_path, fork=True)
        process = km.provisioner.process
        templates.close()
        assert process.wait(timeout=10) is not None
        await km.shutdown_kernel(now=True)

    run(scenario())


def test_a_forked_kernel_is_told_apart_from_a_process_that_took_its_pid_later():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        kernel = ForkedKernel(sleeper.pid)
        assert kernel.poll() is None
        kernel._started = str(int(kernel._started) - 1)  # as if the pid had been another process's before
        assert kernel.poll() == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    kernel = ForkedKernel(sleeper.pid)  # reaped: no such process
    assert kernel.poll() == 0 and kernel.wait(timeout=1) == 0


def test_only_python_kernels_started_by_ipykernel_launcher_are_forked():
    assert forkable([sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert not forkable(["python", "-m", "ipykernel_launcher", "-f", "x"])  # not an absolute path: which Python?
    assert not forkable([sys.executable, "-m", "other_kernel", "-f", "x"])
    assert not forkable(["/usr/bin/R", "--slave", "-e", "IRkernel::main()"])


def test_a_bad_request_is_refused_and_the_template_serves_the_next(tmp_path, templates):
    template = templates.get(("test",), sys.executable, dict(os.environ), unsuitable=lambda env: [])

    async def scenario():
        deadline = time.monotonic() + 120
        while not template.ready() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_unix_connection(template.socket_path)
        writer.write(b'{"argv": 3}\n')
        await writer.drain()
        reply = json.loads(await reader.readline())
        writer.close()
        assert "bad request" in reply["error"]
        km = manager(tmp_path, fork=True)
        km.write_connection_file()
        pid = await template.fork(["-f", km.connection_file], dict(os.environ), str(tmp_path), wait=5)
        kernel = ForkedKernel(pid)
        assert kernel.poll() is None
        kernel.send_signal(signal.SIGKILL)
        assert kernel.wait(timeout=10) == 0
        km.cleanup_connection_file()

    run(scenario())


# What a page's widget manager does first: open the control comm and ask for every widget's state in one message
# (ipywidgets' front end falls back to one request per widget when the kernel has no such comm target)
WIDGETS_AND_RENDERER = ("import ipywidgets, plotly.io; slider = ipywidgets.IntSlider(3); "
                        "print(slider.model_id, repr(plotly.io.renderers.default))")


async def all_widget_states(km) -> dict:
    """The states a page's widget manager gets from the kernel's `jupyter.widget.control` comm ({} if none)."""
    client = km.client()
    client.start_channels()
    try:
        comm_id = uuid.uuid4().hex
        client.shell_channel.send(client.session.msg("comm_open", {
            "comm_id": comm_id, "target_name": "jupyter.widget.control", "data": {}}, metadata={"version": "1.0.0"}))
        client.shell_channel.send(client.session.msg("comm_msg", {
            "comm_id": comm_id, "data": {"method": "request_states"}}))
        while True:
            message = await client.get_iopub_msg(timeout=20)
            content = message["content"]
            if content.get("comm_id") != comm_id:
                continue
            if message["msg_type"] == "comm_close":  # no such target: the kernel closes the comm at once
                return {}
            if message["msg_type"] == "comm_msg" and content["data"].get("method") == "update_states":
                return content["data"]["states"]
    finally:
        client.stop_channels()


def test_a_spare_is_forked_too_and_forked_kernels_serve_widgets_and_plots_as_an_ordinary_kernel(tmp_path, templates):
    """The template imported with no kernel running: a forked kernel must still answer a page's request for every
    widget's state at once, and show plotly figures inline."""
    page = tmp_path / "notebooks"
    page.mkdir()

    async def scenario():
        forked, _ = await start(tmp_path, page, fork=True)  # no spare yet: forked for the page
        await wait_for_spare()
        spare, said = await start(tmp_path, page, fork=True, QUERY_STRING="lr=0.3")  # the spare, forked ahead
        ordinary, _ = await start(tmp_path, page, spares=0)  # neither spare nor template
        assert isinstance(forked.provisioner.process, ForkedKernel)
        assert isinstance(spare.provisioner.process, ForkedKernel) and forked.provisioner.pid != spare.provisioner.pid
        assert said["torch"] and said["cwd"] == str(page) and said["query"] == "lr=0.3"
        assert not isinstance(ordinary.provisioner.process, ForkedKernel)
        served = {}
        for name, km in (("forked", forked), ("spare", spare), ("ordinary", ordinary)):
            model_id, renderer = (await output(km, WIDGETS_AND_RENDERER)).split()
            served[name] = renderer, model_id in await all_widget_states(km)
            await km.shutdown_kernel(now=True)
        return served

    served = run(scenario())
    assert served["forked"] == served["spare"] == served["ordinary"] == ("'plotly_mimetype'", True)
