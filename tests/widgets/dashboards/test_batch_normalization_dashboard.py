"""Lab 09's dashboards: set a control as a learner would, let the runner finish, check what the plots now show."""

import re
import time

import pytest
from settle import latest_curve, run_with

import widgets.dashboards.batch_normalization as batch_normalization
from lab.batch_norm import describe_what_gets_normalized, what_gets_normalized
from lab.batch_norm_network import epoch_steps, unit_history
from lab.data.digits import digit_images, load_digits_multiclass
from widgets.dashboards.batch_normalization import (
    DRIFT_BINS,
    batch_norm_dashboard,
    what_gets_normalized_dashboard,
)
from widgets.views.histograms import counts_in, shared_edges

BN_LABEL = "batch norm · L=6 · α=0.5 · batch 64"
PLAIN_LABEL = "plain · L=6 · α=0.5 · batch 64"


def page_text(widget) -> str:
    """Every line of text the dashboard shows (its HTML widgets), joined."""
    own = widget.value if type(widget).__name__ == "HTML" else ""
    return "\n".join([own, *(page_text(child) for child in getattr(widget, "children", ()))])


def counts(figure) -> list[list[int]]:
    """Each outline's counts as drawn (the last one repeats to close the outline)."""
    return [list(trace.y[:-1]) if trace.y else [] for trace in figure.data]


# ---------------------------------------------------------------- what gets normalized


def test_the_errata_view_shows_z_normalized_and_the_weights_untouched():
    dashboard = what_gets_normalized_dashboard()
    X = digit_images()[0]
    expected = what_gets_normalized(X, 64, 1, 0, hidden_units=32)
    assert dashboard.readout.value == describe_what_gets_normalized(expected)
    z, z_hat, notes = counts(dashboard.figures["values"])
    assert sum(z) == sum(z_hat) == sum(notes) == 64
    edges = shared_edges([expected.z, expected.z_hat, expected.notes_z])
    assert z == counts_in(expected.z, edges) and z_hat == counts_in(expected.z_hat, edges)
    assert [sum(c) for c in counts(dashboard.figures["weights"])] == [64, 64]
    assert "ẑ has mean 0.000 and spread 1.000" in dashboard.readout.value


def test_each_errata_control_redraws_its_plots():
    dashboard = what_gets_normalized_dashboard()
    before = counts(dashboard.figures["values"])
    dashboard.controls["batch_size"].value = 200
    assert [sum(c) for c in counts(dashboard.figures["values"])] == [200, 200, 200]
    assert dashboard.figures["values"].layout.title.text == "Unit 1's z over a mini-batch of 200 digits"
    weights = counts(dashboard.figures["weights"])
    dashboard.controls["watch_unit"].value = 7
    assert counts(dashboard.figures["weights"]) != weights
    assert dashboard.figures["weights"].layout.title.text == "Unit 7's 64 incoming weights"
    assert dashboard.readout.value == describe_what_gets_normalized(
        what_gets_normalized(digit_images()[0], 200, 7, 0, hidden_units=32))
    values = counts(dashboard.figures["values"])
    dashboard.controls["seed"].value = 5
    assert counts(dashboard.figures["values"]) not in (values, before)


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def digits():
    return load_digits_multiclass()


def traces(dashboard):
    return {trace.meta: trace for trace in dashboard.figures["costs"].data}


def test_nothing_trains_at_load_and_the_empty_views_say_what_to_do(digits):
    dashboard = batch_norm_dashboard(digits)
    assert dashboard.figures["costs"].data == () and dashboard.status.text.startswith("Move a control")
    assert dashboard.figures["plain_histogram"].layout.annotations[0].text == "Untick batch norm and train"
    assert dashboard.figures["bn_histogram"].layout.annotations[0].text == "Tick batch norm and train"
    assert "Train a network with batch norm" in dashboard.figures["test_time"].layout.annotations[0].text


