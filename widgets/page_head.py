"""plotly's widget code, in the head of every Voilà page, so the browser loads it while the notebook still runs.

Voilà sends a page's head at once and the rest once the notebook has run (1–2 s on two busy cores); the browser
is idle meanwhile. Without help it evaluates plotly's widget bundle (the lab's lean build, 1.6 MB) only after the
widgets arrive: 0.3–1 s of CPU before the first plot. The lab's Voilà template (`widgets/voila_template`, named
`dl-lab` in `voila.json`) puts the bundle into the head with the jinja filter below, filling the page-wide slot the
figures' loaders read (`widgets.plotly_bundle`); the kernel's carrier widget then has nothing to send.

The template also moves Voilà's own front end (voila.js, which loads ~60 chunks of its code) from the page's end
to just before the first cell, right after the page config it reads: the browser fetches and evaluates it while the
kernel runs the notebook, and its app still starts on the window's load event, once the page is complete. Lab 11:
1.27 → 0.87 s from the page's end to its cells shown, interactive 4.55 → 3.96 s (median of 6, alternated).

    python -m widgets.page_head     # install the template into this environment (.ci/setup.sh, binder/postBuild)
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
from importlib import resources
from pathlib import Path

from widgets.plotly_bundle import bundle_key, bundle_source, script

TEMPLATE = "dl-lab"


def preload_script(source: str, version: str) -> str:
    """The <script> element that evaluates plotly's widget code `source` into the page's slot for it."""
    slot = script("bundle_slot.js").replace("KEY_NAME", json.dumps(bundle_key(source, version)))
    # the code as a JS string with every "<" escaped: no "</script" or "<!--" inside can end or fool the element
    literal = json.dumps(source).replace("<", "\\u003c")
    mark = 'performance.mark("dl-lab: plotly in the head");'  # when it ran, for tests and benchmarks
    # async: a module script without it would wait until the whole page (sent after the notebook ran) is parsed
    return f'<script type="module" async>\n{slot}{mark}\nfill({literal});\n</script>\n'


@functools.cache
def _installed_plotlys() -> str:
    import plotly

    return preload_script(bundle_source(), plotly.__version__)


def plotly_preload(notebook: object = None) -> str:
    """A jinja filter on the page's notebook: the <script> that loads plotly's widget code into the page; "" when
    plotly is missing, or when the notebook's metadata says it draws no plot (`"dl-lab": {"plotly": false}`, the
    index: its page would spend about a second of the browser's CPU evaluating code it never runs)."""
    metadata = getattr(notebook, "metadata", None) or {}
    if metadata.get("dl-lab", {}).get("plotly") is False:
        return ""
    try:
        return _installed_plotlys()
    except (ImportError, FileNotFoundError):  # no plotly, or one keeping its code elsewhere: the carrier sends it
        return ""


def install_template(prefix: str | Path = sys.prefix) -> Path:
    """Copy the lab's Voilà template to where Voilà looks for templates in the environment at `prefix`."""
    target = Path(prefix) / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
    target.mkdir(parents=True, exist_ok=True)
    for item in resources.files("widgets").joinpath("voila_template").iterdir():
        if item.name.endswith((".json", ".j2")):
            with resources.as_file(item) as path:
                shutil.copyfile(path, target / item.name)
    return target


if __name__ == "__main__":
    print(f"DL Lab's Voilà template: {install_template()}")
