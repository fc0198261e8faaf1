"""The server's side of kernel templates (`widgets.kernel_template`): start one per kind of kernel, ask it for a
kernel, and manage that kernel by its pid as `subprocess.Popen` would be (`ForkedKernel`)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from widgets.kernel_template import ANNOUNCED, BEFORE_SERVER, CLAIMED, READY_SUFFIX

LAUNCHER = ["-m", "ipykernel_launcher"]  # what a kernel spec's command must say after Python to be forked


def forkable(cmd: list[str]) -> bool:
    """Whether a kernel command is `PYTHON -m ipykernel_launcher …`, what a template can become."""
    return len(cmd) >= 3 and cmd[1:3] == LAUNCHER and os.path.isabs(cmd[0])


def launcher_args(cmd: list[str]) -> list[str]:
    """What a forkable command passes to ipykernel (after `PYTHON -m ipykernel_launcher`): a template's request."""
    return cmd[1 + len(LAUNCHER):]


class ForkedKernel:
    """A forked kernel, managed like the `Popen` of a kernel started the usual way (poll, wait, signals).

    It is the template's child, not the server's: it is gone when its pid no longer names the process that was
    forked (the template reaps its children at once; the start time tells a reused pid apart)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._started = start_time(pid)

    def poll(self) -> int | None:
        if self.returncode is None and (self._started is None or start_time(self.pid) != self._started):
            self.returncode = 0  # the exit status went to the template, which reaped it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class PendingKernel:
    """A kernel still to be started (forked once its template is ready), managed like a `Popen` meanwhile.

    A kernel started the usual way is a process at once, and answers once its imports are done; the kernel manager
    connects meanwhile, and Voilà sends the page's head. A kernel forked from a template still importing is the
    same: the kernel manager gets its connection at once, and the browser loads the page's code while the template
    imports, instead of after. `start` is what makes the process; `started(process)` is called with it."""

    stdin = stdout = stderr = None

    def __init__(self, start: Awaitable, started: Callable[[ForkedKernel | subprocess.Popen], None]):
        self.process: ForkedKernel | subprocess.Popen | None = None
        self.returncode: int | None = None  # set only while there is no process: failed, or ended before it began
        self._started = started
        self.task = asyncio.ensure_future(self._start(start))

    async def _start(self, start: Awaitable) -> None:
        try:
            process = await start
        except asyncio.CancelledError:  # the server's loop closing
            self.returncode = -signal.SIGKILL
            raise
        except Exception:  # `start` falls back to the usual way and logs; this is a bug, not a failed fork
            logging.getLogger(__name__).exception("A kernel could not be started")
            self.returncode = 1  # the kernel manager, polling, sees a kernel that died
            return
        if self.returncode is not None:  # killed while it waited: end it as it begins
            process.kill()
            return
        self.process = process
        self._started(process)

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("a kernel still starting", timeout)
            time.sleep(0.02)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.process is not None:
            self.process.send_signal(signum)
        elif signum in (signal.SIGTERM, signal.SIGKILL) and self.returncode is None:
            self.returncode = -signum  # an interrupt before it began has nothing to interrupt

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def same_python(one: str, other: str) -> bool:
    """Whether two interpreter paths are one Python in one environment (`bin/python` and `bin/python3.11`, say)."""
    return (os.path.dirname(one) == os.path.dirname(other)
            and os.path.realpath(one) == os.path.realpath(other))


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat, field 22), or None if it is gone or a
    zombie."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


@dataclass
class Template:
    process: subprocess.Popen | ForkedKernel  # a ForkedKernel handle for one started before the server
    socket_path: str
    env: dict  # the environment it started with
    started: float = 0.0  # time.monotonic() when it was started
    was_ready: bool = False  # seen listening at least once

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        ready = os.path.exists(self.socket_path)
        self.was_ready |= ready
        return ready

    pages_waiting: int = 0  # forks for a page waiting for this template to be ready: a spare's fork comes after
    last_page_fork: float = float("-inf")  # time.monotonic() of the last fork for a page
    spare_after: float = 1.0  # seconds from a page's fork to a spare's (the server's forked_refill_delay)

    async def fork(self, argv: list[str], env: dict, cwd: str, wait: float, spare: bool = False) -> int:
        """A new kernel running `ipykernel_launcher argv` in `cwd` with `env`; its pid. Waits up to `wait` seconds
        for a template still importing. A `spare` also waits until no page waits, and until `spare_after` seconds
        have passed since a page's kernel was forked: its start would take CPU from that page's. Raises
        ConnectionError if the template is gone or does not answer."""
        self.pages_waiting += not spare
        try:
            await self.until_ready(wait)
            while spare and (self.pages_waiting or time.monotonic() - self.last_page_fork < self.spare_after):
                await asyncio.sleep(0.02)
            pid = await asyncio.to_thread(self.fork_now, argv, env, cwd)
        finally:
            self.pages_waiting -= not spare
        if not spare:
            self.last_page_fork = time.monotonic()
        return pid

    async def until_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while not self.ready():
            if not self.alive():
                raise ConnectionError(f"the kernel template exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise ConnectionError(f"the kernel template was not ready within {wait:g} s")
            await asyncio.sleep(0.02)

    def fork_now(self, argv: list[str], env: dict, cwd: str) -> int:
        """`fork` from a template that is ready (it answers within milliseconds: it only forks)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(30)
            connection.connect(self.socket_path)
            connection.sendall(json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
            line = connection.makefile("rb").readline()
        reply = json.loads(line or b'{"error": "no reply"}')
        if "pid" not in reply:
            raise ConnectionError(f"the kernel template refused: {reply.get('error')}")
        return int(reply["pid"])

    def close(self) -> None:
        if self.alive():
            self.process.terminate()  # it ends its kernels too
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        if self.alive():
            self.process.kill()
        for path in (self.socket_path, *(self.socket_path + suffix for suffix in (READY_SUFFIX, ANNOUNCED, CLAIMED))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


class TemplatePool:
    """The server's kernel templates, one per recipe (`widgets.warm_kernels.Recipe.key`), started on first use."""

    retry_after = 60.0  # seconds before a template that failed at start-up is tried again

    def __init__(self):
        self._templates: dict[tuple, Template] = {}
        self._looked_before_server = False
        atexit.register(self.close)

    def get(self, key: tuple, python: str, env: dict, unsuitable: Callable[[dict], list[str]]) -> Template | None:
        """The template for `key`; the one started before the server if it runs `python` with an environment that
        suits kernels of `key` (`unsuitable(its environment)` names no variable), else a new one (importing for a
        few seconds) if there is none alive; None while one that exited before it was ready (a broken environment)
        is fresh: each kernel would pay for another such start before starting the usual way."""
        template = self._templates.get(key)
        if template is not None and not template.alive():
            failed_at_start = not (template.was_ready or os.path.exists(template.socket_path))
            if failed_at_start and time.monotonic() - template.started < self.retry_after:
                return None
        if template is None or not template.alive():
            if template is not None:
                template.close()
            template = self._templates[key] = self.started_before_server(python, unsuitable) or self.start(python, env)
        return template

    @staticmethod
    def start(python: str, env: dict) -> Template:
        # a short path: a Unix socket's name holds at most 107 bytes
        path = os.path.join(tempfile.gettempdir(), f"dl-lab-template-{uuid.uuid4().hex[:12]}.sock")
        process = subprocess.Popen([python, "-m", "widgets.kernel_template", path], env=env, cwd=os.getcwd(),
                                   stdin=subprocess.DEVNULL)
        return Template(process, path, env, started=time.monotonic())

    def started_before_server(self, python: str, unsuitable: Callable[[dict], list[str]]) -> Template | None:
        """The template `binder/start` began before this server (named by the BEFORE_SERVER variable), adopted by
        the first kernels that it suits; ended if they are not (it would only hold memory)."""
        path = os.environ.get(BEFORE_SERVER)
        if not path or self._looked_before_server:
            return None
        self._looked_before_server = True
        try:
            with open(path + ANNOUNCED) as file:
                said = json.load(file)
            process = ForkedKernel(int(said["pid"]))
            python_of_template, env = str(said["python"]), dict(said["env"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # gone, or never started
        if process.poll() is not None:
            return None
        different = [] if same_python(python_of_template, python) else [f"Python {python_of_template}"]
        different += unsuitable(env)
        if different:
            logging.getLogger(__name__).warning(
                "The kernel template started before the server is ended: the kernels' %s differ", ", ".join(different))
            process.terminate()
            return None
        open(path + CLAIMED, "w").close()
        return Template(process, path, env, started=time.monotonic())

    def close(self) -> None:
        for template in self._templates.values():
            template.close()
        self._templates.clear()
