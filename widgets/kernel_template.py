"""A kernel template: one process that has done every lab's imports and forks a new kernel in a few milliseconds.

A spare kernel (`widgets.warm_kernels`) serves one page. Started the usual way, the next spare imports torch for
seconds, and a page opened meanwhile waited for a cold kernel. A template imports what the labs import once, then
waits on a Unix socket. For each request (the kernel's command line, the environment and folder) it forks; the
child becomes the kernel, with the imports already in its memory (shared with the template until written to), and
the template replies with its pid. The server forks its spares this way, and a kernel for a page that finds no
spare, and manages each by its pid (`ForkedKernel`).

Fork-safety, which is why this is Linux only and why the template does less than a spare:
- the template runs no torch operation (torch's thread pool would not survive a fork): the child sizes the pool
  and warms it up (`lab.device.warm_up`);
- it opens no ZeroMQ context, event loop or kernel: the child starts those, as `ipykernel_launcher` would;
- the only other threads are OpenBLAS's pools (numpy's, scipy's), which shut down before a fork and start again;
- the child draws fresh seeds for `random`, numpy and torch: otherwise every kernel would start from the same
  random state;
- the template imports with no kernel running, and two of its imports look for one as they load: ipywidgets
  registers the comm targets through which a page asks for every widget's state at once, plotly picks its default
  renderer. The child does both once its kernel exists (`load_ipython_extension`). Without the targets a page fell
  back to asking for each widget in turn: 0.2–0.8 s more before the first widget showed (301 widgets in lab 11);
- what the template imported is frozen for Python's garbage collector (`gc.freeze`), so that a kernel's
  collections do not write to, and so copy, the memory it shares with the template.

Run as `python -m widgets.kernel_template SOCKET`; the socket appears once the imports every page needs are done,
so its presence means ready; what only some pages import follows between requests. The template exits when the
server that started it (its parent) goes away, and ends its kernels then; a kernel ends when the template does, as a
kernel started the usual way ends with its server.

`binder/start` starts one before the server (`--before-server`), as the server's parent that then becomes the
server: a Jupyter server takes 2.5-3.5 s to start, the template ~2 s to import, so a page requested the moment the
server answers finds it ready. It says who it is in SOCKET.json (its pid, Python and environment); the server adopts
it (`widgets.forked_kernels.TemplatePool`) if its kernels run that Python with that environment, and otherwise ends
it. One that no server claims within `UNCLAIMED_EXIT` seconds exits.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import signal
import socket
import sys
import time

READY_SUFFIX = ".part"  # the socket is bound under this name and renamed once it listens
BEFORE_SERVER = "DL_LAB_KERNEL_TEMPLATE"  # names the socket of a template started before the server (binder/start)
ANNOUNCED = ".json"  # SOCKET.json: who a template started before the server is
CLAIMED = ".claimed"  # SOCKET.claimed: made by the server that adopted it
UNCLAIMED_EXIT = 120.0


def serve(path: str, before_server: bool = False, unclaimed_exit: float = UNCLAIMED_EXIT) -> None:
    """Import, then fork a kernel for each request on the Unix socket at `path` until the parent goes away (or, for
    a template started `before_server`, until `unclaimed_exit` seconds pass with no server claiming it)."""
    parent = os.getppid()
    claim_by = time.monotonic() + unclaimed_exit if before_server else float("inf")
    if before_server:
        announce(path)
    from widgets.warm_start import preload_common, some_pages_imports

    # as Python's gc documentation advises for a process that forks: no collection while importing (it would
    # leave freed holes in pages the kernels then share), and everything imported frozen, so that a kernel's
    # collections never write to (and so copy) the pages it shares with the template
    gc.disable()
    preload_common()
    import ipykernel.kernelapp  # noqa: F401 (what each kernel imports next: done once here, 0.05-0.1 s each)

    gc.freeze()
    # ready once what every page needs is imported: a page opened as the server starts waits for no more. What
    # only some pages import follows, a module at a time, between requests (a kernel forked before one is done
    # imports it itself, if its page needs it)
    later = some_pages_imports()
    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the server closing: end the kernels too (below)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + READY_SUFFIX)
    listener.listen(8)
    os.rename(path + READY_SUFFIX, path)  # ready: a client never meets a socket that does not listen yet
    try:
        while os.getppid() == parent and not unclaimed(path, claim_by):
            listener.settimeout(0.001 if later else 1.0)  # importing: only a glance for a request
            serve_one(listener)
            if later:
                with contextlib.suppress(Exception):  # a page that needs it says why, in its own kernel
                    importlib.import_module(later.pop(0))
                gc.freeze()
    finally:
        listener.close()
        os.remove(path)
        for pid in KERNELS:  # a kernel started the usual way ends with its server (ipykernel's parent poller)
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def announce(path: str) -> None:
    """Say who this template is, for the server it was started before (readable by this user only: the environment
    may hold secrets)."""
    partial = path + ANNOUNCED + READY_SUFFIX
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump({"pid": os.getpid(), "python": sys.executable, "env": dict(os.environ)}, file)
    os.rename(partial, path + ANNOUNCED)
    atexit.register(remove_files, path + ANNOUNCED, path + CLAIMED)  # however it ends (its kernels end by os._exit)


def remove_files(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def unclaimed(path: str, claim_by: float) -> bool:
    """Whether a template started before the server is past `claim_by` (time.monotonic) and still not adopted (the
    server has another provisioner, or its kernels run another Python): it would only hold memory."""
    return time.monotonic() > claim_by and not os.path.exists(path + CLAIMED)


KERNELS: set[int] = set()  # the kernels forked and not yet reaped


def serve_one(listener: socket.socket) -> None:
    """Answer one request, if one comes within the listener's timeout: fork a kernel, reply with its pid."""
    try:
        connection, _ = listener.accept()
    except TimeoutError:
        return
    with connection:
        connection.settimeout(30)  # not the listener's (a millisecond while the template imports)
        try:
            request = json.loads(connection.makefile("r").readline())
            argv, env, cwd = list(request["argv"]), dict(request["env"]), str(request["cwd"])
        except (ValueError, KeyError, TypeError) as error:  # a bad request: say so, serve the next one
            connection.sendall(json.dumps({"error": f"bad request: {error!r}"}).encode() + b"\n")
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # not reaped before it is in KERNELS
        pid = os.fork()
        if pid == 0:
            listener.close()
            connection.close()
            become_kernel(argv, env, cwd)  # never returns
        KERNELS.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def reap(_signum=None, _frame=None) -> None:
    """Collect every kernel that ended, so that its pid stops existing (the server polls it by pid)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        KERNELS.discard(pid)


def become_kernel(argv: list[str], env: dict, cwd: str) -> None:
    """In the forked child: take the page's environment and folder, then run ipykernel with `argv` (the arguments
    after `-m ipykernel_launcher`). Exits the process when the kernel ends."""
    code = 1
    try:
        os.setsid()  # a process group of its own: the server interrupts and kills the kernel by group
        gc.enable()
        for name in ("SIGCHLD", "SIGTERM"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        started_in = os.getcwd()
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        # as `python -m ipykernel_launcher` would have: the page's folder first on sys.path, not the template's
        sys.path[:] = [cwd if entry == started_in else entry for entry in sys.path]
        fresh_seeds()
        from lab.device import warm_up

        warm_up()
        from ipykernel import kernelapp

        # the template is the parent, and its pid is what the kernel watches: when the template ends, so does the
        # kernel, as a kernel started the usual way ends with the server (ipykernel's parent poller)
        # --ext: this module by its import name (the template runs it as __main__), for load_ipython_extension
        argv = [*argv, f"--IPKernelApp.parent_handle={os.getppid()}", "--ext=widgets.kernel_template"]
        sys.argv = [sys.executable, *argv]
        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def load_ipython_extension(_shell) -> None:
    """In a forked kernel, once the kernel exists: what the template's imports do when they load in a kernel, and
    so did not do in the template (ipywidgets' comm targets, plotly's choice of renderer)."""
    import ipywidgets
    import plotly.io._renderers

    ipywidgets.register_comm_target()
    importlib.reload(plotly.io._renderers)  # the same module object, run again now that it finds a kernel (0.3 ms)


def fresh_seeds() -> None:
    import random

    import numpy
    import torch

    random.seed()
    numpy.random.seed()
    torch.seed()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m widgets.kernel_template")
    parser.add_argument("socket")
    parser.add_argument("--before-server", action="store_true", help="started before the server (binder/start)")
    parser.add_argument("--unclaimed-exit", type=float, default=UNCLAIMED_EXIT, help="seconds a template started "
                        "before the server waits to be adopted")
    arguments = parser.parse_args()
    serve(arguments.socket, arguments.before_server, arguments.unclaimed_exit)
