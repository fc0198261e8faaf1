"""Set a control as a learner would, let the runner finish, and check what the plots now show."""

import base64
import math
import re
import time

import pytest
import torch
from settle import run_with

import widgets.dashboards.logistic_regression as logistic_regression
from lab.data.faces import load_faces
from lab.training import DoneEvent
from widgets.dashboards.logistic_regression import (
    learning_rate_dashboard,
    loss_shape_dashboard,
    photo_vector_dashboard,
    sigmoid_dashboard,
    vector_learning_rate_dashboard,
)


@pytest.fixture
def dashboard():
    return learning_rate_dashboard()



def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def traces(dashboard):
    return {trace.meta: trace for trace in dashboard.figures["costs"].data}


def final_cost(dashboard, label_part):
    matches = [t for meta, t in traces(dashboard).items() if label_part in meta]
    assert matches, f"no run matching {label_part!r} in {list(traces(dashboard))}"
    return matches[-1].y[-1]


def test_nothing_trains_until_a_control_moves(dashboard):
    assert dashboard.figures["costs"].data == ()
    assert dashboard.status.text == "Move a control or press Train to start."
    assert "Computing on:" in dashboard.children[0].value


def test_a_bigger_stable_learning_rate_ends_lower(dashboard):
    dashboard.controls["clear"].click()
    run_with(dashboard, num_iterations=400, lr=0.005)
    run_with(dashboard, lr=0.05)
    assert len(dashboard.figures["costs"].data) == 2
    assert len(traces(dashboard)["α=0.05 · cross-entropy · split 0"].x) == 400
    assert final_cost(dashboard, "α=0.05 ") < 0.5 * final_cost(dashboard, "α=0.005 ")
    assert dashboard.status.kind == "success"
    assert re.search(r"test accuracy <b>\d+\.\d%</b> \(\d+/50 photos\)", dashboard.readout.value)


def test_latest_run_shows_gradients_and_misclassified_photos(dashboard):
    run_with(dashboard, num_iterations=200, lr=0.001)
    gradients = dashboard.figures["gradients"].data
    assert [t.name for t in gradients] == ["‖dw‖", "‖db‖"] and len(gradients[0].y) == 200
    assert gradients[0].y[-1] < gradients[0].y[0]  # the gradient shrinks as the cost falls
    grid = dashboard.figures["misclassified"]
    captions = [a.text for a in grid.layout.annotations]
    wrong = round((1 - float(re.search(r"<b>([\d.]+)%</b>", dashboard.readout.value).group(1)) / 100) * 50)
    assert len(captions) == min(wrong, 8)


def test_a_huge_learning_rate_shows_the_divergence_message(dashboard):
    run_with(dashboard, num_iterations=400, lr=8.0)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost grew to .* at step \d+ — try a smaller learning rate\.", dashboard.status.text)
    diverged = traces(dashboard)["α=8 · cross-entropy · split 0"]
    assert diverged.name.endswith("(diverged)") and diverged.line.dash == "dot"


def test_stop_stops_a_long_run(dashboard, monkeypatch):
    def slow_train(*args, **kwargs):  # a millisecond a step: Stop lands long before the 5,000th
        for event in logistic_regression.train.__wrapped__(*args, **kwargs):
            time.sleep(0.001)
            yield event

    slow_train.__wrapped__ = logistic_regression.train
    monkeypatch.setattr(logistic_regression, "train", slow_train)
    dashboard.controls["num_iterations"].value = 5000
    dashboard.controls["lr"].value = 0.0002
    wait_for(lambda: "α=0.0002 · cross-entropy · split 0" in traces(dashboard))
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(5)
    assert dashboard.status.text.startswith("Stopped")
    assert 0 < len(traces(dashboard)["α=0.0002 · cross-entropy · split 0"].x) < 5000
    assert "stopped after" in dashboard.readout.value


def test_squared_error_loss_starts_at_one_eighth(dashboard):
    run_with(dashboard, num_iterations=100, lr=0.05, loss="squared_error")
    trace = traces(dashboard)["α=0.05 · squared-error · split 0"]
    assert trace.y[0] == pytest.approx(0.125)  # ½(0.5 − y)² with w = 0


def test_the_split_seed_changes_the_test_photos(dashboard):
    run_with(dashboard, num_iterations=100, lr=0.05, seed=0)
    first = dashboard.readout.value
    run_with(dashboard, seed=7)
    assert "split 7" in dashboard.readout.value and dashboard.readout.value != first


def test_export_links_hold_the_history_and_settings(dashboard):
    run_with(dashboard, num_iterations=60, lr=0.02, seed=0)
    html = dashboard.panel.export.widget.value
    csv_text = base64.b64decode(re.search(r'href="data:text/csv;base64,([^"]+)"', html).group(1)).decode()
    assert csv_text.splitlines()[0] == "step,cost,grad_norm_w,grad_norm_b" and len(csv_text.splitlines()) == 61
    json_text = base64.b64decode(re.search(r'href="data:application/json;base64,([^"]+)"', html).group(1)).decode()
    assert '"lr": 0.02' in json_text and '"seed": 0' in json_text


