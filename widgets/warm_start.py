"""The kernel side of a spare kernel (see `widgets.warm_kernels`), loaded as an IPython extension.

A spare starts before any page asks for it, so it does the slow part of every lab's start at once: importing
torch, plotly, ipywidgets and the dashboards, and the first torch operations. The page that later takes it has
its own folder and environment (Voilà's `SCRIPT_NAME` and `QUERY_STRING`, JupyterLab's `JPY_SESSION_NAME`):
the server writes them to the handover file, and they are applied before the page's first cell runs.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys

HANDOVER = "LAB_WARM_HANDOVER"  # the variable that names a spare's handover file


def listening_mark(handover_file: str) -> str:
    """The file a spare creates once it will apply a handover: before that (this module missing from the kernel's
    Python, say) the server must not give it to a page."""
    return f"{handover_file}.listening"


def load_ipython_extension(shell) -> None:
    def take_over(_info=None) -> None:
        if apply_handover(os.environ.get(HANDOVER, "")):
            shell.events.unregister("pre_run_cell", take_over)

    shell.events.register("pre_run_cell", take_over)
    if os.environ.get(HANDOVER):
        open(listening_mark(os.environ[HANDOVER]), "w").close()
    preload()  # a page may take the kernel before this ends: it then waits less than for a new kernel


# What the labs' pages import as they load, beyond torch and the toolkit (found by running every notebook in a
# preloaded kernel; CPU time on 2 cores): skimage's photo readers (labs 01, 12, 14: 0.3 s, +22 MB). Not
# torch._dynamo (1.1–1.4 s, +70 MB), which the `torch.optim` classes import on first use: no page uses one as it
# loads (lab 07 compares its Adam with torch's update function instead). tests/test_cold_start.py finds a package
# a new lab adds, and a page that imports torch._dynamo.
PAGE_IMPORTS = ("skimage.data", "skimage.io", "skimage.color", "skimage.transform", "psutil",
                "names")  # lab 17 reads its census lists as the page loads (the package itself: 1.5 ms)


def preload() -> None:
    """Import what the labs import, and do once what every page's first figure and first torch step pay for (a
    kernel template, which forks, does the imports only: `preload_common`, then `some_pages_imports`)."""
    preload_common()
    for name in some_pages_imports():
        importlib.import_module(name)
    from lab.device import warm_up

    warm_up()  # torch's thread pool at the size every dashboard asks for, and its first backward done


def preload_common() -> None:
    """What every lab's page imports and does before its first figure (torch, plotly, ipywidgets, the toolkit)."""
    import plotly.graph_objects as go

    import lab.device  # noqa: F401
    import widgets.dashboards  # noqa: F401
    from widgets.views.figure import TEMPLATE

    # plotly loads a trace type's classes and validators when first used; a plain Figure, not a widget (a
    # widget would reach the page that takes this kernel)
    go.Figure([go.Scatter(), go.Bar(), go.Heatmap(), go.Contour(), go.Image()], layout={"template": TEMPLATE})


def some_pages_imports() -> list[str]:
    """What only some labs' pages import, by module name: each lab's dashboard, and `PAGE_IMPORTS`."""
    import widgets.dashboards

    dashboards = [f"widgets.dashboards.{module.name}" for module in pkgutil.iter_modules(widgets.dashboards.__path__)]
    return [*dashboards, *PAGE_IMPORTS]


def apply_handover(path: str) -> bool:
    """Take the page's environment and folder from the handover file at `path`; False while there is none."""
    if not path or not os.path.exists(path):
        return False
    with open(path) as file:
        handover = json.load(file)
    for done in (path, listening_mark(path)):
        if os.path.exists(done):
            os.remove(done)
    started_in = os.getcwd()
    os.environ.update(handover["env"])
    os.chdir(handover["cwd"])
    # `python -m ipykernel_launcher` put the folder it started in on sys.path: the page's folder replaces it
    sys.path[:] = [handover["cwd"] if entry == started_in else entry for entry in sys.path]
    return True
