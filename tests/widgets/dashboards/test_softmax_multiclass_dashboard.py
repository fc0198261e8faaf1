"""Lab 10's dashboards: set a control as a learner would, let the runner finish, check what the plots now show."""

import math
import re
import time

import pytest
import torch
from settle import latest_curve, run_with

import widgets.dashboards.softmax_multiclass as softmax_multiclass
from lab.data.digits import load_digits_multiclass
from widgets.dashboards.softmax_multiclass import (
    softmax_dashboard,
    softmax_training_dashboard,
    typed_logits_dashboard,
)
from widgets.views.binned_cost_curves import bin_means
from widgets.views.confusion_matrix import ConfusionMatrix
from widgets.views.probability_bars import ProbabilityBars

COURSE = [5.0, 2.0, -1.0, 3.0]


def on_device_of(network, X: torch.Tensor) -> torch.Tensor:
    return X.to(network.params["W1"].device)


def bars(dashboard, figure="probabilities"):
    """(lab's probabilities, naive probabilities) as drawn."""
    data = dashboard.figures[figure].data
    return list(data[0].y), list(data[1].y) if len(data) > 1 else None


def expected(z, temperature=1.0):
    return torch.softmax(torch.tensor(z, dtype=torch.float64) / temperature, 0).tolist()


# ---------------------------------------------------------------- softmax sliders


def test_the_course_logits_are_drawn_at_load():
    dashboard = softmax_dashboard()
    lab, naive = bars(dashboard)
    assert lab == pytest.approx(expected(COURSE), abs=1e-6) and naive == pytest.approx(lab)
    assert "a = t / Σt = <b>[84.2%, 4.2%, 0.2%, 11.4%]</b>" in dashboard.readout.value
    assert dashboard.figures["probabilities"].data[0].text == ("84.2%", "4.2%", "0.2%", "11.4%")


@pytest.mark.parametrize("name, value", [("z1", -4.0), ("z2", 9.5), ("z3", 0.0), ("z4", 7.2)])
def test_each_logit_slider_moves_the_bars(name, value):
    dashboard = softmax_dashboard()
    dashboard.controls[name].value = value
    z = list(COURSE)
    z[int(name[1]) - 1] = value
    assert bars(dashboard)[0] == pytest.approx(expected(z), abs=1e-6)


def test_temperature_flattens_or_sharpens_the_bars():
    dashboard = softmax_dashboard()
    dashboard.controls["softmax_temperature"].value = 10.0
    flat = bars(dashboard)[0]
    assert flat == pytest.approx(expected(COURSE, 10.0), abs=1e-6) and max(flat) < 0.4
    dashboard.controls["softmax_temperature"].value = 0.2
    assert bars(dashboard)[0][0] > 0.999


def test_adding_c_to_every_logit_breaks_only_the_naive_formula():
    dashboard = softmax_dashboard()
    dashboard.controls["logit_shift"].value = 1000.0
    lab, naive = bars(dashboard)
    assert lab == pytest.approx(expected(COURSE), abs=1e-6)  # the lab's softmax does not move
    assert naive == [None] * 4  # NaN: no bar
    assert "<b>overflowed</b>" in dashboard.readout.value and "<b>[NaN, NaN, NaN, NaN]</b>" in dashboard.readout.value
    assert "max(z/T) = 1005" in dashboard.readout.value
    assert dashboard.figures["probabilities"].layout.annotations[0].text.startswith("naive formula: NaN")
    dashboard.controls["logit_shift"].value = 50.0  # 55 < 88.7: float32 still copes
    assert bars(dashboard)[1] == pytest.approx(expected(COURSE), abs=1e-5)
    assert dashboard.figures["probabilities"].layout.annotations == ()


# ---------------------------------------------------------------- typed logits


def test_typed_logits_of_a_million_give_a_sensible_answer():
    dashboard = typed_logits_dashboard()
    dashboard.controls["logits"].value = "1e6, 0, -1e6"
    lab, naive = bars(dashboard)
    assert lab == [1.0, 0.0, 0.0] and naive[0] is None and naive[1:] == [0.0, 0.0]
    assert list(dashboard.figures["probabilities"].data[0].x) == ["class 1", "class 2", "class 3"]
    assert "a = <b>[1, 0, 0]</b>" in dashboard.readout.value


@pytest.mark.parametrize("text, words", [
    ("5, two, 1", "&#x27;two&#x27; is not a number"),
    ("1e7", "must be in the range [-1000000.0, 1000000.0]. Got 10000000.0 instead."),
    ("inf, 2", "must be finite. Got inf instead."),
    ("", "Type at least one logit"),
])
def test_bad_typed_input_is_a_line_of_words_and_the_bars_stay(text, words):
    dashboard = typed_logits_dashboard()
    before = bars(dashboard)
    dashboard.controls["logits"].value = text
    assert words in dashboard.readout.value and "lab-status-warning" in dashboard.readout.value
    assert "Traceback" not in dashboard.readout.value and "Error:" not in dashboard.readout.value
    assert bars(dashboard) == before
    dashboard.controls["logits"].value = "0, 0"  # and it recovers
    assert bars(dashboard)[0] == [0.5, 0.5] and "lab-status" not in dashboard.readout.value


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def digits():
    return load_digits_multiclass()



