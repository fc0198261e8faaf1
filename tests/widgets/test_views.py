import json
import math

import numpy as np
import pytest
from dashboards.settle import record_messages
from ipywidgets.widgets.widget import _remove_buffers
from plotly.serializers import _py_to_js

from widgets.views.cost_curves import CostCurves
from widgets.views.curve_overlay import CurveOverlay
from widgets.views.decision_boundary import DecisionBoundary, half_line
from widgets.views.figure import PALETTE, heatmap_z, log_ticks, plottable, set_heatmap_z, traces_redrawn_alone
from widgets.views.gradient_norms import GradientNorms
from widgets.views.grey_image import GreyImage
from widgets.views.histograms import Histograms
from widgets.views.image_grid import ImageGrid, tile
from widgets.views.labelled_lines import LabelledLines
from widgets.views.train_dev_curves import TrainDevCurves


def test_cost_curves_overlay_runs_and_drop_the_oldest():
    view = CostCurves(max_runs=3)
    for i in range(4):
        view.add_run(f"run {i}")
        view.update_run(f"run {i}", [1, 2], [1.0, 0.5 / (i + 1)])
    assert view.labels == ["run 1", "run 2", "run 3"] and len(view.figure.data) == 3
    in_legend = sorted(view.figure.data, key=lambda trace: trace.legendrank)
    assert [t.line.color for t in in_legend] == list(PALETTE[1:4])
    newest = max(view.figure.data, key=lambda trace: trace.zorder)  # drawn on top
    assert newest is view.figure.data[0] and newest.meta == "run 3" and newest.y == (1.0, 0.125)  # run 0's line
    assert view.figure.layout.yaxis.type == "log"


def test_a_run_on_a_full_plot_takes_the_oldest_line_in_one_message_with_the_other_lines_updates():
    """plotly.js redraws the whole plot for an added trace and again for a deleted one: a full plot's new run
    restyles the oldest line instead, in the same message as the updates of the lines still growing."""
    view = CostCurves(max_runs=3)
    view.add_runs([("a", [1], [1.0], ""), ("b", [1], [2.0], "")])
    sent = record_messages(view.figure)
    view.draw(new=[("c", [1], [0.5], "")], updated=[("b", [1, 2], [2.0, 1.5], "")])  # a free line: added
    assert sent == ["_py2js_addTraces", "_py2js_update"] and view.labels == ["a", "b", "c"]
    sent.clear()
    view.draw(new=[("d", [1], [4.0], "diverged")], updated=[("c", [1, 2], [0.5, 0.25], "")])
    assert sent == ["_py2js_update"] and view.labels == ["b", "c", "d"]
    d, b, c = view.figure.data  # d in a's line, with every property of its own
    assert (d.meta, d.name, d.y, d.line.dash, d.line.width) == ("d", "d (diverged)", (4.0,), "dot", 2.5)
    assert c.y == (0.5, 0.25) and b.y == (2.0, 1.5)
    assert d.legendrank > c.legendrank > b.legendrank and d.zorder > c.zorder
    sent.clear()
    view.add_runs([("e", [1], [1.0], ""), ("f", [1], [1.0], ""), ("g", [1], [1.0], ""), ("h", [1], [3.0], "")])
    assert sent == ["_py2js_update"] and view.labels == ["f", "g", "h"]  # more new runs than lines: the newest
    assert len({trace.line.color for trace in view.figure.data}) == 3
    assert view.figure.layout.yaxis.ticktext[-1] == "4"  # labelled from the lines shown (1–3): d's 4.0 is gone


def test_a_line_rerun_under_its_own_label_never_shares_a_colour_with_a_line_shown():
    """Lab 03 reruns logistic regression under one label beside each new network: each run takes a colour, and
    counting alone gave it, after a few runs, the colour of an older network's line still on the plot."""
    view = CostCurves(max_runs=6)
    for i in range(12):
        view.add_runs([("logistic regression", [1], [0.7], ""), (f"network {i}", [1], [0.5], "")])
        colours = [trace.line.color for trace in view.figure.data]
        assert len(set(colours)) == len(colours), (i, colours)


