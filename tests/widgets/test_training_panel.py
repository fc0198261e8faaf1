"""The training panel: what every training dashboard gets without writing it — buttons, latest-wins runs,
costs overlaid, the status line, export links, and errors on screen."""

import base64
import re
import threading

import ipywidgets as W
import pytest

from lab.training import DoneEvent, StepEvent, side_by_side, train
from widgets.controls import control
from widgets.runner import Refusal
from widgets.training_panel import Run, TrainingPanel, export_stem
from widgets.views.cost_curves import CostCurves


class Halving:
    """A task whose cost halves each step, from `start`: enough to drive the loop without a model."""

    def __init__(self, start: float, gate: threading.Event | None = None):
        import torch

        self.torch, self.cost, self.gate = torch, start, gate
        self.steps = 0

    def step(self):
        if self.gate is not None:
            self.gate.wait(5)
        cost, self.cost = self.cost, self.cost / 2
        self.steps += 1
        return self.torch.tensor(cost), {"w": self.torch.tensor([cost, 0.0])}

    def evaluate(self):
        return {"train_accuracy": 1.0 - self.cost}


def make_panel(gate: threading.Event | None = None, **kwargs):
    controls = {"lr": control("lr", value=0.5, low=0.01, high=1.0),
                "num_iterations": control("num_iterations", value=50, low=1, high=200)}
    calls = {"done": [], "start": []}

    def work(run: Run, cancel):
        run.model = Halving(run.config["lr"], gate)
        yield from train(run.model, run.config["num_iterations"], cancel=cancel)

    panel = TrainingPanel(controls, kwargs.pop("work", work), label=lambda c: f"α={c['lr']:.2g}",
                          costs=CostCurves("cost"),
                          on_done=kwargs.pop("on_done", lambda run: calls["done"].append(run)),
                          on_start=lambda run: calls["start"].append(run.label), **kwargs)
    return panel, calls


def test_a_control_change_starts_a_run_whose_curve_and_export_appear():
    panel, calls = make_panel(fixed={"data": "halving"})
    panel.controls["lr"].value = 0.25
    assert panel.runner.wait(10)
    run = panel.run
    assert run.label == "α=0.25" and run.config == {"lr": 0.25, "num_iterations": 50, "data": "halving"}
    assert calls["start"] == ["α=0.25"] and calls["done"] == [run]
    trace = panel.costs.figure.data[-1]
    assert trace.meta == "α=0.25" and list(trace.x) == list(range(1, 51))
    assert trace.y[0] == pytest.approx(0.25) and trace.y[1] == pytest.approx(0.125)
    assert panel.status.kind == "success" and panel.status.text.startswith("Finished α=0.25: 50 iterations")
    links = panel.export.widget.value
    assert 'download="α0.25.csv"' in links
    settings = base64.b64decode(re.search(r'application/json;base64,([^"]+)"', links).group(1)).decode()
    assert '"data": "halving"' in settings and '"lr": 0.25' in settings


def test_runs_are_overlaid_and_clear_removes_them():
    panel, _ = make_panel()
    for lr in (0.25, 0.5):
        panel.controls["lr"].value = lr
        assert panel.runner.wait(10)
    assert [t.meta for t in panel.costs.figure.data] == ["α=0.25", "α=0.5"]
    panel.buttons["clear"].click()
    assert panel.costs.figure.data == ()


def test_train_repeats_the_current_settings():
    gate = threading.Event()
    panel, calls = make_panel(gate=gate)
    panel.controls["num_iterations"].value = 200  # starts a run that waits at its first step
    gate.set()
    assert panel.runner.wait(10)
    panel.buttons["train"].click()
    assert panel.runner.wait(10) and len(calls["start"]) == 2 and panel.run.number == 2


def test_a_new_setting_cancels_the_running_job_and_only_the_latest_run_reports():
    gate = threading.Event()
    panel, calls = make_panel(gate=gate)
    panel.controls["lr"].value = 0.25  # blocked at its first step
    first = panel.runner._job
    panel.controls["lr"].value = 0.75
    assert first.cancel.is_set()
    gate.set()
    assert panel.runner.wait(10)
    first.thread.join(5)
    assert [run.label for run in calls["done"]] == ["α=0.75"]  # the cancelled run never reports as finished
    assert panel.run.label == "α=0.75"


