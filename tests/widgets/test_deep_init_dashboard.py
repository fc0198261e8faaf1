"""Move each control of the deep-network/initialization dashboard and check the plots move the right way."""

import pytest

from widgets.deep_init_dashboard import deep_init_dashboard


@pytest.fixture(scope="module")
def dashboard():
    board = deep_init_dashboard()
    board.controls["num_iterations"].value = 100
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


def test_nothing_is_trained_at_build_but_the_signal_view_is_drawn():
    board = deep_init_dashboard()
    assert board.figures["costs"].data == ()
    assert board.status.text == "Move a control or press Train to start."
    assert len(spread(board)) == 7 and "<b>vanishing</b>" in board.readout.value  # default: random ×0.01, L=8


def test_small_random_init_vanishes_and_he_keeps_the_scale(dashboard):
    set_controls(dashboard, init_scheme="random", init_factor=0.01, activation="tanh", depth=8)
    small = spread(dashboard)
    assert small[-1] < 1e-6 * small[0] and "vanishing" in dashboard.readout.value
    set_controls(dashboard, init_scheme="he")
    he = spread(dashboard)
    assert 0.3 < he[-1] / he[0] < 3 and "keeps its scale" in dashboard.readout.value
    assert gradient(dashboard)[0] > 1e6 * 1e-13 and "usable size" in dashboard.readout.value


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
    assert deep[-1] < 0.1 * shallow[-1]  # √(1/n) is half the variance ReLU needs: it halves each layer


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
    assert dashboard.status.kind == "success" and "dev accuracy" in dashboard.children[5].value


def test_iterations_control_sets_the_run_length(dashboard):
    set_controls(dashboard, num_iterations=60)
    assert len(dashboard.figures["costs"].data[-1].x) == 60
    dashboard.controls["num_iterations"].value = 100
    dashboard.runner.wait(60)


def test_zero_init_leaves_every_row_of_w1_identical(dashboard):
    set_controls(dashboard, init_scheme="zeros", activation="sigmoid", depth=3)
    rows = dashboard.figures["weights"].data[0].z
    assert len(rows) == 16 and all(list(row) == list(rows[0]) for row in rows)
    assert "all 16 hidden units of layer 1 are <b>identical</b>" in dashboard.children[5].value
    assert dashboard.figures["costs"].data[-1].y[-1] == pytest.approx(0.693, abs=0.002)  # stuck at log 2
    set_controls(dashboard, init_scheme="he")
    rows = dashboard.figures["weights"].data[0].z
    assert len({tuple(row) for row in rows}) == 16
    assert "<b>16</b> different hidden units" in dashboard.children[5].value


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
    assert len(dashboard.figures["costs"].data) == min(count + 1, 6)  # same label replaces its own curve
    dashboard.controls["clear"].click()
    assert dashboard.figures["costs"].data == ()


def test_the_ui_cannot_offer_bad_values(dashboard):
    assert dashboard.controls["init_factor"].min > -10 and 10 ** dashboard.controls["init_factor"].min > 0
    assert dashboard.controls["depth"].min >= 2


def test_sigmoid_keeps_the_signal_but_its_gradient_vanishes(dashboard):
    set_controls(dashboard, init_scheme="he", activation="sigmoid", depth=8)
    grads = gradient(dashboard)
    assert grads[0] < 1e-3 * grads[-1] and "the gradient <b>vanishes</b>" in dashboard.readout.value


def test_the_text_names_tiny_and_huge_gradients(dashboard):
    set_controls(dashboard, init_scheme="random", init_factor=0.01, activation="tanh", depth=8)
    assert "tiny in every layer" in dashboard.readout.value
    set_controls(dashboard, activation="relu", init_factor=3.0)
    assert "the gradient is huge" in dashboard.readout.value
