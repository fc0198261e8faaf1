"""Warm kernels: a kernel provisioner whose kernels start with the labs' imports already done.

A lab's kernel spends its first seconds importing torch, plotly and ipywidgets, before the notebook's first
line runs. Voilà can run whole notebooks ahead of time (a pool per notebook), but that holds 0.3–0.7 GB per lab
and does nothing for JupyterLab or Binder. This provisioner keeps one spare kernel (configurable) that has done
the imports every lab shares (`widgets.warm_start`); when the server starts a kernel, for any notebook and any
front end, the spare is handed over and a new spare is started a few seconds later, when the page no longer
needs the CPU. The server uses it when configured so (`voila.json`, `binder/jupyter_server_config.json`):

    "KernelProvisionerFactory": {"default_provisioner_name": "dl-lab-warm"}

On Linux the spares themselves are forked from a kernel template (`widgets.kernel_template`): a process that did
the imports once and forks a kernel in a tenth of a second of CPU, whose memory it shares. So the next spare is
ready a second after a page took the last one (instead of five seconds of waiting and two of importing), and a
spare holds less than half the memory (0.11 GB PSS, against 0.25). A page that still finds no spare ready (two
labs opened at once), and a restart (the kernel keeps its connection, which a spare does not have), get a kernel
forked for them; that is 0.2–0.3 s slower than a spare, which has already started ipykernel and is listening. A page
that comes while the template still imports (the moment a fresh server answers) gets its connection at once and its
kernel once the template is ready (`PendingKernel`): Voilà shows the page meanwhile instead of a blank window.

A Jupyter server (JupyterLab, Binder) that also enables this module as an extension starts the template and the
first spare as it starts (`start_spares`), so the first notebook opened is warm too; Voilà on its own starts them
with the index's kernel.

A kernel is started the usual way when the kernel manager wants encrypted transport, when the template cannot
serve it (not Linux, a kernel that is not `python -m ipykernel_launcher`, a template that failed), or when the
requested environment changes a variable the spare or template started with (such a variable may have acted at
start-up, e.g. `OMP_NUM_THREADS`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import re
import sys
import uuid
from dataclasses import dataclass
from subprocess import Popen

from jupyter_client.connect import LocalPortCache, write_connection_file
from jupyter_client.launcher import launch_kernel
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Float, Integer

from widgets.forked_kernels import ForkedKernel, PendingKernel, Template, TemplatePool, forkable, launcher_args
from widgets.warm_start import HANDOVER, listening_mark

EXTENSION = "--ext=widgets.warm_start"
# set per kernel by the launcher itself, not by the page: a spare's value is as good as the page's; and `_`, which
# a shell sets to the command it runs (a template started by binder/start has its own)
PER_LAUNCH = {HANDOVER, "JPY_PARENT_PID", "_"}
# what Voilà (the request, as CGI names it) and Jupyter Server (the notebook's path) add for a page: read by the
# notebook's code, never at start-up, so a spare can take them late
PAGE_VARIABLES = re.compile(r"(SCRIPT_NAME|PATH_INFO|QUERY_STRING|SERVER_\w+|HTTP_\w+|VOILA_\w+|JPY_\w+)")


def unsuitable_variables(started_with: dict, env: dict) -> list[str]:
    """The variables of `env` that a process started with `started_with` cannot take: one it started with, changed
    or removed, or a new one (either may have acted at start-up, like OMP_NUM_THREADS), unless it is a page's
    variable (read by the notebook, never at start-up) or the launcher's own."""
    changed = {name for name, value in started_with.items() if env.get(name) != value}
    added = {name for name in env if name not in started_with}
    return sorted(name for name in changed | added if name not in PER_LAUNCH and not PAGE_VARIABLES.fullmatch(name))


@dataclass
class Recipe:
    """How the kernel manager would start a kernel: its command, with `connection_file` in it, and transport."""

    cmd: list[str]
    connection_file: str
    transport: str
    ip: str
    kernel_name: str
    env: dict

    @property
    def key(self) -> tuple:
        """Spares started from equal recipes are interchangeable."""
        return (tuple("{connection_file}" if arg == self.connection_file else arg for arg in self.cmd),
                self.transport, self.kernel_name)


