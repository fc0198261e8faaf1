"""Lab 02's dashboards: every control changes what it claims to, on the plot and in the readout."""

import threading

import numpy as np
import pytest

import widgets.dashboards.computation_graph_backprop as module
from lab.backprop import CheckNetwork, checked_gradients, numerical_gradient, relative_differences, two_layer_example
from widgets.dashboards.computation_graph_backprop import (
    computation_graph_dashboard,
    gradient_check_dashboard,
    layer_notation_dashboard,
    vectorization_dashboard,
)
from widgets.views.computation_graph import edge_label_texts, layered_positions
from widgets.views.figure import PALETTE, heatmap_z

# ---- the computation graph ------------------------------------------------------------------------------------


def above(figure) -> list[str]:
    return list(figure.data[3].text)


def below(figure) -> list[str]:
    return list(figure.data[4].text)


def test_the_graph_is_laid_out_in_layers_from_the_inputs():
    nodes = [("a", ()), ("b", ()), ("c", ()), ("u", ("b", "c")), ("v", ("a", "u")), ("J", ("v",))]
    assert layered_positions(nodes) == {"a": (0.0, 2.0), "b": (0.0, 1.0), "c": (0.0, 0.0), "u": (1.0, 0.5),
                                        "v": (2.0, 1.25), "J": (3.0, 1.25)}


def test_the_graph_starts_with_the_forward_pass_of_the_course_example():
    dashboard = computation_graph_dashboard()
    graph = dashboard.figures["graph"]
    assert above(graph) == ["a = 5", "b = 3", "c = 2", "u = b·c = 6", "v = a + u = 11", "J = 3·v = 33"]
    assert below(graph) == [""] * 6  # no derivative before backprop runs
    assert edge_label_texts(graph) == ["∂u/∂b = c = 2", "∂u/∂c = b = 3", "∂v/∂a = 1", "∂v/∂u = 1", "∂J/∂v = 3"]
    assert graph.data[1].x == ()  # no edge lit
    assert "Forward pass: J = <b>33</b>" in dashboard.readout.value


def test_each_backward_step_reveals_one_more_node():
    dashboard = computation_graph_dashboard()
    graph = dashboard.figures["graph"]
    dashboard.controls["backward_step"].value = 1
    assert below(graph) == ["", "", "", "", "", "dJ/dJ = 1"]
    assert list(graph.data[2].marker.color).count(PALETTE[5]) == 1  # the node just visited
    dashboard.controls["backward_step"].value = 5
    assert below(graph) == ["dJ/da = 3", "dJ/db = 6", "", "dJ/du = 3", "dJ/dv = 3", "dJ/dJ = 1"]
    assert graph.data[2].marker.color[1] == PALETTE[5]  # b is the latest
    assert list(graph.data[1].x).count(None) == 4  # four edges used: v→J, a→v, u→v, b→u
    assert "Step 5 of 6: dJ/db = dJ/du · ∂u/∂b = 3 · 2 = <b>6</b>." in dashboard.readout.value
    dashboard.controls["backward_step"].value = 6
    assert below(graph)[2] == "dJ/dc = 9"
    assert ("Backprop is done: dJ/da = <b>3</b>, dJ/db = <b>6</b>, dJ/dc = <b>9</b>. PyTorch's autograd finds 3, 6, 9."
            in dashboard.readout.value)


def test_next_steps_forward_and_starts_again_after_the_last():
    dashboard = computation_graph_dashboard()
    step, next_step = dashboard.controls["backward_step"], dashboard.controls["next"]
    for expected in (1, 2, 3, 4, 5, 6, 0):
        next_step.click()
        assert step.value == expected
    assert below(dashboard.figures["graph"]) == [""] * 6


