"""Lab 03's dashboards driven as a learner would: controls set, the plot clicked (through the same message plotly's
front end sends), the runner waited for, then what the figures and text lines show."""

import re
import time

import pytest
from settle import run_with

import widgets.dashboards.activations_shallow_network as lab03
from lab.data.drawn import MAX_POINTS, DrawnSet
from widgets.dashboards.activations_shallow_network import activation_dashboard, shallow_network_dashboard

FLOWER = "tanh · 8 units · α=1 · init ×0.01 · flower"


def click(figure, x1, x2, trace=0):
    """What plotly.js sends when the learner clicks the point (x1, x2) of trace `trace`."""
    figure._js2py_pointsCallback = {"event_type": "plotly_click", "device_state": None, "selector": None,
                                    "points": {"trace_indexes": [trace], "point_indexes": [[0, 0]],
                                               "xs": [x1], "ys": [x2]}}



def trained(dashboard):
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(60)
    return dashboard


def costs(dashboard):
    return {trace.meta: trace for trace in dashboard.figures["costs"].data}


def accuracy(text, who):
    """The percentage after `who` in the readout, as a fraction."""
    return float(re.search(re.escape(who) + r".*?<b>([\d.]+)%</b>", text).group(1)) / 100


def points_shown(dashboard):
    board = dashboard.figures["board"]
    return len(board.data[1].x), len(board.data[2].x)


def flat(board):
    return {v for row in board.data[0].z for v in row} == {0.5}


# ---- the activation functions ----------------------------------------------------------------------------------

def test_relu_at_minus_two_has_slope_exactly_zero_not_undefined():
    dashboard = activation_dashboard()
    assert dashboard.controls["activation"].value == "relu" and dashboard.controls["z"].value == -2.0
    assert "g′(z) = <b>0</b> — for z &lt; 0 the slope is exactly 0. It is defined" in dashboard.readout.value
    slope = dashboard.figures["slope"]
    assert slope.data[-1].x == (-2.0,) and slope.data[-1].y == (0.0,)
    relu = slope.data[2]
    assert relu.name == "ReLU" and relu.line.width == 4.0 and slope.data[0].line.width == 1.5
    middle = len(relu.x) // 2
    assert relu.x[middle] == 0 and relu.y[middle] is None  # the gap: no derivative at the kink
    assert relu.y[middle - 1] == 0 and relu.y[middle + 1] == 1


def test_z_zero_is_named_the_one_point_without_a_derivative():
    dashboard = activation_dashboard()
    dashboard.controls["z"].value = 0.0
    assert "z = 0 is the only point with no derivative: the slope jumps from 0 to 1" in dashboard.readout.value
    assert "PyTorch and this lab use 0" in dashboard.readout.value


def test_leaky_relu_keeps_the_slope_the_slider_sets():
    dashboard = activation_dashboard()
    dashboard.controls["activation"].value = "leaky_relu"
    assert dashboard.figures["slope"].data[-1].y == (0.01,)
    dashboard.controls["leaky_slope"].value = 0.3
    value, slope = dashboard.figures["value"], dashboard.figures["slope"]
    assert slope.data[-1].y == (pytest.approx(0.3),) and value.data[-1].y == (pytest.approx(-0.6),)
    assert value.data[3].y[0] == pytest.approx(-1.5)  # g(−5) = 0.3 · (−5): the curve was redrawn
    assert "the slope is 0.3: small, but not 0, so some gradient still flows" in dashboard.readout.value


def test_a_saturated_sigmoid_is_called_flat():
    dashboard = activation_dashboard()
    dashboard.controls["activation"].value = "sigmoid"
    dashboard.controls["z"].value = 5.0
    assert "almost flat (the unit is saturated): a gradient passing through shrinks 150×" in dashboard.readout.value
    assert dashboard.figures["value"].data[-1].y == (pytest.approx(0.99331, abs=1e-5),)


# ---- the network on drawn points -------------------------------------------------------------------------------