@dataclass
class Spare:
    process: Popen | ForkedKernel
    info: dict  # its connection info
    connection_file: str
    handover_file: str
    env: dict  # the environment it started with
    template: Template | None = None  # the template it was forked from

    def alive(self) -> bool:
        # a forked spare ends with its template, up to a second later (ipykernel's parent poller): not before
        return self.process.poll() is None and (self.template is None or self.template.alive())

    def listening(self) -> bool:
        """Whether it will apply the page's environment and folder (see `widgets.warm_start`)."""
        return os.path.exists(listening_mark(self.handover_file))

    def unsuitable_variables(self, env: dict) -> list[str]:
        return unsuitable_variables(self.env, env)

    def remove_files(self) -> None:
        paths = [self.connection_file, self.handover_file, listening_mark(self.handover_file)]
        if self.info.get("transport") == "ipc":  # the sockets are files too
            paths += [f"{self.info['ip']}-{self.info[port]}" for port in self.info if port.endswith("_port")]
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    def hand_over(self, env: dict, cwd: str) -> None:
        """Tell the spare the page's environment and folder; it applies them before the first cell."""
        partial = f"{self.handover_file}.part"
        with open(partial, "w") as file:
            json.dump({"env": env, "cwd": str(cwd)}, file)
        os.replace(partial, self.handover_file)  # the kernel never reads half a file
        if os.path.exists(self.connection_file):  # the kernel manager writes the same info under its own name
            os.remove(self.connection_file)


class SparePool:
    """The server's spare kernels, by recipe."""

    def __init__(self):
        self._spares: dict[tuple, list[Spare]] = {}
        self._refills: set[tuple] = set()  # recipes being filled
        self._tasks: set[asyncio.Task] = set()  # refills scheduled
        atexit.register(self.close)

    def take(self, key: tuple) -> Spare | None:
        spares = self._spares.get(key, [])
        while spares:
            spare = spares.pop(0)
            if spare.alive():
                return spare
            spare.remove_files()  # it died (killed, or its imports failed): the next one may do better
        return None

    def put_back(self, key: tuple, spare: Spare) -> None:
        self._spares.setdefault(key, []).insert(0, spare)

    def count(self, key: tuple) -> int:
        return sum(spare.alive() for spare in self._spares.get(key, []))

    async def start(self, recipe: Recipe, template: Template | None = None, wait: float = 0.0) -> Spare:
        """A new spare: forked from `template` if there is one (waiting up to `wait` s for it to be ready; a
        tenth of a second of CPU, and memory shared with the template), else started the usual way (seconds of
        imports)."""
        folder = os.path.dirname(recipe.connection_file)
        name = f"kernel-spare-{uuid.uuid4().hex[:12]}"
        path = os.path.join(folder, f"{name}.json")
        ip = os.path.join(folder, f"{name}-ipc") if recipe.transport == "ipc" else recipe.ip
        path, info = write_connection_file(path, ip=ip, transport=recipe.transport, key=uuid.uuid4().hex.encode(),
                                           kernel_name=recipe.kernel_name)
        handover_file = os.path.join(folder, f"{name}-handover.json")
        env = {**recipe.env, HANDOVER: handover_file}
        cmd = [path if arg == recipe.connection_file else arg for arg in recipe.cmd] + [EXTENSION]
        process = None
        if template is not None:
            try:
                process = ForkedKernel(await template.fork(launcher_args(cmd), env, os.getcwd(), wait, spare=True))
            except (OSError, ValueError):  # a template that fails: the usual way
                template = None
        if process is None:
            process = launch_kernel(cmd, env=env, cwd=os.getcwd())
        key = info["key"].encode() if isinstance(info["key"], str) else info["key"]
        info = {**info, "key": key}  # bytes, as a kernel manager holds it (its check compares the two)
        spare = Spare(process, info, path, handover_file, env, template)
        self._spares.setdefault(recipe.key, []).append(spare)
        return spare

    async def fill(self, recipe: Recipe, count: int, template: Template | None = None, wait: float = 0.0) -> None:
        """Start spares until `count` are alive (one at a time: a recipe is filled by one task at once)."""
        if recipe.key in self._refills:
            return
        self._refills.add(recipe.key)
        try:
            while self.count(recipe.key) < count:
                await self.start(recipe, template, wait)
        finally:
            self._refills.discard(recipe.key)

    def refill_later(self, recipe: Recipe, count: int, delay: float, template: Template | None = None,
                     wait: float = 0.0) -> None:
        """Fill up to `count` spares after `delay` seconds (a page taking a kernel needs the CPU first)."""
        async def refill() -> None:
            await asyncio.sleep(delay)
            await self.fill(recipe, count, template, wait)

        task = asyncio.get_running_loop().create_task(refill())
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for spares in self._spares.values():
            for spare in spares:
                if spare.alive():
                    spare.process.kill()
                spare.remove_files()
        self._spares.clear()


