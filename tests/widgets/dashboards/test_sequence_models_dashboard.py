"""Lab 17's dashboards: set a control as a learner would, let the runner finish, check what the plots now show."""

import copy

import ipywidgets as W
import pytest
from settle import record_messages, run_with

from lab.through_time import gradients_through_time
from widgets.dashboards.sequence_models import (
    gradients_through_time_dashboard,
    name_model_dashboard,
    recall_dashboard,
)

# ---------------------------------------------------------------- gradients through time


def shown(dashboard):
    """The gradient curves on the plot, oldest first as the legend lists them (unused line slots are hidden)."""
    return sorted((t for t in dashboard.figures["gradients"].data if t.visible), key=lambda t: t.legendrank)


def curves(dashboard):
    return {t.meta: list(t.y) for t in shown(dashboard)}


def test_the_starting_gru_curve_is_drawn_at_load():
    dashboard = gradients_through_time_dashboard()
    drawn = curves(dashboard)
    assert list(drawn) == ["GRU · T=100 · factor 1 · bias 0"]
    assert drawn["GRU · T=100 · factor 1 · bias 0"] == pytest.approx(gradients_through_time("gru", 100).norms)
    assert "vanishing" in dashboard.readout.value


@pytest.mark.parametrize("name, value, label", [
    ("rnn_cell", "rnn", "plain RNN · T=100 · factor 1 · bias 0"),
    ("sequence_length", 200, "GRU · T=200 · factor 1 · bias 0"),
    ("rnn_init_factor", 3.0, "GRU · T=100 · factor 3 · bias 0"),
    ("gate_bias", 4.0, "GRU · T=100 · factor 1 · bias 4"),
])
def test_each_control_adds_its_curve_beside_the_last(name, value, label):
    dashboard = gradients_through_time_dashboard()
    dashboard.controls[name].value = value
    drawn = curves(dashboard)
    assert list(drawn)[-1] == label and len(drawn) == 2
    config = {"rnn_cell": "gru", "sequence_length": 100, "rnn_init_factor": 1.0, "gate_bias": 0.0, name: value}
    expected = gradients_through_time(config["rnn_cell"], config["sequence_length"], config["rnn_init_factor"],
                                      gate_bias=config["gate_bias"]).norms
    assert drawn[label] == pytest.approx(expected)


def test_an_exploding_rnn_is_named_and_clipping_shifts_it_down_without_changing_its_shape():
    dashboard = gradients_through_time_dashboard()
    dashboard.controls["rnn_cell"].value = "rnn"
    dashboard.controls["rnn_init_factor"].value = 5.0
    assert "exploding" in dashboard.readout.value
    dashboard.controls["clip_norm"].value = 5.0
    raw, clipped = shown(dashboard)[-2:]
    assert "clipped at 5" in clipped.meta and clipped.line.dash == "dot"
    scale = clipped.y[0] / raw.y[0]
    assert scale < 1e-4 and all(c == pytest.approx(r * scale) for r, c in zip(raw.y, clipped.y, strict=True))
    assert "cannot revive a vanished one" in dashboard.readout.value


def test_every_curve_reaches_the_browser_with_its_points():
    """A line shown empty and filled by a later message is on screen without points in between (a browser test
    once read it there): the message that makes a line visible carries its points."""
    dashboard = gradients_through_time_dashboard()
    figure = dashboard.figures["gradients"]
    updates = []
    figure.observe(lambda change: change["new"] and updates.append(copy.deepcopy(change["new"])),
                   names="_py2js_update")
    for name, value in [("rnn_cell", "lstm"), ("rnn_cell", "rnn"), ("rnn_init_factor", 5.0), ("clip_norm", 5.0)]:
        dashboard.controls[name].value = value
    made_visible = []
    for update in updates:
        style, traces = update["style_data"], update["style_traces"]
        for i in range(len(traces)):
            if style.get("visible", [None] * len(traces))[i] is True:
                made_visible.append(style["meta"][i])
                assert len(style["x"][i]) == len(style["y"][i]) == 100, style["meta"][i]
    assert made_visible == [
        "LSTM · T=100 · factor 1 · bias 0", "LSTM · T=100 · factor 1 · bias 0 · memory c⟨t⟩",
        "plain RNN · T=100 · factor 1 · bias 0", "plain RNN · T=100 · factor 5 · bias 0",
        "plain RNN · T=100 · factor 5 · bias 0, clipped at 5"]


