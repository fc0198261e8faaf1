import math

import numpy as np
import pytest

from widgets.views.cost_curves import CostCurves
from widgets.views.figure import PALETTE, log_ticks, plottable
from widgets.views.gradient_norms import GradientNorms
from widgets.views.image_grid import ImageGrid, tile


def test_cost_curves_overlay_runs_and_drop_the_oldest():
    view = CostCurves(max_runs=3)
    for i in range(4):
        view.add_run(f"run {i}")
        view.update_run(f"run {i}", [1, 2], [1.0, 0.5 / (i + 1)])
    assert view.labels == ["run 1", "run 2", "run 3"]
    assert [t.line.color for t in view.figure.data] == list(PALETTE[1:4])
    assert view.figure.data[-1].y == (1.0, 0.125)
    assert view.figure.layout.yaxis.type == "log"


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
