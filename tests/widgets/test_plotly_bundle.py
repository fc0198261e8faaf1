"""The plotly bundle travels once per kernel: figures get a small loader, one hidden carrier holds the code."""

import importlib.resources
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
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
    for script in ("bundle_carrier.js", "bundle_slot.js", "figure_loader.js", plotly_bundle.LEAN_BUNDLE):
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


def test_plotlys_own_bundle_is_what_its_figure_widget_would_send():
    run = subprocess.run([sys.executable, "-c", "from plotly.basewidget import BaseFigureWidget as B; "
                          "from widgets.plotly_bundle import plotlys_bundle; print(str(B._esm) == plotlys_bundle())"],
                         capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "LAB_SHARED_PLOTLY_BUNDLE": "0"})
    assert run.stdout.split() == ["True"]


ROOT = Path(__file__).resolve().parents[2]
LEAN = plotly_bundle.script(plotly_bundle.LEAN_BUNDLE)


def test_the_pages_load_the_lean_build_with_the_installed_plotly():
    """A plotly with another widget protocol or plotly.js needs a new build (.ci/build-plotly-widget): without one
    every page silently falls back to plotly's own 5 MB bundle."""
    assert plotly_bundle.bundle_source() == LEAN
    assert len(LEAN) < len(plotly_bundle.plotlys_bundle()) / 2.5
    assert LEAN.startswith(f"// plotly {plotly.__version__} FigureWidget front end")  # the build says what it is


def test_the_lean_build_speaks_the_installed_plotlys_widget_protocol():
    protocol = plotly_bundle.widget_protocol(LEAN)
    assert {"_py2js_restyle", "_py2js_relayout", "_js2py_relayout", "_widget_data"} <= protocol
    own = plotly_bundle.widget_protocol(plotly_bundle.plotlys_bundle())
    assert protocol == own - plotly_bundle.RENAMED_IN_LEAN_BUILD  # the one name the lean build answers under
    assert hasattr(BaseFigureWidget, "_py2js_restyle") and hasattr(BaseFigureWidget, "_js2py_relayout")


def test_the_lean_build_answers_every_drawn_edit_under_the_names_the_python_side_listens_to():
    """plotly's widget code answers a drawn layout edit as "_js2py_widget_layoutDelta", a name no trait of its
    FigureWidget has: the kernel never learns that a layout edit was drawn, so `widgets.draw_pace` could only
    trust the traces' answer. The lean build answers as `_js2py_layoutDelta`, with the edit's number and no
    deltas (.ci/plotly-widget-answers.patch; browser check: test_voila.py's
    test_a_training_run_is_drawn_live_and_each_drawn_edit_is_answered_once)."""
    own = plotly_bundle.plotlys_bundle()
    assert plotly_bundle.widget_protocol(own) >= plotly_bundle.RENAMED_IN_LEAN_BUILD  # the name the patch fixes
    assert not any(hasattr(BaseFigureWidget, name) for name in plotly_bundle.RENAMED_IN_LEAN_BUILD)
    assert "_js2py_widget_layoutDelta" not in LEAN and '"_js2py_layoutDelta"' in LEAN
    assert 'layout_delta:{}' in LEAN and 'trace_deltas:[]' in LEAN  # the answers carry no deltas
    assert "plotly-widget-answers.patch" in LEAN.splitlines()[0]


def test_the_lean_build_keeps_its_echo_marker_out_of_plotly_js():
    """plotly's widget code marks each edit from Python with a "_doNotReportToPy" key inside the edit's data;
    plotly.js takes it for an unknown attribute and recalculates and redraws the whole figure, a title change
    included. The lean build carries .ci/plotly-widget-echo.patch instead (browser check: lab 06's
    test_a_new_dev_shift_moves_the_rings_without_redrawing_the_plots)."""
    assert "_doNotReportToPy" in plotly_bundle.plotlys_bundle()  # what the patch is for is still there
    assert "_doNotReportToPy" not in LEAN and "pyEdits" in LEAN
    assert "plotly-widget-echo.patch" in LEAN.splitlines()[0]


def test_the_lean_build_carries_the_same_plotly_js_as_plotlys_own():
    """plotly's Python side validates figures against one plotly.js release: the lean build takes that release."""
    head = importlib.resources.files("plotly").joinpath("package_data", "plotly.min.js").open().read(200)
    release = re.search(r"plotly\.js v(\S+)", head).group(1)
    assert plotly_bundle.plotly_js_release(LEAN) == release == plotly_bundle.plotly_js_release(
        plotly_bundle.plotlys_bundle())
    assert f"plotly.js-cartesian-dist-min {release}," in LEAN.splitlines()[0]


def every_trace_type_the_labs_draw() -> set[str]:
    """Trace types named anywhere in the lab's code and notebooks: go.X(...), fig.add_x(...), type="x"."""
    members = {name: getattr(go, name) for name in dir(go) if name[:1].isupper()}  # go imports its classes lazily
    classes = {name: cls for name, cls in members.items() if isinstance(cls, type) and issubclass(cls, BaseTraceType)}
    known = {cls().type for cls in classes.values()}
    found = set()
    for path in [*ROOT.glob("lab/**/*.py"), *ROOT.glob("widgets/**/*.py"), *ROOT.glob("notebooks/*.ipynb")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        found |= {classes[name]().type for name in re.findall(r"\bgo\.(\w+)\(", text) if name in classes}
        found |= set(re.findall(r"\.add_(\w+)\(", text)) & known
        found |= set(re.findall(r"\btype\s*[=:]\s*[\"'](\w+)[\"']", text)) & known
    return found


def test_the_lean_build_draws_every_trace_type_the_labs_use():
    used = every_trace_type_the_labs_draw()
    assert {"scatter", "heatmap", "bar"} <= used  # the scan finds what is there
    assert used <= plotly_bundle.trace_types(LEAN), used - plotly_bundle.trace_types(LEAN)
    assert "scatter3d" not in plotly_bundle.trace_types(LEAN)  # and the build is the lean one


OTHER_PLOTLYS = {  # what a plotly release that needs a new lean build could change in its own bundle
    "another plotly.js": lambda code: re.sub(r'(\.version=")[^"]+("\})', r"\g<1>9.9.9\2", code),
    "a renamed message": lambda code: code.replace("_py2js_restyle", "_py2js_restyleTraces"),
}


@pytest.mark.parametrize("change", OTHER_PLOTLYS)
def test_with_another_plotly_the_pages_load_plotlys_own_bundle(monkeypatch, change):
    other = OTHER_PLOTLYS[change](plotly_bundle.plotlys_bundle())
    assert other != plotly_bundle.plotlys_bundle()
    monkeypatch.setattr(plotly_bundle, "plotlys_bundle", lambda: other)
    plotly_bundle.bundle_source.cache_clear()
    try:
        assert plotly_bundle.bundle_source() == other
    finally:
        monkeypatch.undo()
        plotly_bundle.bundle_source.cache_clear()
    assert plotly_bundle.bundle_source() == LEAN


@pytest.mark.parametrize("source", ["", "var a=1;", 'k.version="4.1.1"'])
def test_other_code_names_no_plotly_js_release(source):
    assert plotly_bundle.plotly_js_release(source) is None