def test_rerunning_a_label_replaces_its_curve_and_notes_are_shown():
    view = CostCurves()
    view.add_run("α=1")
    view.update_run("α=1", [1, 2], [0.7, math.nan], note="diverged")
    assert view.figure.data[0].name == "α=1 (diverged)" and view.figure.data[0].y == (0.7, None)
    view.add_run("α=1")
    assert view.labels == ["α=1"] and view.figure.data[0].name == "α=1"
    with pytest.raises(KeyError, match="No run named 'β'"):
        view.update_run("β", [1], [1.0])
    view.clear()
    assert view.figure.data == ()


def test_plottable_turns_nan_and_inf_into_gaps():
    assert plottable([1.0, math.nan, math.inf, -math.inf, 2.0]) == [1.0, None, None, None, 2.0]


def test_gradient_norms_draw_one_line_per_parameter():
    view = GradientNorms()
    view.show([1, 2, 3], {"w": [3.0, 2.0, 1.0], "b": [0.3, 0.2, 0.1]})
    assert [t.name for t in view.figure.data] == ["‖dw‖", "‖db‖"]
    view.show([1], {"W1": [1.0]})
    assert [t.name for t in view.figure.data] == ["‖dW1‖"] and view.figure.data[0].y == (1.0,)


def test_tile_lays_images_out_in_a_grid_with_white_gaps():
    images = np.stack([np.full((2, 3), v) for v in (0.1, 0.2, 0.3)])
    mosaic = tile(images, columns=2, gap=1)
    assert mosaic.shape == (6, 8)
    assert mosaic[0, 0] == 0.1 and mosaic[0, 4] == 0.2 and mosaic[3, 0] == 0.3
    assert mosaic[2, 0] == 1.0 and mosaic[3, 4] == 1.0  # gap row and the empty fourth slot


def test_image_grid_shows_captions_or_says_it_is_empty():
    grid = ImageGrid("wrong", columns=4, empty_text="All correct")
    grid.show(np.random.default_rng(0).random((3, 5, 5)), ["a", "b", "c"])
    assert [a.text for a in grid.figure.layout.annotations] == ["a", "b", "c"]
    assert np.asarray(grid.figure.data[0].z).shape == (13, 52)
    grid.show(np.zeros((0, 5, 5)), [])
    assert [a.text for a in grid.figure.layout.annotations] == ["All correct"]


@pytest.mark.parametrize(("values", "labels"), [
    ([0.04, 7.0], ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"]),  # 1, 2, 5 per decade
    ([0.3, 0.69], ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]),  # less than a decade: every digit
    ([0.001, 5.0], ["0.001", "0.01", "0.1", "1", "10"]),  # several decades: the powers of ten
    ([1e-9, 100.0], ["1e-08", "1e-06", "0.0001", "0.01", "1", "100"]),  # many: every other power
    ([1e-23, 0.1], ["1e-21", "1e-17", "1e-13", "1e-09", "1e-05", "0.1"]),  # about six labels, not 23
    ([None, math.nan, 0.0, -1.0], []),  # nothing a log axis can show
])
def test_log_ticks_label_whole_numbers(values, labels):
    ticks, text = log_ticks(values)
    assert text == labels
    assert [float(t) for t in text] == ticks


def test_a_curve_that_barely_moves_keeps_plotlys_labels():
    assert log_ticks([0.6931, 0.6935]) is None  # no 0.1-step tick falls inside: plotly labels 0.6932 …


def test_log_axes_show_whole_numbers_not_plotlys_bare_digits():
    curves = CostCurves()
    curves.add_run("a")
    curves.update_run("a", [0, 1, 2], [7.0, 0.5, 0.04])
    axis = curves.figure.layout.yaxis
    assert axis.tickmode == "array" and "0.5" in axis.ticktext and "5" in axis.ticktext
    assert dict(zip(axis.ticktext, axis.tickvals, strict=True))["0.5"] == 0.5
    grads = GradientNorms()
    grads.show([0, 1], {"w": [0.3, 0.6]})
    assert list(grads.figure.layout.yaxis.ticktext) == ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]