def test_a_batch_norm_run_fills_the_curves_the_histograms_and_the_test_time_bars(digits):
    dashboard = batch_norm_dashboard(digits)
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(120)
    assert dashboard.status.kind == "success"
    assert dashboard.status.text.startswith(f"Finished {BN_LABEL}: 170 mini-batch steps")
    curve = traces(dashboard)[BN_LABEL]
    assert curve.x[-1] == pytest.approx(10.0) and curve.y[-1] < 0.3 * curve.y[0]
    dev = float(re.search(r"dev accuracy <b>([\d.]+)%</b>", dashboard.readout.value).group(1)) / 100
    assert dev > 0.9

    task = dashboard.panel.run.model
    histogram = dashboard.figures["bn_histogram"]
    assert [t.name for t in histogram.data] == ["epoch 0", "epoch 1.2", "epoch 2.5", "epoch 5", "epoch 10"]
    assert [sum(c) for c in counts(histogram)] == [256] * 5  # the same 256 training digits each time
    history = unit_history(task.snapshots, 3, 1)
    assert counts(histogram)[-1] == counts_in(history.relu_inputs[-1], shared_edges(history.relu_inputs, DRIFT_BINS))
    assert "layer 3, unit 1" in histogram.layout.title.text
    assert dashboard.figures["plain_histogram"].layout.annotations[0].text == "Untick batch norm and train"

    running, batch = dashboard.figures["test_time"].data
    assert list(running.x) == ["batch of 1", "batch of 2", "batch of 8", "batch of 64"]
    assert list(running.y) == pytest.approx([dev] * 4, abs=5e-4)  # the running averages: the same for any batch
    answer = int(re.search(r"the network answers <b>(\d)</b> for every digit", page_text(dashboard)).group(1))
    share = (digits.Y_dev[0] == answer).double().mean().item()
    assert batch.y[0] == pytest.approx(share) and batch.y[0] < 0.2  # a batch of 1: one answer for every digit
    assert batch.y[1] < batch.y[2] < batch.y[3] <= dev + 0.02
    assert batch.error_y.array[0] == 0 and batch.error_y.arrayminus[2] > 0  # shuffles differ, except for batch 1


def test_unticking_batch_norm_adds_a_plain_run_beside_it(digits):
    dashboard = batch_norm_dashboard(digits)
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(120)
    test_time = [list(t.y) for t in dashboard.figures["test_time"].data]
    run_with(dashboard, batch_norm=False)
    assert list(traces(dashboard)) == [BN_LABEL, PLAIN_LABEL]
    plain = dashboard.figures["plain_histogram"]
    assert [sum(c) for c in counts(plain)] == [256] * 5 and plain.layout.annotations == ()
    assert PLAIN_LABEL in plain.layout.title.text and BN_LABEL in dashboard.figures["bn_histogram"].layout.title.text
    assert [list(t.y) for t in dashboard.figures["test_time"].data] == test_time  # still the batch-norm run's
    text = page_text(dashboard)
    plain_drift = float(re.search(r"Plain network: the mean of z wandered over <b>([\d.]+)×</b>", text).group(1))
    bn_drift = float(re.search(r"With batch norm: the mean of γẑ \+ β wandered over <b>([\d.]+)×</b>", text).group(1))
    assert plain_drift > 5 * bn_drift
    # the plain network learns less in the same 10 epochs at this α
    assert "dev accuracy <b>" in dashboard.readout.value and PLAIN_LABEL in dashboard.readout.value


def test_a_large_rate_diverges_without_batch_norm_and_trains_with_it(digits):
    dashboard = run_with(batch_norm_dashboard(digits), batch_norm=False, lr=3.0)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost grew to .* at step \d+ — try a smaller learning rate, or tick batch norm\.",
                     dashboard.status.text)
    assert traces(dashboard)["plain · L=6 · α=3 · batch 64"].name.endswith("(diverged)")
    assert "Cost grew to" in dashboard.readout.value
    run_with(dashboard, batch_norm=True)
    assert dashboard.status.kind == "success" and "batch norm · L=6 · α=3 · batch 64" in dashboard.status.text
    dev = float(re.search(r"dev accuracy <b>([\d.]+)%</b>", dashboard.readout.value).group(1)) / 100
    assert dev > 0.9