POOL = SparePool()
TEMPLATES = TemplatePool()
SERVER_START_DELAY = 5.0  # seconds from a server's start to its first spare started the usual way (start_spares)


class WarmKernelProvisioner(LocalProvisioner):
    """A LocalProvisioner whose kernels start with the lab's imports done: a spare started earlier, or (Linux) a
    kernel forked from a template when no spare is ready, and on a restart."""

    fork = Bool(sys.platform == "linux", config=True, help="Keep a kernel template that did the imports, and fork "
                "a kernel from it whenever no spare is ready (Linux: macOS's system libraries are not safe to "
                "fork). Off: such a kernel starts the usual way.")
    template_wait = Float(60.0, config=True, help="Seconds a kernel waits for a template still importing (a new "
                          "kernel would import as long) before it starts the usual way.")
    spares = Integer(1, config=True, help="Spare kernels kept started for each kind of kernel.")
    refill_delay = Float(5.0, config=True, help="Seconds after a spare is taken before the next one starts the "
                         "usual way (seconds of imports: the page that took the spare needs the CPU first).")
    forked_refill_delay = Float(1.0, config=True, help="Seconds after a spare is taken, or a kernel forked for a "
                                "page, before the next spare is forked from the template (a tenth of a second of "
                                "CPU, which that page's kernel needs first).")

    _launched = False

    def recipe(self, cmd: list[str], env: dict) -> Recipe:
        """How a spare for this kernel manager starts: the server's environment and the kernel spec's variables
        (the page adds its own later)."""
        km = self.parent
        base = {name: value for name, value in os.environ.items() if name not in PER_LAUNCH}
        base.update({name: env[name] for name in (self.kernel_spec.env or {}) if name in env})
        return Recipe(list(cmd), km.connection_file, km.transport, km.ip, km.kernel_name, base)

    def forks(self, cmd: list[str]) -> bool:
        """Whether a kernel of this command comes from a template (callers have ruled out encrypted transport)."""
        return self.fork and forkable(cmd)

    def template(self, recipe: Recipe, cmd: list[str]) -> Template | None:
        """The template kernels of `recipe` are forked from (started if need be), or None where they are not."""
        if not self.forks(cmd):
            return None
        template = TEMPLATES.get(recipe.key, cmd[0], recipe.env, lambda env: unsuitable_variables(env, recipe.env))
        if template is not None:
            template.spare_after = self.forked_refill_delay
        return template

    async def launch_kernel(self, cmd: list[str], **kwargs) -> dict:
        km = self.parent
        first, self._launched = not self._launched, True
        env, cwd = dict(kwargs.get("env") or os.environ), kwargs.get("cwd") or os.getcwd()
        if km is None or getattr(km, "curve_publickey", None) is not None:
            return await super().launch_kernel(cmd, **kwargs)
        recipe = self.recipe(cmd, env)
        template = self.template(recipe, cmd)
        # a restart keeps the kernel manager's connection, which a spare does not have; a forked kernel does
        if first and self.spares >= 1 and self.hand_over_spare(recipe, env, cwd, template):
            return self.connection_info
        if template is not None and self.suits(template, env):
            self.cwd = cwd
            if not template.ready() and template.alive():
                # still importing: the kernel manager connects now and the kernel answers once forked, as a kernel
                # started the usual way answers once its imports are done (Voilà sends the page's head meanwhile)
                self.process = PendingKernel(self.fork_or_launch(template, cmd, kwargs), self.adopt)
                self.pid = self.pgid = None  # known once it is forked (`adopt`); a restart's were the old kernel's
                return self.connection_info
            pid = await self.fork_kernel(template, cmd, env, cwd)
            if pid is not None:
                self.adopt(ForkedKernel(pid))
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)

    def suits(self, template: Template, env: dict) -> bool:
        """Whether the page's environment lets its kernel be forked from `template` (said in the log if not)."""
        unsuitable = unsuitable_variables(template.env, env)
        if unsuitable:
            self.log.info("Kernel not forked: the page sets %s", unsuitable)
        return not unsuitable

    def adopt(self, process: ForkedKernel | Popen) -> None:
        """Manage `process` as this kernel, and its process group (the server interrupts and kills by group)."""
        self.process, self.pid = process, process.pid
        # a forked kernel makes its own group as it begins: asked now, getpgid could still name the template's,
        # which is the server's own
        forked = isinstance(process, ForkedKernel)
        self.pgid = process.pid if forked else os.getpgid(process.pid) if hasattr(os, "getpgid") else None
        self.log.info("Kernel %s: %s", process.pid, "forked from the template" if forked else "started the usual way")

    async def fork_or_launch(self, template: Template, cmd: list[str], kwargs: dict) -> ForkedKernel | Popen:
        """The kernel of a `PendingKernel`: forked from `template` once it is ready, else started the usual way."""
        env, cwd = dict(kwargs.get("env") or os.environ), kwargs.get("cwd") or os.getcwd()
        pid = await self.fork_kernel(template, cmd, env, cwd)
        if pid is not None:
            return ForkedKernel(pid)
        return launch_kernel(cmd, **LocalProvisioner._scrub_kwargs(kwargs))

    def hand_over_spare(self, recipe: Recipe, env: dict, cwd: str, template: Template | None) -> bool:
        """Give this kernel manager a spare, if one is ready and suits the page; start the next one later (forked
        from `template` if there is one)."""
        spare = POOL.take(recipe.key)
        delay = self.refill_delay if template is None else self.forked_refill_delay
        POOL.refill_later(recipe, self.spares, delay, template, self.template_wait)
        if spare is not None and (spare.unsuitable_variables(env) or not spare.listening()):
            self.log.info("Spare kernel not used: %s", "; ".join(filter(None, [
                spare.unsuitable_variables(env) and f"the page sets {spare.unsuitable_variables(env)}",
                not spare.listening() and "it has not loaded widgets.warm_start (yet)"])))
            POOL.put_back(recipe.key, spare)
            spare = None
        if spare is None:
            return False
        spare.hand_over(env, cwd)
        self.log.info("Kernel %s: a spare", spare.process.pid)
        self.process, self.pid = spare.process, spare.process.pid
        self.pgid = os.getpgid(self.pid) if hasattr(os, "getpgid") else None
        self.cwd = cwd
        self.connection_info = spare.info
        return True

    async def fork_kernel(self, template: Template, cmd: list[str], env: dict, cwd: str) -> int | None:
        """The pid of a kernel forked from `template` (which suits the page), or None (said in the log) if the
        template fails: the kernel then starts the usual way."""
        try:
            return await template.fork(launcher_args(cmd), env, str(cwd), self.template_wait)
        except (OSError, ValueError) as error:  # ConnectionError is an OSError
            self.log.warning("Kernel not forked: %s", error)
            return None


