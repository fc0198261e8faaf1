"""Set a control as a learner would, let the runner finish, and check what the plots now show."""

import base64
import re

import pytest

import widgets.logistic_dashboard as logistic_dashboard
from lab.training import DoneEvent
from widgets.logistic_dashboard import learning_rate_dashboard


@pytest.fixture(scope="module")
def dashboard():
    return learning_rate_dashboard()


def run_with(dashboard, **values):
    for name, value in values.items():
        dashboard.controls[name].value = value
    assert dashboard.runner.wait(60)
    return dashboard


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
    run_with(dashboard, lr=8.0)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost grew to .* at step \d+ — try a smaller learning rate\.", dashboard.status.text)
    diverged = traces(dashboard)["α=8 · cross-entropy · split 0"]
    assert diverged.name.endswith("(diverged)") and diverged.line.dash == "dot"


def test_stop_stops_a_long_run(dashboard):
    dashboard.controls["num_iterations"].value = 5000
    dashboard.controls["lr"].value = 0.0002
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(5)
    assert dashboard.status.text.startswith("Stopped")
    assert len(traces(dashboard)["α=0.0002 · cross-entropy · split 0"].x) < 5000


def test_squared_error_loss_starts_at_one_eighth(dashboard):
    run_with(dashboard, num_iterations=100, lr=0.05, loss="squared_error")
    trace = traces(dashboard)["α=0.05 · squared-error · split 0"]
    assert trace.y[0] == pytest.approx(0.125)  # ½(0.5 − y)² with w = 0
    dashboard.controls["loss"].value = "cross_entropy"
    dashboard.runner.wait(60)


def test_the_split_seed_changes_the_test_photos(dashboard):
    run_with(dashboard, num_iterations=100, lr=0.05, seed=0)
    first = dashboard.readout.value
    run_with(dashboard, seed=7)
    assert "split 7" in dashboard.readout.value and dashboard.readout.value != first


def test_export_links_hold_the_history_and_settings(dashboard):
    run_with(dashboard, num_iterations=60, lr=0.02, seed=0)
    html = dashboard.children[-1].value
    csv_text = base64.b64decode(re.search(r'href="data:text/csv;base64,([^"]+)"', html).group(1)).decode()
    assert csv_text.splitlines()[0] == "step,cost,grad_norm_w,grad_norm_b" and len(csv_text.splitlines()) == 61
    json_text = base64.b64decode(re.search(r'href="data:application/json;base64,([^"]+)"', html).group(1)).decode()
    assert '"lr": 0.02' in json_text and '"seed": 0' in json_text


def test_clear_runs_empties_the_cost_plot(dashboard):
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == ()


def test_a_rerun_stopped_before_its_first_point_keeps_the_earlier_curve(dashboard, monkeypatch):
    run_with(dashboard, num_iterations=100, lr=0.05, seed=0, loss="cross_entropy")
    before = traces(dashboard)["α=0.05 · cross-entropy · split 0"].y
    monkeypatch.setattr(logistic_dashboard, "train", lambda *args, **kwargs: iter([DoneEvent(0, True, 0.0)]))
    dashboard.controls["train"].click()  # the same settings again, stopped before its first step
    assert dashboard.runner.wait(5)
    assert traces(dashboard)["α=0.05 · cross-entropy · split 0"].y == before
