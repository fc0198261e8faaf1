"""Settings in a link: what a link writes, what it reads back, what a bad value does, and that every dashboard of
every notebook comes back with the same settings from its own link (found by walking `widgets.dashboards`)."""

from __future__ import annotations

import base64
import json
import re
import sys
import types
from contextlib import nullcontext as _no_hold

import ipywidgets as W
import pytest
from test_robustness import all_dashboards, job_threads, wait_for
from test_training_panel import make_panel

from widgets.controls import checkbox, control
from widgets.dashboard import Dashboard
from widgets.settings_link import (
    TARGET,
    apply_query,
    as_text,
    follow_link,
    link_query,
    page_dashboards,
    parse,
    request_query,
    shareable,
)
from widgets.training_panel import TrainingPanel
from widgets.views.cost_curves import CostCurves


@pytest.fixture(autouse=True)
def _outside_voila(monkeypatch):
    """Each test says where it runs: none of Voilà's or JupyterLab's variables leak in from the shell."""
    for name in ("VOILA_PREHEAT", "SCRIPT_NAME", "QUERY_STRING", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------------------------- one value


@pytest.mark.parametrize("widget, value", [
    (control("lr", value=0.0031622776601683794), 0.0031622776601683794),  # a log slider's drag value, exactly
    (control("keep_prob", value=0.85), 0.85),
    (control("num_iterations", value=300), 300),
    (control("optimizer", value="adam"), "adam"),
    (checkbox("Batch norm", "", value=True), True),
    (W.Text(value="king"), "king"),
    (W.BoundedFloatText(value=-1.5, min=-5, max=5), -1.5),
])
def test_every_kind_of_control_reads_back_the_value_its_link_writes(widget, value):
    read = parse("x", widget, as_text(value))
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize("widget, text, why", [
    (control("lr", low=1e-4, high=1.0), "5", r"between 0\.0001 and 1 \(the control's range\)\. Got '5'"),
    (control("lr"), "fast", r"must be a number\. Got 'fast'"),
    (control("lr"), "nan", r"between .* Got 'nan'"),
    (control("lr"), "inf", r"between .* Got 'inf'"),
    (control("num_iterations"), "2.5", r"must be a whole number\. Got '2\.5'"),
    (control("optimizer"), "lbfgs", r"must be one of \[.*'adam'.*\]\. Got 'lbfgs'"),
    (checkbox("Batch norm", ""), "maybe", r"a switch: true or false\. Got 'maybe'"),
])
def test_a_value_the_control_cannot_take_is_refused_by_name(widget, text, why):
    with pytest.raises(ValueError, match=r"The 'x' setting .*" + why):
        parse("x", widget, text)


def test_a_link_holds_only_the_changed_values_and_quotes_what_needs_it():
    assert link_query({"lr": 0.3, "seed": 1, "tag noise": True}, {"lr": 0.005, "seed": 1, "tag noise": False}) \
        == "lr=0.3&tag%20noise=true"
    assert link_query({"lr": 0.005}, {"lr": 0.005}) == "" == link_query({"lr": 0.005}, {"lr": 0.005}, "optimizer")
    assert link_query({"lr": 0.3}, {"lr": 0.005}, "optimizer") == "dashboard=optimizer&lr=0.3"


def test_buttons_and_drawing_boards_are_not_settings():
    controls = {"lr": control("lr"), "train": W.Button(), "board": W.Image(), "notes": W.Textarea()}
    assert list(shareable(controls)) == ["lr"]


# ----------------------------------------------------------------------------------------------- one dashboard


def panel_dashboard():
    """A training dashboard with two controls whose job never trains (each start is counted)."""
    starts = []

    def work(run, cancel):
        starts.append(run.config)
        return iter(())
    controls = {"lr": control("lr", low=1e-3, high=1.0), "num_iterations": control("num_iterations", value=50)}
    panel = TrainingPanel(controls, work, label=lambda c: f"α={c['lr']:.2g}", costs=CostCurves("cost"))
    return panel.dashboard(figures={"cost": panel.costs.figure}), starts


def test_the_link_line_follows_the_controls(monkeypatch):
    dashboard, _ = panel_dashboard()
    line = dashboard.settings_link.widget
    assert line in dashboard.children and "Move a control, and a link to this dashboard" in line.value
    with dashboard.panel.held():
        dashboard.controls["lr"].value = 0.03
    assert dashboard.name == "panel"  # built by panel_dashboard()
    assert "add <code>?dashboard=panel&amp;lr=0.03</code> to this notebook's Voilà address" in line.value
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/learner/dl-lab/notebooks/07_optimization.ipynb")
    dashboard.settings_link.refresh()
    assert "<code>…/voila/render/07_optimization.ipynb?dashboard=panel&amp;lr=0.03</code>" in line.value
    monkeypatch.setenv("SCRIPT_NAME", "/voila/render/07_optimization.ipynb")
    dashboard.settings_link.refresh()
    assert '<a class="lab-link" href="?dashboard=panel&amp;lr=0.03" target="_blank"' in line.value
    assert ">Link to these settings</a>" in line.value


def test_a_link_sets_the_controls_and_the_training_waits_for_train():
    dashboard, starts = panel_dashboard()
    problems = apply_query("lr=0.3&num_iterations=120", [dashboard])
    assert problems == [] and dashboard.controls["lr"].value == 0.3
    assert dashboard.controls["num_iterations"].value == 120
    assert starts == [] and dashboard.panel.run is None  # nothing trained at load
    assert dashboard.status.text == ("Settings from the link: lr = 0.3, num_iterations = 120. "
                                     "Press Train to run them.")
    dashboard.controls["lr"].value = 0.2  # the hold ends with the link: a learner's move trains again
    assert dashboard.runner.wait(10) and starts[-1]["lr"] == 0.2


def test_a_bad_value_is_named_on_screen_and_the_others_still_apply():
    dashboard, starts = panel_dashboard()
    problems = apply_query("lr=50&num_iterations=120&momentum=0.9", [dashboard])
    assert dashboard.controls["num_iterations"].value == 120 and dashboard.controls["lr"].value != 50
    assert len(problems) == 2 and "'lr' setting must be between 0.001 and 1" in problems[0]
    assert problems[1] == "The link names settings this page does not have: momentum."
    assert dashboard.status.kind == "warning" and dashboard.status.text == (
        "Settings from the link: num_iterations = 120. Press Train to run them. Not applied: The 'lr' setting must "
        "be between 0.001 and 1 (the control's range). Got '50' instead. The link names settings this page does "
        "not have: momentum.")
    assert "lab-link-problem" not in dashboard.settings_link.widget.value  # said once, on the status line
    assert starts == []


def test_a_view_without_a_status_line_says_it_under_its_link():
    view = Dashboard([], controls={"lr": control("lr", low=1e-3, high=1.0)}, name="surface")
    assert apply_query("lr=-1&beta=2", [view]) == [
        "The 'lr' setting must be between 0.001 and 1 (the control's range). Got '-1' instead.",
        "The link names settings this page does not have: beta."]
    shown = view.settings_link.widget.value
    assert 'class="lab-link-problem"' in shown and "Got &#x27;-1&#x27;" in shown and "have: beta." in shown


def test_a_name_two_dashboards_share_sets_both_and_a_view_redraws_at_once():
    first, _ = panel_dashboard()
    seen = []
    view = Dashboard([], controls={"lr": control("lr", low=1e-3, high=1.0)})
    view.controls["lr"].observe(lambda change: seen.append(change["new"]), names="value")
    apply_query("lr=0.5", [first, view])
    assert first.controls["lr"].value == view.controls["lr"].value == 0.5 and seen == [0.5]


def test_a_link_that_names_its_dashboard_sets_only_that_one():
    first, _ = panel_dashboard()
    view = Dashboard([], controls={"lr": control("lr", low=1e-3, high=1.0)}, name="surface")
    assert apply_query("dashboard=surface&lr=0.5", [first, view]) == []
    assert view.controls["lr"].value == 0.5 and first.controls["lr"].value != 0.5
    problems = apply_query("dashboard=adam&lr=0.2", [first, view])
    assert problems == ["The link is for a dashboard named 'adam'; this page has ['panel', 'surface']."]
    assert view.controls["lr"].value == 0.5 and first.status.text.startswith("The link is for a dashboard named")


def test_the_export_carries_the_runs_link(monkeypatch):
    monkeypatch.setenv("SCRIPT_NAME", "/voila/render/07_optimization.ipynb")
    panel, _ = make_panel()
    panel.dashboard(panel.costs.figure, figures={"costs": panel.costs.figure})  # the export's link is the page's
    panel.controls["lr"].value = 0.25
    assert panel.runner.wait(10)
    links = panel.export.widget.value
    saved = json.loads(base64.b64decode(re.search(r'application/json;base64,([^"]+)"', links).group(1)))
    assert saved["link"] == "/voila/render/07_optimization.ipynb?lr=0.25" and saved["settings"]["lr"] == 0.25


# ----------------------------------------------------------------------------------------------- the page


def test_follow_link_reads_the_address_voila_gave_the_kernel(monkeypatch):
    dashboard, _ = panel_dashboard()
    monkeypatch.setenv("QUERY_STRING", "lr=0.4")
    follow_link()
    assert dashboard in page_dashboards() and dashboard.controls["lr"].value == 0.4


def test_a_preheated_kernel_waits_for_its_request_to_learn_the_address(monkeypatch):
    """Voilà ran the notebook before the request: its helper blocks until the request's query string arrives."""
    asked = []
    utils = types.ModuleType("voila.utils")
    utils.get_query_string = lambda: asked.append("waited") or "num_iterations=7"
    monkeypatch.setitem(sys.modules, "voila.utils", utils)
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setenv("QUERY_STRING", "num_iterations=99")  # a preheated kernel's start-up value is not the page's
    assert request_query() == "num_iterations=7" and asked == ["waited"]
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    assert request_query() == "num_iterations=99"


def test_an_address_that_cannot_be_read_is_said_and_the_page_still_works(monkeypatch):
    def refused():  # as Voilà's helper does: the connection is tried in a thread, and a failure only warns
        import threading
        import warnings
        asking = threading.Thread(target=lambda: warnings.warn("Failed to connect to ws://127.0.0.1:8866/voila/"
                                                                "query/k", stacklevel=1))
        asking.start()
        asking.join()
        return None
    utils = types.ModuleType("voila.utils")
    utils.get_query_string = refused
    monkeypatch.setitem(sys.modules, "voila.utils", utils)
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    dashboard, _ = panel_dashboard()
    follow_link()
    first = page_dashboards()[0].settings_link.widget.value
    assert "Settings in this page&#x27;s address could not be read (Failed to connect to ws://" in first
    assert dashboard.controls["lr"].value == control("lr", low=1e-3, high=1.0).value


def test_outside_voila_there_is_no_address_and_nothing_changes():
    dashboard, _ = panel_dashboard()
    follow_link()
    assert dashboard.controls["lr"].value == control("lr").value and dashboard.panel.run is None


def moved(widget):
    """A value the control can take other than its current one (the far end of a slider, another option)."""
    if isinstance(widget, W.Checkbox):
        return not widget.value
    if isinstance(widget, W.Dropdown):
        values = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return next((v for v in reversed(values) if v != widget.value), widget.value)
    if isinstance(widget, W.Text):
        return widget.value + "s"
    low, high = (widget.base ** widget.min, widget.base ** widget.max) if isinstance(widget, W.FloatLogSlider) \
        else (widget.min, widget.max)
    return low if widget.value != low else high


def test_every_dashboard_comes_back_from_its_own_link_with_the_same_settings():
    """Walked, not listed: each control of each dashboard is moved, its link followed on a fresh copy of the same
    dashboard, and every setting must come back as it was, with nothing trained at load."""
    failures, checked = [], 0
    for name, function in all_dashboards(failures):
        original = function()
        controls = shareable(original.controls)
        if TARGET in controls:  # the query key that names the dashboard cannot also be a setting
            failures.append(f"{name}: a control is named {TARGET!r}")
        panel = original.panel
        for widget in controls.values():
            with panel.held() if panel is not None else _no_hold():
                widget.value = moved(widget)
        wanted = {key: widget.value for key, widget in controls.items()}  # after any control reshaped another
        query = original.settings_link.query()
        copy = function()
        problems = apply_query(query, [copy])
        got = {key: widget.value for key, widget in shareable(copy.controls).items()}
        if problems or got != wanted:
            failures.append(f"{name}: link {query!r} gave {problems or got}, wanted {wanted}")
        if copy.panel is not None and copy.panel.run is not None:
            failures.append(f"{name}: following a link started a run at load")
        for dashboard in (original, copy):
            if dashboard.runner is not None and hasattr(dashboard.runner, "stop"):
                dashboard.runner.stop()
        checked += len(controls)
    assert wait_for(lambda: not job_threads(), 60)
    assert not failures, "\n".join(failures)
    assert checked > 200  # the walk found the labs (246 controls in 19 labs when written)