def test_moving_an_input_changes_values_labels_and_derivatives():
    dashboard = computation_graph_dashboard()
    graph = dashboard.figures["graph"]
    dashboard.controls["backward_step"].value = 6
    dashboard.controls["c"].value = 0.0
    assert above(graph)[3:] == ["u = b·c = 0", "v = a + u = 5", "J = 3·v = 15"]
    assert edge_label_texts(graph)[0] == "∂u/∂b = c = 0"
    assert below(graph)[:3] == ["dJ/da = 3", "dJ/db = 0", "dJ/dc = 9"]  # b no longer matters
    dashboard.controls["b"].value = -1.0
    assert below(graph)[2] == "dJ/dc = −3" and edge_label_texts(graph)[1] == "∂u/∂c = b = −1"
    dashboard.controls["a"].value = -4.5
    assert above(graph)[0] == "a = −4.5" and below(graph)[0] == "dJ/da = 3"


def test_a_change_sends_one_update_of_the_graph():
    dashboard = computation_graph_dashboard()
    graph = dashboard.figures["graph"]
    edits = graph._last_trace_edit_id
    dashboard.controls["b"].value = 4.0
    assert graph._last_trace_edit_id == edits + 1


# ---- layer notation -------------------------------------------------------------------------------------------


def test_layer_notation_starts_on_unit_1_of_layer_1_for_example_1():
    dashboard = layer_notation_dashboard()
    example = two_layer_example(4, 8)
    grid = dashboard.figures["activations"]
    np.testing.assert_allclose(grid.data[0].z, example.A[0].numpy().round(3))
    assert (grid.data[1].x, grid.data[1].y) == ((1,), (1,))
    z = example.Z[0][0, 0].item()
    assert f"= <b>{z:.3f}</b>" in dashboard.readout.value
    assert "shape (4, 8)" in grid.layout.title.text
    np.testing.assert_allclose(heatmap_z(dashboard.figures["digit"]), example.X[:, 0].reshape(8, 8).numpy().round(3))
    assert "a handwritten 0" in dashboard.figures["digit"].layout.title.text


def test_choosing_a_unit_and_an_example_marks_that_cell():
    dashboard = layer_notation_dashboard()
    dashboard.controls["notation_unit"].value = 3
    dashboard.controls["example_index"].value = 5
    grid = dashboard.figures["activations"]
    assert (grid.data[1].x, grid.data[1].y) == ((5,), (3,))
    example = two_layer_example(4, 8)
    a = example.A[0][2, 4].item()
    assert f"tanh({example.Z[0][2, 4].item():.3f}) = <b>{a:.3f}</b>: row 3, column 5" in dashboard.readout.value
    assert grid.data[0].z[2][4] == pytest.approx(a, abs=1e-3)
    np.testing.assert_allclose(heatmap_z(dashboard.figures["digit"]), example.X[:, 4].reshape(8, 8).numpy().round(3))


def test_layer_2_has_one_unit():
    dashboard = layer_notation_dashboard()
    dashboard.controls["notation_unit"].value = 4
    dashboard.controls["layer"].value = 2
    unit = dashboard.controls["notation_unit"]
    assert unit.max == 1 and unit.value == 1
    grid = dashboard.figures["activations"]
    assert np.asarray(grid.data[0].z).shape == (1, 8)
    assert grid.layout.title.text.startswith("A<sup>[2]</sup> = σ(Z<sup>[2]</sup>)")
    assert "= σ(" in dashboard.readout.value and "row 1 of W<sup>[2]</sup>" in dashboard.readout.value


def test_hidden_units_and_m_change_the_shapes():
    dashboard = layer_notation_dashboard()
    shapes = dashboard.children[-2]  # above the settings link
    assert "<td>(4, 64)</td><td>(4, 1)</td><td>(4, 8)</td><td>(4, 8)</td>" in shapes.value
    dashboard.controls["hidden_units"].value = 8
    assert "<td>(8, 64)</td><td>(8, 1)</td><td>(8, 8)</td><td>(8, 8)</td>" in shapes.value
    assert "<td>(1, 8)</td><td>(1, 1)</td><td>(1, 8)</td><td>(1, 8)</td>" in shapes.value
    assert np.asarray(dashboard.figures["activations"].data[0].z).shape == (8, 8)
    assert dashboard.controls["notation_unit"].max == 8
    dashboard.controls["example_index"].value = 8
    dashboard.controls["notation_examples"].value = 3
    assert np.asarray(dashboard.figures["activations"].data[0].z).shape == (8, 3)
    assert dashboard.controls["example_index"].max == 3 and dashboard.controls["example_index"].value == 3
    assert "<td>(8, 64)</td><td>(8, 1)</td><td>(8, 3)</td><td>(8, 3)</td>" in shapes.value