def test_labelled_lines_stretch_the_reference_to_the_newest_points_even_inside_a_batch():
    lines = LabelledLines("accuracy", ["a", "b"], x_title="step", y_title="accuracy", reference=(0.2, "chance"))
    lines.show("a", [0, 25], [0.3, 0.5])
    with lines.figure.batch_update():  # one message for both lines
        lines.show("a", [0, 25, 50], [0.3, 0.5, 0.7])
        lines.show("b", [0, 25, 50, 75], [0.1, 0.2, 0.3, float("nan")])
    reference = lines.figure.data[-1]
    assert reference.x == (0, 75) and reference.y == (0.2, 0.2) and lines.figure.data[0].x == (0, 25, 50)
    lines.clear()
    assert reference.x == () and lines.figure.data[1].x == ()


def test_labelled_lines_extend_appends_a_whole_push_of_points_in_one_message():
    lines = LabelledLines("accuracy", ["a", "b"], x_title="step", y_title="accuracy", reference=(0.2, "chance"))
    lines.extend([("a", 0, 0.3)])
    sent: list[str] = []
    lines.figure.observe(lambda change: change["new"] and sent.append(change["name"]), names="_py2js_update")
    lines.extend([("a", 10, 0.4), ("b", 0, 0.1), ("a", 20, 0.5), ("b", 10, 0.2)])
    assert len(sent) == 1  # a message per point queued one redraw each in the browser
    a, b, reference = lines.figure.data
    assert a.x == (0, 10, 20) and a.y == (0.3, 0.4, 0.5) and b.x == (0, 10) and b.y == (0.1, 0.2)
    assert reference.x == (0, 20)
    lines.clear()
    lines.extend([("b", 5, 0.9)])
    assert a.x == () and b.x == (5,) and b.y == (0.9,)


def test_train_dev_curves_roll_the_latest_run_to_dotted_in_the_new_runs_first_message():
    curves = TrainDevCurves("cost", "J", log_y=True)
    curves.show([0, 10], [1.0, 0.5], [1.0, 0.8], best=(10, 0.8))
    sent: list[str] = []
    curves.figure.observe(lambda change: change["new"] and sent.append(change["name"]), names="_py2js_update")
    curves.new_run()
    assert sent == [] and curves.figure.data[0].y == (1.0, 0.5)  # nothing yet: the old run stays until new points
    curves.show([0], [2.0], [3.0])
    train, dev, old_train, old_dev, star = curves.figure.data
    assert len(sent) == 1 and train.y == (2.0,) and dev.y == (3.0,) and star.x == ()
    assert old_train.y == (1.0, 0.5) and old_dev.y == (1.0, 0.8)
    assert min(curves.figure.layout.yaxis.tickvals) <= 0.5  # the dotted run's values are labelled too
    curves.show([0, 10], [2.0, 1.0], [3.0, 2.0])
    assert old_train.y == (1.0, 0.5)  # rolled once per run