async def start_spares(kernels, delay: float = SERVER_START_DELAY) -> None:
    """Start the template and spares of `kernels`' (a MultiKernelManager's) default kernel as the server starts,
    before any page asks for a kernel: otherwise the first notebook a JupyterLab or Binder server opens starts cold
    (only after a first kernel does the pool know how kernels start). The template starts at once (a page that
    comes first waits for its imports: the sooner they begin, the less), and a spare is forked as soon as it is
    ready; where no template can serve, a spare starts the usual way `delay` seconds from now (the server, and the
    browser loading its page, come first). Nothing happens unless the server's provisioner is this one."""
    km, _name, _id = kernels.pre_start_kernel(None, {})
    try:
        cmd, kwargs = await km.pre_start_kernel(env=dict(os.environ))  # picks the provisioner, builds the command
        provisioner = km.provisioner
        if isinstance(provisioner, WarmKernelProvisioner) and getattr(km, "curve_publickey", None) is None:
            recipe = provisioner.recipe(cmd, kwargs.get("env") or dict(os.environ))
            template = provisioner.template(recipe, cmd)
            if template is None:
                await asyncio.sleep(delay)
            await POOL.fill(recipe, provisioner.spares, template, provisioner.template_wait)
    finally:  # what was set aside for a kernel that is never started: its connection file, its ports
        km.cleanup_connection_file()
        if getattr(km.provisioner, "ports_cached", False):
            cache = LocalPortCache.instance()
            for port in (km.shell_port, km.iopub_port, km.stdin_port, km.hb_port, km.control_port):
                cache.return_port(port)


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "widgets.warm_kernels"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """A Jupyter server (JupyterLab, Binder) that enables this module starts the kernel template and a spare as it
    starts: `"ServerApp": {"jpserver_extensions": {"widgets.warm_kernels": true}}`."""
    task = asyncio.get_event_loop().create_task(start_spares(serverapp.kernel_manager))
    task.add_done_callback(lambda done: done.cancelled() or done.exception() is None or serverapp.log.warning(
        "No spare kernel at start-up: %s", done.exception()))
    _STARTING.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_STARTING.discard)


_STARTING: set = set()