def test_the_lstm_shows_its_memory_path_and_an_open_gate_keeps_the_signal_on_it():
    dashboard = gradients_through_time_dashboard()
    dashboard.controls["rnn_cell"].value = "lstm"
    assert "along its memory cell" in dashboard.readout.value and "vanishing" in dashboard.readout.value
    dashboard.controls["gate_bias"].value = 4.0
    memory = shown(dashboard)[-1]
    assert memory.meta == "LSTM · T=100 · factor 1 · bias 4 · memory c⟨t⟩"
    result = gradients_through_time("lstm", 100, gate_bias=4.0)
    assert list(memory.y) == pytest.approx(result.memory_norms) and result.memory_ratio > 1e-3
    assert "survives" in dashboard.readout.value


def test_only_the_last_six_curves_stay():
    dashboard = gradients_through_time_dashboard()
    for length in (20, 30, 40, 50, 60, 70, 80):
        dashboard.controls["sequence_length"].value = length
    assert [t.meta.split(" · ")[1] for t in shown(dashboard)] == [
        "T=30", "T=40", "T=50", "T=60", "T=70", "T=80"]


# ---------------------------------------------------------------- remembering across time


def accuracy_lines(dashboard, figure):
    return {t.name: (list(t.x), list(t.y)) for t in dashboard.figures[figure].data}


def test_three_cells_train_side_by_side_and_their_accuracy_is_drawn():
    dashboard = run_with(recall_dashboard(), recall_steps=100, recall_distance=5)
    costs = {t.meta for t in dashboard.figures["costs"].data}
    assert {"plain RNN · T=5", "GRU · T=5", "LSTM · T=5"} <= costs
    lines = accuracy_lines(dashboard, "accuracy")
    for cell in ("plain RNN", "GRU", "LSTM"):
        x, y = lines[cell]
        assert x == [25, 50, 75, 100] and all(0 <= v <= 1 for v in y)
    assert lines["chance"] == ([0, 100], [0.25, 0.25])
    by_distance = accuracy_lines(dashboard, "accuracy_by_distance")
    assert by_distance["GRU"][0] == [5] and by_distance["GRU"][1] == [lines["GRU"][1][-1]]
    assert "T = 5:" in dashboard.readout.value and "GRU <b>" in dashboard.readout.value


def test_accuracy_against_distance_fills_in_run_by_run_and_clear_empties_it():
    dashboard = run_with(recall_dashboard(), recall_steps=50, recall_distance=8)
    sent = record_messages(dashboard.figures["accuracy_by_distance"])
    run_with(dashboard, recall_distance=3)
    assert accuracy_lines(dashboard, "accuracy_by_distance")["LSTM"][0] == [3, 8]
    assert sent == ["_py2js_update"]  # the three cells' new points, in one redraw
    dashboard.controls["clear"].click()
    assert accuracy_lines(dashboard, "accuracy_by_distance")["LSTM"] == ([], [])
    assert dashboard.figures["costs"].data == ()


def test_the_default_distance_separates_the_plain_rnn_from_the_gru():
    dashboard = recall_dashboard()
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(300)
    final = {cell: y[-1] for cell, (_, y) in accuracy_lines(dashboard, "accuracy").items() if cell != "chance"}
    assert final["GRU"] > 0.95 and final["plain RNN"] < 0.75, final


# ---------------------------------------------------------------- names


def test_before_training_the_explorer_asks_for_a_model():
    dashboard = name_model_dashboard()
    assert "Train the model to draw names from it." in page_text(dashboard)
    bars = dashboard.figures["next_letter"]
    assert all(v is None for v in bars.data[0].y) and bars.layout.annotations[0].text == "Train the model first"


def test_training_draws_costs_samples_and_next_letters():
    dashboard = run_with(name_model_dashboard(), name_steps=500)
    costs = dashboard.figures["costs"].data
    assert len(costs) == 1 and costs[0].x[-1] == pytest.approx(0.5)
    assert "500 steps, dev cost <b>" in dashboard.readout.value
    bars = dashboard.figures["next_letter"]
    p = [v for v in bars.data[0].y]
    assert sum(p) == pytest.approx(1.0, abs=1e-4) and "“mar”" in bars.layout.title.text
    text = page_text(dashboard)
    assert "after 250 steps (dev cost" in text and "after 500 steps (dev cost" in text
    assert "At temperature 1: <b>" in text and "of 200 samples" in text.lower()