def traces(dashboard):
    return {trace.meta: trace for trace in dashboard.figures["costs"].data}


def test_nothing_trains_at_load_and_the_digit_view_says_so(digits):
    dashboard = softmax_training_dashboard(digits)
    assert dashboard.figures["costs"].data == () and dashboard.status.text.startswith("Move a control")
    assert "Train a network" in dashboard.figures["digit_probabilities"].layout.annotations[0].text
    digit = int(digits.Y_dev[0, 0])
    title = dashboard.figures["digit"].layout.title.text
    assert title == f"Dev digit #0: a{'n' if digit == 8 else ''} {digit}"


def test_a_softmax_regression_run_fills_every_view(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=5)
    label = "softmax regression · α=0.5 · batch 64 · by hand"
    assert dashboard.status.kind == "success" and dashboard.status.text.startswith(f"Finished {label}: 85 mini-batch")
    curve = traces(dashboard)[label]
    assert curve.x[-1] == pytest.approx(5.0) and len(curve.x) == 50  # ten means per epoch
    assert curve.y[0] == pytest.approx(math.log(10)) and curve.y[-1] < 0.5 * curve.y[0]  # W = 0: every ŷ is 1/10
    accuracy = dashboard.figures["accuracy"].data
    assert list(accuracy[0].x) == pytest.approx([1, 2, 3, 4, 5]) and len(accuracy[1].y) == 5
    dev = float(re.search(r"dev accuracy <b>([\d.]+)%</b>", dashboard.readout.value).group(1)) / 100
    assert accuracy[1].y[-1] == pytest.approx(dev, abs=5e-4) and dev > 0.85
    counts = dashboard.figures["confusion"].data[0].z
    assert sum(map(sum, counts)) == 359 and sum(counts[i][i] for i in range(10)) == round(dev * 359)
    captions = [a.text for a in dashboard.figures["mistakes"].layout.annotations]
    assert len(captions) == 8 and all(re.fullmatch(r"is \d, said \d \(\d+%\)<br>dev #\d+", c) for c in captions)
    confidences = [int(re.search(r"\((\d+)%\)", c).group(1)) for c in captions]
    assert confidences == sorted(confidences, reverse=True)
    first = int(captions[0].rsplit("#", 1)[1])  # the most confident mistake, checked against the network
    truth, said = map(int, re.match(r"is (\d), said (\d)", captions[0]).groups())
    network = dashboard.panel.run.model.network  # on the lab's device: CUDA where there is one
    p = network.predict_proba(on_device_of(network, digits.X_dev[:, first:first + 1]))[:, 0].cpu()
    assert int(digits.Y_dev[0, first]) == truth and int(p.argmax()) == said != truth
    assert captions[0].split("(")[1].startswith(f"{p.max().item():.0%}")
    probabilities = dashboard.figures["digit_probabilities"].data[0].y
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1.0)


def test_the_digit_slider_shows_that_digits_probabilities(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=3)
    first = dashboard.figures["digit_probabilities"].data[0].y
    dashboard.controls["example_index"].value = 17
    now = dashboard.figures["digit_probabilities"].data[0].y
    assert now != first and sum(now) == pytest.approx(1.0)
    network = dashboard.panel.run.model.network
    shown = network.predict_proba(on_device_of(network, digits.X_dev[:, 17:18]))[:, 0]
    assert list(now) == pytest.approx(shown.tolist())
    digit = int(digits.Y_dev[0, 17])
    assert dashboard.figures["digit_probabilities"].data[0].marker.color[digit] != \
        dashboard.figures["digit_probabilities"].data[0].marker.color[(digit + 1) % 10]  # the true digit stands out
    assert f"Dev digit #17 is a{'n' if digit == 8 else ''} {digit}" in dashboard.children[-3].children[1].value
    assert dashboard.runner.wait(1) and len(dashboard.figures["costs"].data) == 1  # the slider trains nothing


def test_hidden_units_add_a_run_that_fits_the_training_set_better(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=10)
    run_with(dashboard, softmax_hidden_units=64)
    curves = traces(dashboard)
    assert list(curves) == ["softmax regression · α=0.5 · batch 64 · by hand",
                            "64 hidden units · α=0.5 · batch 64 · by hand"]
    regression, hidden = curves.values()
    assert hidden.y[-1] < regression.y[-1]
    assert len(dashboard.figures["accuracy"].data[2].y) == 10  # the previous run, dotted


def test_too_big_a_step_for_the_hidden_layer_is_explained_in_words(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=5, softmax_hidden_units=64, lr=2.0)
    assert re.search(r"<b>\d+ of the 64 hidden units are dead</b>.*try a smaller α", dashboard.readout.value)
    run_with(dashboard, lr=0.5)
    assert re.search(r"Dead hidden units \(ReLU 0 on every training digit\): \d+ of 64\.", dashboard.readout.value)