def test_the_half_line_runs_where_the_probability_crosses_one_half():
    # ŷ goes from 0 at x = 0 to 1 at x = 2 on every row: it is 0.5 on the vertical line x = 1
    xs, ys = half_line([0.0, 2.0], [0.0, 5.0, 10.0], [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert xs[-1] is None and ys[-1] is None
    assert xs[:-1] == [1.0, 1.0, 1.0] and sorted(ys[:-1]) == [0.0, 5.0, 10.0]
    assert half_line([0.0, 1.0], [0.0, 1.0], [[0.9, 0.9], [0.9, 0.9]]) == ([], [])  # all one class: no line


def test_a_decision_boundary_draws_its_shading_and_line_together():
    view = DecisionBoundary()
    sent = record_messages(view.figure)
    view.show_probabilities([0.0, 1.0, 2.0], [0.0, 1.0], [[0.2, 0.5, 0.8], [0.2, 0.5, 0.8]])
    assert sent == ["_py2js_update"]
    assert [list(row) for row in view.figure.data[0].z] == [[0.2, 0.5, 0.8], [0.2, 0.5, 0.8]]
    assert view.figure.data[1].name == "the line ŷ = 0.5" and set(view.figure.data[1].x) == {1.0, None}


def test_a_grey_image_travels_as_binary_rows_not_as_numbers_in_json():
    """Each row of the picture is one binary buffer of float64s: the message's JSON part holds no pixel values,
    which plotly's serializer and ipywidgets would otherwise walk one number at a time."""
    view = GreyImage("Input", fixed_range=(0.0, 1.0))
    updates = []
    view.figure.observe(lambda change: change["new"] and updates.append(change["new"]), names="_py2js_update")
    image = np.random.default_rng(0).random((5, 7))
    view.show(image, title="A photo")
    assert len(updates) == 1
    state, buffer_paths, buffers = _remove_buffers({"update": _py_to_js(updates[0], None)})
    assert len(buffers) == 5 and all(buffer.nbytes == 7 * 8 for buffer in buffers)
    assert len(json.dumps(state)) < 1000  # paths and dtypes only
    rows = [np.frombuffer(buffer, dtype=np.float64) for buffer in buffers]
    np.testing.assert_array_equal(np.stack(rows), image.round(3))
    np.testing.assert_array_equal(heatmap_z(view.figure), image.round(3))
    assert view.figure.layout.title.text == "A photo"


def test_a_heatmap_set_inside_a_batch_goes_out_with_its_other_edits_as_binary_rows():
    """`set_heatmap_z` joins the batch: one message, the title in its JSON, the pixels only in buffers; ±inf (a
    diverged run) travels as NaN, a gap, as NaN does; the figure holds the rounded values."""
    grid = ImageGrid("maps", columns=2)
    updates = []
    grid.figure.observe(lambda change: change["new"] and updates.append(change["new"]), names="_py2js_update")
    z = np.random.default_rng(1).random((4, 6))
    z[0, 0], z[1, 1], z[2, 2] = math.inf, -math.inf, math.nan
    with grid.figure.batch_update():
        set_heatmap_z(grid.figure, z)
        grid.figure.layout.title.text = "new title"
    assert len(updates) == 1 and updates[0]["layout_data"] == {"title.text": "new title"}
    state, _, buffers = _remove_buffers({"update": _py_to_js(updates[0], None)})
    assert len(buffers) == 4 and "new title" in json.dumps(state) and len(json.dumps(state)) < 1000
    sent = np.stack([np.frombuffer(buffer, dtype=np.float64) for buffer in buffers])
    expected = np.where(np.isfinite(z), z.round(3), np.nan)
    np.testing.assert_array_equal(sent, expected)
    np.testing.assert_array_equal(heatmap_z(grid.figure), expected)


def test_an_image_grid_sends_its_pictures_and_captions_in_one_message_of_buffers():
    grid = ImageGrid("wrong", columns=4)
    sent = record_messages(grid.figure)
    grid.show(np.random.default_rng(0).random((3, 5, 5)), ["a", "b", "c"])
    assert sent == ["_py2js_update"]
    z = heatmap_z(grid.figure)
    assert z.shape == (13, 52) and all(isinstance(row, np.ndarray) for row in grid.figure.data[0].z)


def test_tick_labels_are_not_measured_on_every_redraw():
    """plotly's default hides labels past the div by measuring each one; the lab's axes let them be."""
    figure = GreyImage("Input").figure
    assert figure.layout.template.layout.xaxis.ticklabeloverflow == "allow"
    assert figure.layout.template.layout.yaxis.ticklabeloverflow == "allow"


def test_moved_dev_points_redraw_only_their_traces():
    """The dev points go out as plotly.js's animate of the two dev traces with no redraw (the rest of the plot
    is not drawn again); the figure holds the new points, the training points are untouched."""
    view = DecisionBoundary()
    view.show_points(([[0.0, 1.0], [0.0, 1.0]], [0, 1]))
    animations = []
    view.figure.observe(lambda change: change["new"] and animations.append(change["new"]), names="_py2js_animate")
    sent = record_messages(view.figure)
    view.move_dev_points(([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]], [1, 0, 1]))
    assert sent == ["_py2js_animate"] and animations[0]["style_traces"] == [4, 5]
    assert animations[0]["animation_opts"]["frame"]["redraw"] is False
    assert animations[0]["animation_opts"]["transition"]["duration"] == 0
    assert animations[0]["style_data"] == [{"x": [3.0], "y": [6.0]}, {"x": [2.0, 4.0], "y": [5.0, 7.0]}]
    assert (view.figure.data[4].x, view.figure.data[5].y) == ((3.0,), (5.0, 7.0))
    assert (view.figure.data[2].x, view.figure.data[3].x) == ((0.0,), (1.0,))


def test_a_redraw_of_traces_alone_refuses_layout_edits_and_sends_nothing():
    view = DecisionBoundary()
    sent = record_messages(view.figure)
    with pytest.raises(ValueError, match="title"), traces_redrawn_alone(view.figure):
        view.figure.data[4].x = [1.0]
        view.figure.layout.title.text = "not drawn"
    assert sent == [] and view.figure.data[4].x == ()
    with pytest.raises(KeyError), traces_redrawn_alone(view.figure):  # a block that fails sends nothing later
        view.figure.data[3].x = [9.0]
        raise KeyError("a failing computation")
    view.move_dev_points(([[1.0], [2.0]], [0]))  # the figure is usable afterwards
    assert sent == ["_py2js_animate"] and view.figure.data[4].x == (1.0,) and view.figure.data[3].x == ()


def test_a_curve_overlay_keeps_its_slots_and_changes_them_in_one_message():
    """A new curve takes a free slot, then the oldest curve's; legend and drawing order stay oldest first."""
    view = CurveOverlay("Gradients", x_title="t", y_title="norm", slots=3)
    sent = record_messages(view.figure)
    view.show([("a", [1, 2], [1.0, 0.1], ""), ("b", [1, 2], [2.0, 0.2], "")], thick={"b"})
    view.show([("a", [1, 2], [3.0, float("nan")], "×0.5")], thick={"a"})  # "a" again: replaced, now newest
    assert sent == ["_py2js_update", "_py2js_update"] and len(view.figure.data) == 3
    assert view.labels == ["b", "a"]
    a, b, unused = view.figure.data
    assert (b.meta, b.line.width, b.line.dash) == ("b", 1.5, "solid")
    assert (a.name, a.y, a.line.width, a.line.dash) == ("a (×0.5)", (3.0, None), 4, "dot")
    assert a.legendrank > b.legendrank and a.zorder > b.zorder  # listed and drawn after b
    assert unused.visible is False and unused.x == ()
    sent.clear()
    view.show([("c", [1], [1.0], ""), ("d", [1], [1.0], "")], thick=set())  # four curves, three slots
    assert sent == ["_py2js_update"] and view.labels == ["a", "c", "d"]
    assert [t.meta for t in view.figure.data] == ["a", "d", "c"]  # d took b's slot, the oldest
    assert all(t.visible and t.line.width == 1.5 for t in view.figure.data)


def test_new_lines_of_gradients_and_histograms_arrive_in_one_message():
    norms = GradientNorms()
    sent = record_messages(norms.figure)
    norms.show([1, 2], {"W1": [1.0, 0.5], "b1": [0.1, 0.05], "W2": [2.0, 1.0]})
    assert sent.count("_py2js_addTraces") == 1 and [t.name for t in norms.figure.data] == ["‖dW1‖", "‖db1‖", "‖dW2‖"]
    histograms = Histograms("z", "value")
    sent = record_messages(histograms.figure)
    histograms.show([[0.1, 0.2], [0.3], [0.5, 0.6]], np.linspace(0, 1, 5))
    assert sent.count("_py2js_addTraces") == 1 and len(histograms.figure.data) == 3