def test_temperature_and_prefix_redraw_at_once():
    dashboard = run_with(name_model_dashboard(), name_steps=300)
    before = list(dashboard.figures["next_letter"].data[0].y)
    dashboard.controls["prefix"].value = "jo"
    after = list(dashboard.figures["next_letter"].data[0].y)
    assert after != before and "“jo”" in dashboard.figures["next_letter"].layout.title.text
    dashboard.controls["sample_temperature"].value = 0.3
    cold = list(dashboard.figures["next_letter"].data[0].y)
    assert max(cold) > max(after)


def test_a_prefix_with_unknown_characters_is_answered_in_words():
    dashboard = run_with(name_model_dashboard(), name_steps=200)
    dashboard.controls["prefix"].value = "jo3"
    bars = dashboard.figures["next_letter"]
    assert all(v is None for v in bars.data[0].y)
    assert "never seen: &#x27;3&#x27;" in page_text(dashboard)
    dashboard.controls["prefix"].value = "jo"
    assert "never seen" not in page_text(dashboard)


def page_text(dashboard) -> str:
    """Every HTML line of a dashboard, as one string."""
    def walk(widget):
        if isinstance(widget, W.HTML):
            yield widget.value
        for child in getattr(widget, "children", ()):
            yield from walk(child)
    return " ".join(walk(dashboard))


def test_the_current_setting_stands_out_also_when_it_was_drawn_before():
    dashboard = gradients_through_time_dashboard()
    dashboard.controls["sequence_length"].value = 101
    dashboard.controls["sequence_length"].value = 100  # back to a curve already on the plot
    widths = {t.meta: t.line.width for t in shown(dashboard)}
    assert widths == {"GRU · T=100 · factor 1 · bias 0": 4, "GRU · T=101 · factor 1 · bias 0": 1.5}


def test_a_press_redraws_the_plot_once():
    """New settings of the LSTM bring two lines and push the two oldest out: the lines, their widths and the axis
    labels change in one message (each message is a redraw in the browser; adding and deleting traces were one
    each)."""
    dashboard = gradients_through_time_dashboard()
    dashboard.controls["rnn_cell"].value = "lstm"
    for length in (20, 30):
        dashboard.controls["sequence_length"].value = length  # six lines: the plot is full
    sent = record_messages(dashboard.figures["gradients"])
    dashboard.controls["sequence_length"].value = 40
    assert sent == ["_py2js_update"]
    assert [(t.meta, t.line.width) for t in shown(dashboard)][-3:] == [
        ("LSTM · T=30 · factor 1 · bias 0 · memory c⟨t⟩", 1.5), ("LSTM · T=40 · factor 1 · bias 0", 4),
        ("LSTM · T=40 · factor 1 · bias 0 · memory c⟨t⟩", 4)]
    assert len(shown(dashboard)) == len(dashboard.figures["gradients"].data) == 6


def test_settings_seen_before_are_answered_from_memory():
    """Back to an earlier setting: no new pass through time, one message that only changes line widths."""
    from widgets.dashboards.sequence_models import remembered_gradients

    dashboard = gradients_through_time_dashboard()
    dashboard.controls["sequence_length"].value = 101
    misses = remembered_gradients.cache_info().misses
    sent = record_messages(dashboard.figures["gradients"])
    dashboard.controls["sequence_length"].value = 100
    dashboard.controls["sequence_length"].value = 101
    assert remembered_gradients.cache_info().misses == misses and sent == ["_py2js_update", "_py2js_update"]
    assert [t.line.width for t in shown(dashboard)] == [1.5, 4]
    assert list(shown(dashboard)[0].y) == pytest.approx(gradients_through_time("gru", 100).norms)


def test_moving_the_clip_threshold_computes_no_new_pass():
    """Clipping only scales a pass's gradients: its slider redraws the dotted copy from the remembered pass."""
    from widgets.dashboards.sequence_models import remembered_gradients

    dashboard = gradients_through_time_dashboard()
    dashboard.controls["rnn_cell"].value = "rnn"
    dashboard.controls["rnn_init_factor"].value = 5.0
    misses = remembered_gradients.cache_info().misses
    for clip in (1.0, 2.0, 3.5):
        dashboard.controls["clip_norm"].value = clip
    assert remembered_gradients.cache_info().misses == misses
    clipped = shown(dashboard)[-1]
    expected = gradients_through_time("rnn", 100, 5.0, clip_norm=3.5)
    assert clipped.meta.endswith("clipped at 3.5")
    assert list(clipped.y) == pytest.approx([v * expected.clip_scale for v in expected.norms])