# ---- vectorization --------------------------------------------------------------------------------------------


def test_time_it_shows_both_times_and_their_ratio():
    dashboard = vectorization_dashboard()
    times, history = dashboard.figures["times"], dashboard.figures["history"]
    assert times.data[0].x == () and "press <b>Time it</b>" in dashboard.readout.value  # nothing at load
    dashboard.controls["vector_length"].value = 1000.0
    assert times.data[0].x == ()  # the slider alone times nothing
    dashboard.controls["time_it"].click()
    assert dashboard.runner.wait(60)
    loop, vector = times.data[0].x
    assert times.data[0].y == ("Python loop", "vectorized") and loop > 0 and vector > 0
    assert times.layout.title.text == f"Time for one dot product of length 1,000: ratio {loop / vector:,.0f}×"
    assert "n = 1,000: the Python loop took" in dashboard.readout.value and "extrapolated" not in \
        dashboard.readout.value
    assert history.data[0].x == (1000,) and history.data[1].x == (1000,)
    dashboard.controls["vector_length"].value = 20_000.0
    dashboard.controls["time_it"].click()
    assert dashboard.runner.wait(60)
    assert history.data[0].x == (1000, 20_000) and len(history.data[1].y) == 2
    assert not dashboard.controls["time_it"].disabled
    assert "Computing on: <b>CPU" in dashboard.children[0].value


def test_a_capped_loop_says_it_was_extrapolated(monkeypatch):
    monkeypatch.setattr(module, "MAX_LOOP_SECONDS", 1e-6)
    dashboard = vectorization_dashboard()
    dashboard.controls["vector_length"].value = 1e6
    dashboard.controls["time_it"].click()
    assert dashboard.runner.wait(60)
    assert dashboard.figures["times"].data[0].y[0] == "Python loop (extrapolated)"
    assert "extrapolated: it was stopped after 1e-06 s, having done 65,536 of the 1,000,000" in dashboard.readout.value


def test_a_second_click_while_timing_starts_nothing(monkeypatch):
    release, calls = threading.Event(), []

    def slow(n, max_seconds):
        calls.append(n)
        release.wait(30)
        raise ValueError("The 'vector_length' parameter is broken.")

    monkeypatch.setattr(module, "time_dot_products", slow)
    dashboard = vectorization_dashboard()
    button = dashboard.controls["time_it"]
    button.click()
    assert button.disabled and "Timing n = 1,000,000…" in dashboard.readout.value
    button.click()
    release.set()
    assert dashboard.runner.wait(30)
    assert calls == [1e6]  # one timing, not two
    assert "Error: ValueError: The &#x27;vector_length&#x27; parameter is broken." in dashboard.readout.value
    assert not button.disabled  # the learner can try again


# ---- gradient checking ----------------------------------------------------------------------------------------


def bar_values(dashboard) -> dict[str, float]:
    bars = dashboard.figures["per_parameter"].data[0]
    return dict(zip(bars.x, bars.y, strict=True))


def test_the_correct_backward_pass_is_fine():
    dashboard = gradient_check_dashboard()
    values = bar_values(dashboard)
    network = CheckNetwork()
    grads = checked_gradients(network.cost_and_gradients, network.params)
    expected = relative_differences(numerical_gradient(network.cost_and_gradients, network.params, 1e-7), grads)
    assert values == pytest.approx(expected, rel=1e-6)
    assert max(values.values()) < 1e-7
    assert "— <b>fine</b>" in dashboard.readout.value and "every parameter agrees" in dashboard.readout.value
    assert set(dashboard.figures["per_parameter"].data[0].marker.color) == {PALETTE[0]}