def test_stop_ends_the_run_and_says_so():
    gate = threading.Event()
    panel, calls = make_panel(gate=gate)
    panel.controls["num_iterations"].value = 200
    panel.buttons["stop"].click()
    gate.set()
    assert panel.runner.wait(10)
    assert panel.status.kind == "info" and panel.status.text.startswith("Stopped")
    assert calls["done"][-1].history.cancelled


def test_an_error_while_building_the_model_lands_on_the_status_line():
    def broken(run, cancel):
        raise ValueError("The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead.")
        yield  # a generator, like every work

    panel, calls = make_panel(work=broken)
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    assert panel.status.kind == "error" and "The 'lr' parameter must be in the range" in panel.status.text
    assert calls["done"] == []


def test_a_failing_clear_is_shown_not_swallowed():
    panel, _ = make_panel(on_clear=lambda: 1 / 0)
    panel.buttons["clear"].click()
    assert panel.status.kind == "error" and "ZeroDivisionError" in panel.status.text


def test_a_job_that_trains_several_models_keeps_one_history_each_and_reports_once():
    def three(run, cancel):
        for name, start in (("a", 1.0), ("b", 2.0), ("c", 4.0)):
            for event in train(Halving(start), 5, cancel=cancel):
                yield name, event

    panel, calls = make_panel(work=three)
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    (run,) = calls["done"]
    assert list(run.histories) == ["a", "b", "c"] and run.finished
    assert [h.costs[0] for h in run.histories.values()] == [1.0, 2.0, 4.0]
    assert [t.meta for t in panel.costs.figure.data] == ["a", "b", "c"]


def test_controls_outside_start_on_do_not_train():
    panel, calls = make_panel(start_on=["lr"])
    panel.controls["num_iterations"].value = 10
    assert panel.run is None and calls["start"] == []
    panel.controls["lr"].value = 0.75
    assert panel.runner.wait(10) and panel.run.config["num_iterations"] == 10


def test_cost_x_puts_the_curve_on_another_axis():
    panel, _ = make_panel(cost_x=lambda run, steps: [s / 10 for s in steps])
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    assert panel.costs.figure.data[0].x[:2] == (0.1, 0.2)


def test_the_dashboard_exposes_controls_buttons_and_the_panel():
    panel, _ = make_panel()
    readout = W.HTML()
    board = panel.dashboard(panel.costs.figure, readout=readout, figures={"costs": panel.costs.figure})
    assert set(board.controls) == {"lr", "num_iterations", "train", "stop", "clear"}
    assert board.panel is panel and board.runner is panel.runner and board.status is panel.status
    assert board.children[0] is panel.badge and "Computing on:" in panel.badge.value
    assert board.children[-2] is panel.export.widget and board.children[-1] is board.settings_link.widget


def test_displaying_a_dashboard_never_prints_its_figures(monkeypatch):
    # ipywidgets puts repr(widget) in a display's text/plain and cuts it at 110 characters; a VBox's own repr
    # would pretty-print every plotly figure inside, all its data, first (0.15 s of lab 13's page load)
    import plotly.graph_objects as go

    panel, _ = make_panel()
    board = panel.dashboard(panel.costs.figure, figures={"costs": panel.costs.figure})
    monkeypatch.setattr(go.FigureWidget, "__repr__", lambda self: pytest.fail("a figure was printed"))
    text = board._repr_mimebundle_()["text/plain"]
    assert text == f"<Dashboard {board.name!r} (controls: 5, figures: 1)>"


def test_a_run_stopped_before_its_first_step_reports_nothing():
    def stopped(run, cancel):
        yield DoneEvent(0, True, 0.0)

    panel, calls = make_panel(work=stopped)
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    assert panel.costs.figure.data == ()  # no empty curve for a run that drew nothing
    assert calls["done"][0].history.steps == []


def test_export_stem_makes_a_file_name():
    assert export_stem("α=0.05 · cross-entropy · split 0") == "α0.05_cross-entropy_split_0"
    assert export_stem("···") == "run"


def test_first_step_event_draws_a_new_curve_only_when_it_has_points():
    panel, _ = make_panel(work=lambda run, cancel: iter([StepEvent(1, 0.5, {}), DoneEvent(1, False, 0.0)]))
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    assert [t.meta for t in panel.costs.figure.data] == ["α=0.5"] and panel.costs.figure.data[0].y == (0.5,)


