"""Move each control of the deep-network/initialization dashboard and check the plots move the right way."""

import base64
import json
import math
import re

import pytest

from lab.params import validate
from widgets.dashboards.deep_networks_initialization import HIDDEN_UNITS, deep_init_dashboard


@pytest.fixture
def dashboard():
    board = deep_init_dashboard()
    board.controls["num_iterations"].value = 100  # short runs; this starts the first one
    assert board.runner.wait(60)
    return board


def set_controls(board, **values):
    for name, value in values.items():
        board.controls[name].value = value
    assert board.runner.wait(60)


def spread(board):
    return list(board.figures["spread"].data[0].y)


def gradient(board):
    return list(board.figures["gradient"].data[0].y)


def summary(board):
    return board.children[5].value


def test_nothing_is_trained_at_build_but_the_signal_view_is_drawn():
    board = deep_init_dashboard()
    assert board.figures["costs"].data == ()
    assert board.status.text == "Move a control or press Train to start."
    assert len(spread(board)) == 7 and "<b>vanishing</b>" in board.readout.value  # default: random ×0.01, L=8


def test_small_random_init_vanishes_and_he_keeps_the_scale(dashboard):
    set_controls(dashboard, init_scheme="random", init_factor=0.01, activation="tanh", depth=8)
    small, small_gradient = spread(dashboard), gradient(dashboard)
    # by hand: tanh is the identity near 0, and z sums 16 inputs times weights of std 0.01, so each layer
    # multiplies the spread by about 0.01·√16 = 0.04 — six times from A^[1] to A^[7]
    per_layer = 0.01 * math.sqrt(HIDDEN_UNITS)
    assert (per_layer / 1.5) ** 6 < small[-1] / small[0] < (1.5 * per_layer) ** 6
    assert "vanishing" in dashboard.readout.value
    set_controls(dashboard, init_scheme="he")
    he = spread(dashboard)
    assert 0.3 < he[-1] / he[0] < 3 and "keeps its scale" in dashboard.readout.value
    assert gradient(dashboard)[0] > 1e6 * small_gradient[0] and "usable size" in dashboard.readout.value


def test_a_larger_init_factor_explodes_relu_activations(dashboard):
    set_controls(dashboard, init_scheme="random", activation="relu", init_factor=0.1)
    before = spread(dashboard)[-1]
    set_controls(dashboard, init_factor=3.0)
    after = spread(dashboard)
    assert after[-1] > 1e6 * before and after[-1] > 100 * after[0] and "exploding" in dashboard.readout.value


def test_depth_adds_layers_and_deepens_the_vanishing(dashboard):
    set_controls(dashboard, init_scheme="xavier", activation="relu", depth=4)
    shallow = spread(dashboard)
    set_controls(dashboard, depth=16)
    deep = spread(dashboard)
    assert len(shallow) == 3 and len(deep) == 15 and len(gradient(dashboard)) == 16
    assert deep[-1] < 0.1 * shallow[-1]  # √(1/n) is half the variance ReLU needs: the variance halves each layer


def test_activation_changes_the_signal(dashboard):
    set_controls(dashboard, init_scheme="he", depth=8, activation="relu")
    relu = spread(dashboard)
    set_controls(dashboard, activation="sigmoid")
    assert spread(dashboard) != relu


def test_each_run_adds_a_cost_curve_and_a_larger_stable_lr_ends_lower(dashboard):
    set_controls(dashboard, init_scheme="he", activation="tanh", depth=4, lr=0.01)
    dashboard.controls["clear"].click()
    dashboard.controls["train"].click()
    dashboard.runner.wait(60)
    set_controls(dashboard, lr=0.3)
    curves = dashboard.figures["costs"].data
    assert len(curves) == 2 and all(len(t.x) == 100 for t in curves)
    assert curves[1].y[-1] < 0.7 * curves[0].y[-1]
    assert dashboard.status.kind == "success" and "dev accuracy" in summary(dashboard)


def test_iterations_control_sets_the_run_length(dashboard):
    set_controls(dashboard, num_iterations=60)
    assert len(dashboard.figures["costs"].data[-1].x) == 60