def test_nothing_trains_until_asked_and_the_flower_is_shown():
    dashboard = shallow_network_dashboard()
    assert dashboard.figures["costs"].data == ()
    assert points_shown(dashboard) == (100, 100) and flat(dashboard.figures["board"])
    assert dashboard.status.text == "Move a control, press Train, or click on the plot to add a point."


def test_the_network_bends_around_the_flower_where_logistic_regression_cannot():
    dashboard = trained(shallow_network_dashboard())
    assert set(costs(dashboard)) == {"logistic regression · flower", FLOWER}
    assert len(costs(dashboard)[FLOWER].x) == 1000
    assert dashboard.status.kind == "success"
    assert accuracy(dashboard.readout.value, FLOWER) > 0.85
    assert accuracy(dashboard.readout.value, "Logistic regression on the same points") < 0.6
    board = dashboard.figures["board"]
    assert not flat(board) and len(board.data[0].z) == 60
    assert len(board.data[3].x) == 2  # the logistic regression's straight line
    units = dashboard.figures["units"]
    assert [a.text for a in units.layout.annotations] == [str(j) for j in range(1, 9)]


def test_the_hidden_unit_count_sets_how_many_maps_are_drawn():
    dashboard = run_with(shallow_network_dashboard(), hidden_units=3)
    units = dashboard.figures["units"]
    assert [a.text for a in units.layout.annotations] == ["1", "2", "3"]
    assert len(units.data[0].z) == len(units.data[0].z[0]) == 2 * (16 + 3)  # a 2 × 2 mosaic of 16 × 16 maps


def test_a_click_adds_a_point_of_the_chosen_class_and_retrains():
    dashboard = shallow_network_dashboard()
    click(dashboard.figures["board"], 4.5, 4.5)
    assert dashboard.runner.wait(60)
    assert points_shown(dashboard) == (100, 101) and dashboard.figures["board"].data[2].x[-1] == 4.5
    assert "tanh · 8 units · α=1 · init ×0.01 · flower + your points" in costs(dashboard)
    dashboard.controls["new_class"].value = "0"
    click(dashboard.figures["board"], -4.0, 4.0, trace=2)  # a click on a drawn point counts too
    assert dashboard.runner.wait(60)
    assert points_shown(dashboard) == (101, 101)
    assert len(costs(dashboard)) == 2  # the same label: the drawing's curve is replaced, not added


def test_too_few_points_or_one_class_is_said_in_words_and_the_points_stay():
    dashboard = shallow_network_dashboard()
    dashboard.controls["clear_points"].click()
    assert dashboard.runner.wait(60)
    assert dashboard.controls["preset"].value == "none" and points_shown(dashboard) == (0, 0)
    assert dashboard.status.kind == "warning" and dashboard.status.text.startswith("There are no points yet")
    for x1 in (1.0, 2.0, 3.0):
        click(dashboard.figures["board"], x1, 1.0)
    assert dashboard.runner.wait(60)
    assert dashboard.status.text.startswith("All 3 points are blue: a classifier needs both classes")
    assert points_shown(dashboard) == (0, 3) and flat(dashboard.figures["board"])
    assert dashboard.figures["costs"].data == ()
    dashboard.controls["new_class"].value = "0"
    click(dashboard.figures["board"], -1.0, -1.0)
    assert dashboard.runner.wait(60)
    assert dashboard.status.text.startswith("Only 4 points (1 orange, 3 blue)")
    run_with(dashboard, hidden_units=4)  # a control change is answered the same way, never with an error
    assert dashboard.status.kind == "warning" and points_shown(dashboard) == (1, 3)
    for x1 in (-2.0, -3.0):
        click(dashboard.figures["board"], x1, -1.0)
    assert dashboard.runner.wait(60)
    assert dashboard.status.kind == "success" and "your points" in dashboard.status.text


def test_a_full_board_is_answered_in_words():
    points = DrawnSet(None)
    points.points = [(0.0, 0.0, i % 2) for i in range(MAX_POINTS)]
    dashboard = shallow_network_dashboard(points)
    click(dashboard.figures["board"], 1.0, 1.0)
    assert dashboard.status.kind == "warning" and "holds at most" in dashboard.status.text
    assert len(points.points) == MAX_POINTS