def test_autograd_draws_the_same_curve_as_the_hand_written_gradients(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=4, softmax_hidden_units=16)
    run_with(dashboard, softmax_implementation="torch_autograd")
    curves = traces(dashboard)
    hand = curves["16 hidden units · α=0.5 · batch 64 · by hand"]
    auto = curves["16 hidden units · α=0.5 · batch 64 · autograd"]
    assert list(auto.y) == pytest.approx(list(hand.y), rel=1e-4)


@pytest.mark.parametrize("batch_size, points", [(1079, 3), (8, 30)])
def test_batch_size_sets_the_steps_per_epoch(digits, batch_size, points):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=3, batch_size=batch_size)
    steps = 3 * math.ceil(1079 / batch_size)
    assert f"{steps} mini-batch steps" in dashboard.status.text
    curve = latest_curve(dashboard)
    assert len(curve.x) == points and curve.x[-1] == pytest.approx(3.0)


def test_learning_rate_changes_the_run_and_a_huge_one_diverges_in_words(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=3, lr=0.01)
    slow = traces(dashboard)["softmax regression · α=0.01 · batch 64 · by hand"].y[-1]
    run_with(dashboard, lr=0.5)
    assert traces(dashboard)["softmax regression · α=0.5 · batch 64 · by hand"].y[-1] < 0.5 * slow
    run_with(dashboard, lr=10.0)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost grew to .* at step \d+ — try a smaller learning rate\.", dashboard.status.text)
    assert traces(dashboard)["softmax regression · α=10 · batch 64 · by hand"].name.endswith("(diverged)")
    assert "Cost grew to" in dashboard.readout.value
    assert dashboard.figures["confusion"].layout.title.text == "Confusion matrix: the latest run diverged"
    assert dashboard.figures["mistakes"].layout.annotations[0].text == "the latest run diverged"


def test_epochs_set_the_length_of_the_curves(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=2)
    assert latest_curve(dashboard).x[-1] == pytest.approx(2.0)
    assert len(dashboard.figures["accuracy"].data[0].x) == 2


def test_stop_ends_a_long_run(digits, monkeypatch):
    def slow_train(*args, **kwargs):
        for event in softmax_multiclass.train.__wrapped__(*args, **kwargs):
            time.sleep(0.002)
            yield event

    slow_train.__wrapped__ = softmax_multiclass.train
    monkeypatch.setattr(softmax_multiclass, "train", slow_train)
    dashboard = softmax_training_dashboard(digits)
    dashboard.controls["num_epochs"].value = 100
    deadline = time.monotonic() + 30
    while not traces(dashboard) and time.monotonic() < deadline:
        time.sleep(0.01)
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(5)
    assert dashboard.status.text.startswith("Stopped")
    assert "stopped after" in dashboard.readout.value
    assert latest_curve(dashboard).x[-1] < 100


def test_clear_runs_empties_the_cost_plot(digits):
    dashboard = run_with(softmax_training_dashboard(digits), num_epochs=1)
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == ()


# ---------------------------------------------------------------- the lab's new views


def test_bin_means_average_each_tenth_of_an_epoch_and_keep_single_points():
    x = [s / 4 for s in range(1, 9)]  # 4 steps per epoch, 2 epochs
    bx, by = bin_means(x, [1, 2, 3, 4, 5, 6, 7, 8], per_unit=2)
    assert bx == [0.5, 1.0, 1.5, 2.0] and by == [1.5, 3.5, 5.5, 7.5]
    assert bin_means([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], per_unit=10) == ([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    _, with_nan = bin_means([0.5, 1.0], [1.0, float("nan")], per_unit=1)
    assert math.isnan(with_nan[0])  # a NaN step makes its stretch NaN: the plot shows a gap
    assert bin_means([], [], 10) == ([], [])


def test_confusion_matrix_view_blanks_zero_mistakes_and_saturates_above_them():
    view = ConfusionMatrix("Confusion", ["a", "b", "c"])
    view.show([[50, 0, 2], [0, 40, 0], [1, 0, 0]])
    trace = view.figure.data[0]
    assert view.counts == [[50, 0, 2], [0, 40, 0], [1, 0, 0]]
    assert [list(row) for row in trace.text] == [["50", "", "2"], ["", "40", ""], ["1", "", "0"]]
    assert trace.zmax == 6  # three times the largest mistake


def test_probability_bars_leave_a_gap_for_nan_and_recolour_the_first_series():
    view = ProbabilityBars("P", ["lab", "naive"])
    view.show(["x", "y"], [[0.25, 0.75], [float("nan"), 0.75]], colours=["#111111", "#222222"], note="overflow")
    lab, naive = view.figure.data
    assert lab.text == ("25.0%", "75.0%") and naive.y == (None, 0.75) and naive.text == ("", "75.0%")
    assert list(lab.marker.color) == ["#111111", "#222222"]
    assert view.figure.layout.annotations[0].text == "overflow"
