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
    """A regular (non-editable) install must carry the loader's .js files (or every figure stays blank) and the
    Voilà template."""
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
    for part in ("conf.json", "index.html.j2"):  # the Voilà template `python -m widgets.page_head` installs
        assert f"widgets/voila_template/{part}" in names
    assert "widgets/dashboards/__init__.py" in names and "lab/data/__init__.py" in names


def new_carrier(monkeypatch, voila: bool):
    """The carrier a kernel's first figure creates, in a Voilà kernel or a JupyterLab one."""
    for name in ("VOILA_PREHEAT", "SCRIPT_NAME"):
        monkeypatch.delenv(name, raising=False)
    if voila:
        monkeypatch.setenv("SCRIPT_NAME", "/voila/render/01_logistic_regression.ipynb")
    if plotly_bundle.current_carrier() is not None:
        plotly_bundle.current_carrier().close()  # the next figure is then the kernel's first again
    go.FigureWidget()
    return plotly_bundle.current_carrier()


def test_in_jupyterlab_the_carrier_brings_the_code_with_it(monkeypatch):
    carrier = new_carrier(monkeypatch, voila=False)
    assert carrier.bundle == plotly_bundle.bundle_source() and len(carrier.bundle) > 1_000_000


def test_in_voila_the_carrier_sends_the_code_only_to_a_page_that_asks(monkeypatch):
    carrier = new_carrier(monkeypatch, voila=True)
    assert carrier.bundle == ""  # the page's head brings it (widgets/page_head.py): 5 MB less to pass on
    sent = []
    monkeypatch.setattr(carrier, "send", lambda content, buffers=None: sent.append(content))
    carrier._handle_custom_msg({"something": "else"}, [])
    assert sent == []
    carrier._handle_custom_msg({"ask": "bundle"}, [])
    assert sent == [{"bundle": plotly_bundle.bundle_source()}]


def test_the_bundle_source_is_what_plotlys_figure_widget_would_send():
    run = subprocess.run([sys.executable, "-c", "from plotly.basewidget import BaseFigureWidget as B; "
                          "from widgets.plotly_bundle import bundle_source; print(str(B._esm) == bundle_source())"],
                         capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "LAB_SHARED_PLOTLY_BUNDLE": "0"})
    assert run.stdout.split() == ["True"]