def test_a_planted_bug_is_found_and_located():
    dashboard = gradient_check_dashboard()
    dashboard.controls["planted_bug"].value = "dw_factor"
    values = bar_values(dashboard)
    assert values["W2"] > 0.5 and all(v < 1e-7 for name, v in values.items() if name != "W2")
    colours = dict(zip(values, dashboard.figures["per_parameter"].data[0].marker.color, strict=True))
    assert colours["W2"] == PALETTE[5] and colours["W1"] == PALETTE[0]
    assert "<b>almost certainly a bug</b>" in dashboard.readout.value
    assert "the difference comes from <b>W2</b>" in dashboard.readout.value
    dashboard.controls["planted_bug"].value = "activation_derivative"
    assert "<b>W1</b>" in dashboard.readout.value and "W3, b3 agree" in dashboard.readout.value


def test_with_a_bug_the_error_no_longer_falls_with_eps():
    dashboard = gradient_check_dashboard()
    curves = dashboard.figures["epsilon"]
    two_sided = np.array(curves.data[1].y, dtype=float)
    assert two_sided.max() / two_sided.min() > 1e5  # no bug: ε matters a lot
    dashboard.controls["planted_bug"].value = "db_dropped"
    two_sided = np.array(curves.data[1].y, dtype=float)
    assert two_sided.max() / two_sided.min() < 1.1  # a bug: a floor no ε gets under
    assert curves.data[2].name == "slope 1: ∝ ε" and curves.data[3].name == "slope 2: ∝ ε²"


def test_eps_moves_the_marker_and_the_verdict():
    dashboard = gradient_check_dashboard()
    marker = dashboard.figures["epsilon"].data[4]
    assert marker.x == pytest.approx((1e-7, 1e-7))
    dashboard.controls["check_epsilon"].value = 1e-12
    assert marker.x == pytest.approx((1e-12, 1e-12))
    assert "ε = 1.0e-12" in dashboard.readout.value and "every parameter is off" in dashboard.readout.value
    assert "fine" not in dashboard.readout.value.split("(course")[0]
    dashboard.controls["check_epsilon"].value = 10 ** -4.5  # not on the plotted grid: computed now
    one, two = marker.y
    assert one > 10 * two  # one-sided is worse
    assert "— <b>fine</b>" in dashboard.readout.value


def test_a_missing_gradient_is_said_in_words_not_as_an_error():
    dashboard = gradient_check_dashboard()
    dashboard.controls["planted_bug"].value = "missing_gradient"
    text = dashboard.readout.value
    assert "<b>The check cannot run.</b> The gradients have no entry for parameter &#x27;b3&#x27;" in text
    assert "Error" not in text and "lab-status-error" not in text
    assert bar_values(dashboard) == dict.fromkeys(["W1", "b1", "W2", "b2", "W3", "b3"])
    assert dashboard.figures["epsilon"].data[1].y == ()
    dashboard.controls["planted_bug"].value = "none"
    assert "fine" in dashboard.readout.value and bar_values(dashboard)["W1"] is not None


# ---- all four -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [computation_graph_dashboard, layer_notation_dashboard, vectorization_dashboard,
                                  gradient_check_dashboard])
def test_every_control_is_labelled_with_a_tooltip(make):
    dashboard = make()
    for name, widget in dashboard.controls.items():
        assert widget.tooltip, name
        assert widget.description, name


def test_an_error_in_the_graph_is_shown_not_swallowed(monkeypatch):
    dashboard = computation_graph_dashboard()

    def broken(*args, **kwargs):
        raise ValueError("The 'graph' parameter is broken.")

    monkeypatch.setattr(module, "step_text", broken)
    dashboard.controls["a"].value = 1.0
    assert "Error: ValueError: The &#x27;graph&#x27; parameter is broken." in dashboard.readout.value
