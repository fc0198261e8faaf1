"""The house rules of DESIGN.md that a test can check."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
from clean_notebooks import clean  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
UI_PACKAGES = ("ipywidgets", "plotly", "IPython", "anywidget", "traitlets")


def test_lab_imports_no_ui_package():
    """Every module of lab, subpackages included (lab.data.*), imported in a fresh interpreter."""
    code = ("import importlib, pkgutil, sys\nimport lab\n"
            "names = [m.name for m in pkgutil.walk_packages(lab.__path__, 'lab.')]\n"
            "for name in names:\n    importlib.import_module(name)\n"
            f"print(len(names), [m for m in {UI_PACKAGES!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    count, found = out.stdout.strip().split(" ", 1)
    assert found == "[]", f"lab pulled in UI packages: {out.stdout}"
    assert int(count) >= len(list((ROOT / "lab").rglob("*.py"))) - 1  # every module but lab/__init__.py


def test_importing_lab_data_is_instant():
    """lab.data is a package of loaders: importing it must not load torch, scikit-image or the GloVe files."""
    code = "import sys\nimport lab.data\nprint(sorted(m for m in ('torch', 'skimage', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_data_loaders_keep_scikit_image_lazy():
    """Importing every data source (but calling none) must not import scikit-image: it takes a moment."""
    code = ("import sys\nimport lab.data.digits, lab.data.faces, lab.data.photos, lab.data.scenes, "
            "lab.data.glove, lab.data.corpus, lab.data.planar, lab.data.split\n"
            "print([m for m in ('skimage', 'pyarrow', 'sklearn') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_widgets_never_import_torch_nn_models_directly():
    """widgets/ reads controls and calls lab; the math stays in lab/."""
    for path in (ROOT / "widgets").rglob("*.py"):
        text = path.read_text()
        assert "torch.nn" not in text and "backward(" not in text, f"math in {path.relative_to(ROOT)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_clean(path):
    """No widget state (megabytes of plotly); outputs only in the cells nbval checks, which must have them."""
    notebook = json.loads(path.read_text())
    assert clean(notebook) == notebook, f"run: python .ci/clean_notebooks.py {path.relative_to(ROOT)}"
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT"):
            assert cell["metadata"].get("keep_output") and cell["outputs"], "".join(cell["source"])[:60]


def test_the_cleaner_strips_widget_state_and_keeps_checked_outputs():
    stream = {"output_type": "stream", "name": "stdout", "text": "cost = 5.8\n"}
    widget = {"output_type": "display_data", "data": {"application/vnd.jupyter.widget-view+json": {}}}
    notebook = {"metadata": {"widgets": {"state": "5 MB"}, "kernelspec": {"name": "python3"}}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": 4, "source": "dashboard()", "outputs": [widget]},
        {"cell_type": "code", "metadata": {"keep_output": True}, "execution_count": 9,
         "source": "# NBVAL_CHECK_OUTPUT\nprint(cost)", "outputs": [stream]},
    ]}
    cleaned = clean(notebook)
    assert cleaned["metadata"] == {"kernelspec": {"name": "python3"}}
    assert cleaned["cells"][0]["outputs"] == [] and cleaned["cells"][0]["execution_count"] is None
    assert cleaned["cells"][1]["outputs"] == [stream] and cleaned["cells"][1]["execution_count"] == 1
    assert notebook["metadata"]["widgets"] == {"state": "5 MB"}  # the input is left alone


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_cells_are_thin(path):
    """No installs, downloads or seeds; a few lines per cell."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            assert not re.search(r"%pip|!pip|urllib|requests\.|manual_seed|wget|curl ", source), source
            assert source.count("\n") < 12, source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_with_dashboards_ends_by_following_its_link(path):
    """Settings in a Voilà address reach only the dashboards built before `follow_link()` runs: it must be last."""
    code = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    follows = [i for i, source in enumerate(code) if "follow_link()" in source]
    if any(re.search(r"\w+_dashboard\(", source) for source in code):
        assert follows == [len(code) - 1], f"{path.name}: follow_link() is not the one last code cell"
    else:
        assert follows == [], f"{path.name} has no dashboard to follow a link into"


def test_index_links_every_notebook_and_every_link_resolves():
    index = "".join("".join(c["source"]) for c in json.loads((ROOT / "notebooks/00_index.ipynb").read_text())["cells"])
    links = set(re.findall(r"\]\(([^)#]+\.ipynb)\)", index))
    names = {p.name for p in NOTEBOOKS} - {"00_index.ipynb"}
    assert links == names
    for path in NOTEBOOKS:
        for link in re.findall(r"\]\(([^)#]+\.ipynb)\)", path.read_text()):
            assert (ROOT / "notebooks" / link).exists(), f"{path.name} links to missing {link}"