def test_clear_runs_empties_the_cost_plot(dashboard):
    run_with(dashboard, num_iterations=60, lr=0.02)
    assert "α=0.02 · cross-entropy · split 0" in traces(dashboard)
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == ()


def test_a_rerun_stopped_before_its_first_point_keeps_the_earlier_curve(dashboard, monkeypatch):
    run_with(dashboard, num_iterations=100, lr=0.05, seed=0, loss="cross_entropy")
    before = traces(dashboard)["α=0.05 · cross-entropy · split 0"].y
    monkeypatch.setattr(logistic_regression, "train", lambda *args, **kwargs: iter([DoneEvent(0, True, 0.0)]))
    dashboard.controls["train"].click()  # the same settings again, stopped before its first step
    assert dashboard.runner.wait(5)
    assert traces(dashboard)["α=0.05 · cross-entropy · split 0"].y == before


def test_photo_slider_shows_that_photo_and_its_vector():
    data = load_faces()
    dashboard = photo_vector_dashboard(data)
    dashboard.controls["example_index"].value = 17
    expected = data.X_train[:, 17]
    assert dashboard.figures["vector"].data[0].y == pytest.approx(expected.tolist())
    photo = torch.tensor(dashboard.figures["photo"].data[0].z, dtype=torch.float32)
    torch.testing.assert_close(photo, expected.reshape(25, 25))
    label = data.class_names[int(data.Y_train[0, 17])]
    assert dashboard.figures["photo"].layout.title.text == f"Photo #17: y = {int(data.Y_train[0, 17])} ({label})"
    assert "shape <b>(625, 1)</b>" in dashboard.readout.value and "<b>(625, 150)</b>" in dashboard.readout.value
    assert dashboard.controls["example_index"].max == 149


def test_sigmoid_marker_follows_z():
    dashboard = sigmoid_dashboard()
    dashboard.controls["z"].value = -2.0
    marker = dashboard.figures["sigmoid"].data[1]
    assert marker.x == (-2.0,) and marker.y[0] == pytest.approx(1 / (1 + math.exp(2.0)))
    assert "predicts <b>not a face</b>" in dashboard.readout.value
    dashboard.controls["z"].value = 3.0
    assert "σ(3.0) = <b>0.9526</b>" in dashboard.readout.value and "<b>face</b>" in dashboard.readout.value


def test_loss_shape_direction_and_span_redraw_both_curves():
    dashboard = loss_shape_dashboard()
    figure = dashboard.figures["costs"]
    before = list(figure.data[1].y)
    dashboard.controls["seed"].value = 4
    assert list(figure.data[1].y) != before
    dashboard.controls["line_span"].value = 10.0
    assert figure.data[0].x[0] == pytest.approx(-10.0) and figure.data[0].x[-1] == pytest.approx(10.0)
    assert "cross-entropy cost bends down on <b>0%</b>" in dashboard.readout.value
    assert "<b>not convex</b>" in dashboard.readout.value


def test_loss_shape_says_when_the_stretch_is_too_short_to_tell():
    dashboard = loss_shape_dashboard()
    dashboard.controls["line_span"].value = 0.1
    assert "widen the distance" in dashboard.readout.value


def finals(dashboard):
    return {trace.meta: trace.y[-1] for trace in dashboard.figures["costs"].data}


def test_compare_trains_three_learners_and_per_feature_rates_win():
    dashboard = vector_learning_rate_dashboard()
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(60)
    costs = finals(dashboard)
    assert list(costs) == ["one α = 0.0004", "α per feature (hand-set)", "RMSprop (α = 0.01)"]
    assert costs["α per feature (hand-set)"] < 0.6 * costs["one α = 0.0004"]
    assert "Final cost — one α = 0.0004: <b>0.5" in dashboard.readout.value


def test_a_thousandfold_scale_makes_the_fixed_rates_diverge():
    dashboard = vector_learning_rate_dashboard()
    dashboard.controls["feature_scale"].value = 1000.0
    assert dashboard.runner.wait(60)
    assert dashboard.status.kind == "warning"
    assert "one α = 0.0004: Cost grew" in dashboard.status.text
    names = [trace.name for trace in dashboard.figures["costs"].data]
    assert names[0].endswith("(diverged)") and not names[2].endswith("(diverged)")


def test_iterations_set_the_length_of_every_curve():
    dashboard = vector_learning_rate_dashboard()
    dashboard.controls["feature_scale"].value = 10.0
    dashboard.controls["num_iterations"].value = 100
    assert dashboard.runner.wait(60)
    assert [len(trace.x) for trace in dashboard.figures["costs"].data] == [100, 100, 100]