def test_the_unit_controls_redraw_the_histograms_without_training(digits):
    dashboard = run_with(batch_norm_dashboard(digits), num_epochs=3)
    task = dashboard.panel.run.model
    before = counts(dashboard.figures["bn_histogram"])
    dashboard.controls["watch_unit"].value = 9
    history = unit_history(task.snapshots, 3, 9)
    assert counts(dashboard.figures["bn_histogram"]) == [counts_in(v, shared_edges(history.relu_inputs, DRIFT_BINS))
                                                         for v in history.relu_inputs] != before
    dashboard.controls["watch_layer"].value = 5
    assert "layer 5, unit 9" in dashboard.figures["bn_histogram"].layout.title.text
    dashboard.controls["bn_panel"].value = "pre_norm"
    history = unit_history(task.snapshots, 5, 9)
    assert counts(dashboard.figures["bn_histogram"]) == [counts_in(v, shared_edges(history.pre_norm, DRIFT_BINS))
                                                         for v in history.pre_norm]
    assert "z before batch norm of layer 5" in dashboard.figures["bn_histogram"].layout.title.text
    assert dashboard.runner.wait(1) and len(dashboard.figures["costs"].data) == 1  # nothing new trained


def test_depth_sets_the_layers_and_the_histograms_show_the_last_hidden_one(digits):
    dashboard = run_with(batch_norm_dashboard(digits), depth=2, num_epochs=2)
    assert "batch norm · L=2 · α=0.5 · batch 64" in dashboard.status.text
    assert len(dashboard.panel.run.model.network.norms) == 1
    assert "layer 1, unit 1" in dashboard.figures["bn_histogram"].layout.title.text  # asked for 3, it has 1
    run_with(dashboard, depth=12)
    assert len(dashboard.panel.run.model.network.norms) == 11


@pytest.mark.parametrize("batch_size", [2, 500])
def test_batch_size_sets_the_steps_per_epoch(digits, batch_size):
    dashboard = run_with(batch_norm_dashboard(digits), num_epochs=2, batch_size=batch_size)
    steps = 2 * epoch_steps(1079, batch_size)
    assert f"{steps} mini-batch steps" in dashboard.status.text
    assert latest_curve(dashboard).x[-1] == pytest.approx(2.0)


def test_epochs_set_the_length_of_the_curve_and_the_snapshot_times(digits):
    dashboard = run_with(batch_norm_dashboard(digits), num_epochs=4)
    assert latest_curve(dashboard).x[-1] == pytest.approx(4.0)
    assert dashboard.figures["bn_histogram"].data[-1].name == "epoch 4"


def test_stop_ends_a_long_run_and_clear_empties_every_view(digits, monkeypatch):
    def slow_train(*args, **kwargs):
        for event in batch_normalization.train.__wrapped__(*args, **kwargs):
            time.sleep(0.002)
            yield event

    slow_train.__wrapped__ = batch_normalization.train
    monkeypatch.setattr(batch_normalization, "train", slow_train)
    dashboard = batch_norm_dashboard(digits)
    dashboard.controls["num_epochs"].value = 50
    deadline = time.monotonic() + 30
    while not traces(dashboard) and time.monotonic() < deadline:
        time.sleep(0.01)
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(10)
    assert dashboard.status.text.startswith("Stopped") and "stopped after" in dashboard.readout.value
    assert latest_curve(dashboard).x[-1] < 50
    assert "With batch norm: only the moment before training is recorded" in page_text(dashboard)
    assert len(dashboard.figures["bn_histogram"].data) == 1
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == () and dashboard.readout.value == ""
    assert dashboard.figures["bn_histogram"].layout.annotations[0].text == "Tick batch norm and train"
    assert all(not t.x for t in dashboard.figures["test_time"].data)


def test_a_bad_value_reaching_the_backend_is_refused_by_name(digits):
    dashboard = batch_norm_dashboard(digits)
    dashboard.panel.fixed["seed"] = -1  # what no slider can offer: the backend still says what is wrong
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(30)
    assert dashboard.status.kind == "error" and "'seed' parameter" in dashboard.status.text
