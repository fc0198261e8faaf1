"""The plotly bundle travels once per kernel: figures get a small loader, one hidden carrier holds the code."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import plotly.graph_objects as go
from plotly.basewidget import BaseFigureWidget

import widgets  # noqa: F401  (installs the shared bundle)
from widgets import plotly_bundle

CHECK = """
import os, sys
import plotly.graph_objects as go
import widgets
from widgets import plotly_bundle
figure = go.FigureWidget()
print(len(figure._esm), plotly_bundle.install())
"""


def test_figures_carry_a_small_loader_and_the_first_one_brings_the_carrier():
    figure = go.FigureWidget()
    assert len(figure._esm) < 10_000  # the loader, not plotly's 5 MB bundle
    assert "bundle_slot" not in figure._esm and "Symbol.for" in figure._esm
    assert "_py2js_restyle" in figure._esm  # messages recorded until the bundle arrives
    assert plotly_bundle.install() is True  # a second install is a no-op that reports it is in place
    assert getattr(BaseFigureWidget, "_lab_shared_bundle", False)


def test_the_bundle_key_changes_with_the_code():
    assert plotly_bundle.bundle_key("a", "7.0") != plotly_bundle.bundle_key("b", "7.0")
    assert plotly_bundle.bundle_key("a", "7.0") != plotly_bundle.bundle_key("a", "7.1")


def test_the_escape_hatch_leaves_plotly_alone():
    run = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "LAB_SHARED_PLOTLY_BUNDLE": "0"})
    size, installed = run.stdout.split()
    assert int(size) > 1_000_000 and installed == "False"  # plotly's own bundle, inside the figure


def test_the_javascript_ships_in_the_wheel(tmp_path):
    """A regular (non-editable) install must carry the loader's .js files, or every figure stays blank."""
    root = Path(__file__).resolve().parents[2]
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(root, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                                "test-artifacts", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("dl_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for script in ("bundle_carrier.js", "bundle_slot.js", "figure_loader.js"):
        assert f"widgets/js/{script}" in names
    assert "widgets/dashboards/__init__.py" in names and "lab/data/__init__.py" in names