def test_zero_init_leaves_every_row_of_w1_identical(dashboard):
    set_controls(dashboard, init_scheme="zeros", activation="sigmoid", depth=3)
    rows = dashboard.figures["weights"].data[0].z
    assert len(rows) == 16 and all(list(row) == list(rows[0]) for row in rows)
    assert "all 16 hidden units of layer 1 are <b>identical</b>" in summary(dashboard)
    assert dashboard.figures["costs"].data[-1].y[-1] == pytest.approx(0.693, abs=0.002)  # stuck at log 2
    set_controls(dashboard, init_scheme="he")
    rows = dashboard.figures["weights"].data[0].z
    assert len({tuple(row) for row in rows}) == 16
    assert "<b>16</b> different hidden units" in summary(dashboard)


def test_train_stop_and_clear_buttons(dashboard):
    dashboard.controls["num_iterations"].value = 2000
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(10) and dashboard.status.text.startswith("Stopped")
    assert len(dashboard.figures["costs"].data[-1].x) < 2000
    count = len(dashboard.figures["costs"].data)
    dashboard.controls["num_iterations"].value = 50
    dashboard.runner.wait(60)
    dashboard.controls["train"].click()
    dashboard.runner.wait(60)
    # the label names the network and α, not the run length: a rerun replaces its own curve
    assert len(dashboard.figures["costs"].data) == count and len(dashboard.figures["costs"].data[-1].x) == 50
    set_controls(dashboard, lr=0.2)  # another label: one more curve
    assert len(dashboard.figures["costs"].data) == count + 1
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == ()


def test_the_ui_cannot_offer_bad_values(dashboard):
    factor = dashboard.controls["init_factor"]  # a log slider: its value is 10 ** position, never 0 or below
    assert 10 ** factor.min == pytest.approx(1e-3) and 10 ** factor.max == pytest.approx(10.0)
    assert validate("init_factor", 10 ** factor.min) and validate("init_factor", 10 ** factor.max)
    assert dashboard.controls["depth"].min == 2  # one hidden layer at least: a depth of 1 has no signal to plot
    with pytest.raises(ValueError, match="'depth'"):
        validate("depth", 0)


def test_the_smallest_factor_on_offer_vanishes_faster_than_by_hand(dashboard):
    set_controls(dashboard, init_scheme="random", activation="tanh", depth=8)
    factor = dashboard.controls["init_factor"]
    set_controls(dashboard, init_factor=10 ** factor.min)
    small = spread(dashboard)
    # by hand, as above: about 10⁻³·√16 = 0.004 a layer, six layers from A^[1] to A^[7]
    assert small[-1] / small[0] < (1.5 * 10 ** factor.min * math.sqrt(HIDDEN_UNITS)) ** 6
    assert "tiny in every layer" in dashboard.readout.value


def test_sigmoid_keeps_the_signal_but_its_gradient_vanishes(dashboard):
    set_controls(dashboard, init_scheme="he", activation="sigmoid", depth=8)
    grads = gradient(dashboard)
    assert grads[0] < 1e-3 * grads[-1] and "the gradient <b>vanishes</b>" in dashboard.readout.value


def test_the_text_names_tiny_and_huge_gradients(dashboard):
    set_controls(dashboard, init_scheme="random", init_factor=0.01, activation="tanh", depth=8)
    assert "tiny in every layer" in dashboard.readout.value
    set_controls(dashboard, activation="relu", init_factor=3.0)
    assert "the gradient is huge" in dashboard.readout.value


def test_export_links_hold_the_run_and_its_settings(dashboard):
    links = dashboard.panel.export.widget.value
    csv_text = base64.b64decode(re.search(r'href="data:text/csv;base64,([^"]+)"', links).group(1)).decode()
    assert len(csv_text.splitlines()) == 1 + 100  # a header and the fixture's 100 iterations
    settings = json.loads(base64.b64decode(re.search(r'href="data:application/json;base64,([^"]+)"',
                                                     links).group(1)))["settings"]
    assert settings["init_scheme"] == "random" and settings["hidden_units"] == 16 and settings["seed"] == 0