def test_a_preset_replaces_the_points_and_trains_on_them():
    dashboard = shallow_network_dashboard()
    dashboard.controls["preset"].value = "xor"
    assert dashboard.runner.wait(60)
    assert sum(points_shown(dashboard)) == 200
    assert "logistic regression · xor" in costs(dashboard)
    assert accuracy(dashboard.readout.value, "Logistic regression on the same points") < 0.6


def test_dead_relu_units_are_counted_and_leaky_relu_keeps_them_learning():
    dashboard = run_with(shallow_network_dashboard(), activation="relu", hidden_units=20, lr=3.0, init_factor=0.5)
    dead = int(re.search(r"<b>(\d+) of 20</b> hidden units are <b>dead</b>", dashboard.readout.value).group(1))
    assert dead >= 5
    units = dashboard.figures["units"]
    assert units.layout.title.text == f"What each hidden unit computes ({dead} dead)"
    assert sum(a.text.endswith(" dead") for a in units.layout.annotations) == dead
    relu = accuracy(dashboard.readout.value, "ReLU")
    run_with(dashboard, activation="leaky_relu")
    assert "Leaky ReLU still gives them a slope of 0.01, so they keep learning" in dashboard.readout.value
    assert accuracy(dashboard.readout.value, "Leaky ReLU") > relu


def test_a_leaky_slope_of_one_makes_the_network_linear():
    dashboard = run_with(shallow_network_dashboard(), activation="leaky_relu", leaky_slope=1.0)
    assert accuracy(dashboard.readout.value, "Leaky ReLU 1") < 0.6
    assert "Leaky ReLU 1 · 8 units" in dashboard.status.text


def test_without_the_comparison_there_is_no_line_and_no_logistic_curve():
    dashboard = run_with(shallow_network_dashboard(), compare=False)
    assert list(costs(dashboard)) == [FLOWER] and dashboard.figures["board"].data[3].x == ()
    assert "Logistic regression" not in dashboard.readout.value


def test_a_diverging_run_says_so_and_what_to_try():
    dashboard = run_with(shallow_network_dashboard(), activation="relu", lr=10.0, init_factor=1.0)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost grew to .* — try a smaller learning rate α or init factor\.", dashboard.status.text)
    diverged = [t for t in dashboard.figures["costs"].data if t.name.endswith("(diverged)")]
    assert len(diverged) == 1 and diverged[0].line.dash == "dot"


def test_the_iteration_count_sets_the_curve_length():
    dashboard = run_with(shallow_network_dashboard(), num_iterations=300)
    label = "tanh · 8 units · α=1 · init ×0.01 · flower"
    assert len(costs(dashboard)[label].x) == 300 and len(costs(dashboard)["logistic regression · flower"].x) == 300


def test_stop_stops_a_long_run(monkeypatch):
    def slow_train(*args, **kwargs):
        for event in lab03.train.__wrapped__(*args, **kwargs):
            time.sleep(0.001)
            yield event

    slow_train.__wrapped__ = lab03.train
    monkeypatch.setattr(lab03, "train", slow_train)
    dashboard = shallow_network_dashboard()
    dashboard.controls["num_iterations"].value = 5000
    deadline = time.monotonic() + 30
    while not any(not meta.startswith("logistic") for meta in costs(dashboard)):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(5)
    assert dashboard.status.text.startswith("Stopped")
    assert "stopped after" in dashboard.readout.value


def test_unticking_the_comparison_removes_logistic_regressions_line():
    dashboard = shallow_network_dashboard()
    assert dashboard.controls["compare"].value  # ticked to start with
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(60)
    line = dashboard.figures["board"].data[3]
    assert len(line.x) == 2  # the straight line's two ends
    run_with(dashboard, compare=False)
    assert len(dashboard.figures["board"].data[3].x) == 0