def test_stop_pressed_while_a_finished_run_reports_does_not_leave_stopping_on_screen():
    reporting, release = threading.Event(), threading.Event()

    def slow_done(run):
        reporting.set()
        release.wait(5)

    panel, _ = make_panel(on_done=slow_done)
    panel.buttons["train"].click()
    assert reporting.wait(10)  # the run has finished and is reporting
    stopper = threading.Thread(target=panel.buttons["stop"].click)
    stopper.start()
    release.set()
    stopper.join(5)
    assert panel.runner.wait(10)
    assert panel.status.kind == "success" and panel.status.text.startswith("Finished"), panel.status.text


def test_a_refused_run_says_why_as_a_warning():
    def refuse(run, cancel):
        raise Refusal("Only one class on the board: add points of the other class, then train.")
        yield

    panel, calls = make_panel(work=refuse)
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    assert panel.status.kind == "warning" and panel.status.text.startswith("Only one class on the board")
    assert calls["done"] == [] and panel.runner.last_error is None


def test_stop_before_anything_was_reported_ends_on_stopped():
    gate = threading.Event()

    def silent(run, cancel):
        gate.wait(5)
        return
        yield

    panel, _ = make_panel(work=silent)
    panel.buttons["train"].click()
    panel.buttons["stop"].click()
    assert panel.status.text == "Stopping…"
    gate.set()
    assert panel.runner.wait(10)
    assert panel.status.kind == "info" and panel.status.text == "Stopped before the first step."


def test_extra_controls_may_not_hide_the_panels_own():
    panel, _ = make_panel()
    with pytest.raises(ValueError, match=r"extra_controls \['clear'\] would hide"):
        panel.dashboard(figures={}, extra_controls={"clear": W.Button()})


def test_a_push_from_models_trained_side_by_side_redraws_the_cost_plot_once_per_kind_of_edit():
    """New lines arrive together in one message, lines already drawn are updated together in one more: the browser
    redraws the plot once for each, not once per model."""
    def three(run, cancel):
        yield from side_by_side({name: train(Halving(start), 5, cancel=cancel)
                                 for name, start in (("a", 1.0), ("b", 2.0), ("c", 4.0))}, cancel=cancel)
    panel, _ = make_panel(work=three)
    panel.runner.interval = 60.0  # only the urgent pushes: the first step, and each model's end
    sent, pushes = [], []
    panel.costs.figure.observe(lambda change: change["new"] and sent.append(change["name"]),
                               names=["_py2js_addTraces", "_py2js_update", "_py2js_restyle", "_py2js_deleteTraces"])
    on_batch = panel.runner.on_batch

    def counted(items):
        sent.clear()
        on_batch(items)
        pushes.append((sorted({label for label, _ in items}), list(sent)))
    panel.runner.on_batch = counted
    panel.buttons["train"].click()
    assert panel.runner.wait(10)
    labels, messages = pushes[0]  # the first round, whole: every model's first point
    assert labels == ["a", "b", "c"] and messages.count("_py2js_addTraces") == 1
    assert [t.meta for t in panel.costs.figure.data] == ["a", "b", "c"]
    assert [len(t.y) for t in panel.costs.figure.data] == [5, 5, 5]
    assert all(messages in ([], ["_py2js_update"]) for _, messages in pushes[1:])  # the ends: one redraw at most


def test_update_runs_labels_the_log_axis_from_every_runs_new_points():
    costs = CostCurves("cost")
    costs.add_runs([("a", [1, 2], [1.0, 0.5], ""), ("b", [1, 2], [1.0, 0.5], "")])
    sent = []
    costs.figure.observe(lambda change: change["new"] and sent.append(change["name"]), names=["_py2js_update"])
    costs.update_runs([("a", [1, 2, 3], [1.0, 0.5, 0.01], ""), ("b", [1, 2, 3], [1.0, 0.5, 100.0], "diverged")])
    assert sent == ["_py2js_update"]
    assert costs.figure.layout.yaxis.tickvals[0] <= 0.01 and costs.figure.layout.yaxis.tickvals[-1] >= 100
    assert costs.figure.data[1].name == "b (diverged)" and costs.figure.data[0].y == (1.0, 0.5, 0.01)
