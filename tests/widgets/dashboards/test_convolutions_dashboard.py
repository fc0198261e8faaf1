"""The filter editor and the pooling view: every control changes what it claims to."""

import numpy as np
import pytest
import torch

import widgets.dashboards.convolutions as module
from lab.convolution import avg_pool2d, conv2d, make_filter, max_pool2d
from lab.data.photos import load_photo
from widgets.dashboards.convolutions import convolution_dashboard, pooling_dashboard
from widgets.views.figure import heatmap_z


def z_of(figure) -> np.ndarray:
    return heatmap_z(figure)


def expected(image: torch.Tensor) -> np.ndarray:
    return image.numpy().astype(np.float64).round(3)


def cells(dashboard) -> torch.Tensor:
    return torch.tensor([[dashboard.controls[f"kernel_{i}{j}"].value for j in range(3)] for i in range(3)])


@pytest.fixture
def cat():
    return load_photo("chelsea")


def test_starts_with_the_cat_and_the_vertical_edge_filter(cat):
    dashboard = convolution_dashboard()
    np.testing.assert_allclose(z_of(dashboard.figures["input"]), expected(cat))
    np.testing.assert_allclose(z_of(dashboard.figures["output"]), expected(conv2d(cat, make_filter("vertical_edge"))))
    assert cells(dashboard).tolist() == [[1, 0, -1]] * 3
    assert dashboard.figures["output"].layout.title.text == "Output: 104 × 158"
    assert ("The vertical edge filter (weights add up to 0) turns the 106 × 160 photo into a <b>104 × 158</b>"
            in dashboard.readout.value)


@pytest.mark.parametrize("preset", ["sobel_y", "scharr_x", "gaussian_blur", "sharpen", "identity"])
def test_a_preset_fills_the_grid_and_redraws_the_output_once(cat, preset):
    dashboard = convolution_dashboard()
    before = z_of(dashboard.figures["output"])
    edits = dashboard.figures["output"]._last_trace_edit_id
    dashboard.controls["conv_filter"].value = preset
    torch.testing.assert_close(cells(dashboard), make_filter(preset), atol=1e-4, rtol=0)
    after = z_of(dashboard.figures["output"])
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, expected(conv2d(cat, make_filter(preset))), atol=2e-3)
    assert dashboard.figures["output"]._last_trace_edit_id == edits + 1  # nine cells, one redraw
    assert f"The {preset.replace('_', ' ')} filter (weights add up to" in dashboard.readout.value


def test_editing_one_cell_changes_the_output(cat):
    dashboard = convolution_dashboard()
    before = z_of(dashboard.figures["output"])
    dashboard.controls["kernel_11"].value = 4.0  # the centre weight
    kernel = make_filter("vertical_edge")
    kernel[1, 1] = 4.0
    after = z_of(dashboard.figures["output"])
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, expected(conv2d(cat, kernel)), atol=2e-3)
    assert "Your own filter" in dashboard.readout.value


def test_the_grey_scale_suits_the_filter():
    dashboard = convolution_dashboard()
    heatmap = dashboard.figures["output"].data[0]
    out = z_of(dashboard.figures["output"])
    top = max(abs(out.min()), abs(out.max()))
    assert (heatmap.zmin, heatmap.zmax) == pytest.approx((-top, top), abs=1e-3)  # edges: 0 is mid-grey
    assert "shown with 0 mid-grey" in dashboard.readout.value
    dashboard.controls["conv_filter"].value = "sharpen"
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)  # sums to 1: the photo's own black-to-white scale
    assert "(weights add up to 1)" in dashboard.readout.value and "shown like the photo" in dashboard.readout.value
    dashboard.controls["kernel_11"].value = 6.0  # now the weights add up to 2
    out = z_of(dashboard.figures["output"])
    assert (heatmap.zmin, heatmap.zmax) == pytest.approx((out.min(), out.max()), abs=1e-3)
    assert "(weights add up to 2)" in dashboard.readout.value


def test_flipping_the_signs_inverts_the_output():
    dashboard = convolution_dashboard()
    before = z_of(dashboard.figures["output"])
    for i in range(3):
        dashboard.controls[f"kernel_{i}0"].value = -1.0
        dashboard.controls[f"kernel_{i}2"].value = 1.0
    np.testing.assert_allclose(z_of(dashboard.figures["output"]), -before, atol=2e-3)


def test_padding_grows_input_and_output_and_the_readout_follows():
    dashboard = convolution_dashboard()
    dashboard.controls["padding"].value = 1
    assert z_of(dashboard.figures["output"]).shape == (106, 160)
    assert z_of(dashboard.figures["input"]).shape == (108, 162)
    assert z_of(dashboard.figures["input"])[0].max() == 0.0  # the frame of zeros
    assert dashboard.figures["input"].layout.title.text == "Input: chelsea, 106 × 160, padded to 108 × 162"
    shape = dashboard.children[1].children[1].children[2].value
    assert "rows ⌊(106 + 2·1 − 3)/1⌋ + 1 = <b>106</b>" in shape
    assert "columns ⌊(160 + 2·1 − 3)/1⌋ + 1 = <b>160</b>" in shape
    assert "The notes' m − 2f + 1 would say 101 × 155" in shape
    assert "<b>106 × 160</b> output (padding 1, stride 1)" in dashboard.readout.value


def test_stride_shrinks_the_output_and_the_readout_follows(cat):
    dashboard = convolution_dashboard()
    dashboard.controls["stride"].value = 2
    out = z_of(dashboard.figures["output"])
    assert out.shape == (52, 79)
    np.testing.assert_allclose(out, expected(conv2d(cat, make_filter("vertical_edge"), stride=2)))
    shape = dashboard.children[1].children[1].children[2].value
    assert "rows ⌊(106 + 2·0 − 3)/2⌋ + 1 = <b>52</b>" in shape and "= <b>79</b>" in shape
    dashboard.controls["stride"].value = 4
    assert z_of(dashboard.figures["output"]).shape == (26, 40)
    assert dashboard.figures["output"].layout.title.text == "Output: 26 × 40"


def test_choosing_a_photo_shows_it_and_filters_it():
    dashboard = convolution_dashboard()
    dashboard.controls["photo"].value = "brick"
    brick = load_photo("brick")
    np.testing.assert_allclose(z_of(dashboard.figures["input"]), expected(brick))
    np.testing.assert_allclose(z_of(dashboard.figures["output"]),
                               expected(conv2d(brick, make_filter("vertical_edge"))))
    assert "mean size |value| = <b>0.20" in dashboard.readout.value
    dashboard.controls["conv_filter"].value = "horizontal_edge"
    assert "mean size |value| = <b>0.07" in dashboard.readout.value


def test_every_control_is_labelled_with_a_tooltip():
    dashboard = convolution_dashboard()
    for name, widget in dashboard.controls.items():
        assert widget.tooltip, name
        if not name.startswith("kernel_"):
            assert widget.description, name


def test_an_error_in_the_computation_is_shown_not_swallowed(monkeypatch):
    dashboard = convolution_dashboard()

    def broken(*args, **kwargs):
        raise ValueError("The 'kernel' parameter is broken.")

    monkeypatch.setattr(module, "conv2d", broken)
    dashboard.controls["stride"].value = 3
    assert "Error: ValueError: The &#x27;kernel&#x27; parameter is broken." in dashboard.readout.value


def test_a_cell_edit_redraws_only_the_output_once():
    # how long an edit takes is measured by tests/benchmarks/bench_convolutions.py
    dashboard = convolution_dashboard()
    output, photo = dashboard.figures["output"], dashboard.figures["input"]
    edits, photo_edits = output._last_trace_edit_id, photo._last_trace_edit_id
    for i in range(15):
        dashboard.controls["kernel_00"].value = 1.1 + 0.1 * i  # it holds 1.0 at first
    assert output._last_trace_edit_id == edits + 15  # one message per edit
    assert photo._last_trace_edit_id == photo_edits  # the input picture is not sent again
    assert "(weights add up to 1.5)" in dashboard.readout.value


def test_pooling_view_controls(cat):
    dashboard = pooling_dashboard()
    pooled = dashboard.figures["pooled"]
    np.testing.assert_allclose(z_of(pooled), expected(max_pool2d(cat, 2)))
    assert "⌊(106 − 2)/2⌋ + 1 = <b>53</b> rows" in dashboard.readout.value
    dashboard.controls["pool_mode"].value = "average"
    np.testing.assert_allclose(z_of(pooled), expected(avg_pool2d(cat, 2)))
    assert pooled.layout.title.text == "Average pooling: 53 × 80"
    dashboard.controls["pool_size"].value = 4
    assert z_of(pooled).shape == (52, 79)
    dashboard.controls["stride"].value = 4
    np.testing.assert_allclose(z_of(pooled), expected(avg_pool2d(cat, 4)))
    assert "= <b>26</b> rows and ⌊(160 − 4)/4⌋ + 1 = <b>40</b> columns" in dashboard.readout.value
    dashboard.controls["photo"].value = "camera"
    np.testing.assert_allclose(z_of(dashboard.figures["input"]), expected(load_photo("camera")))
    assert z_of(pooled).shape == (40, 40)


def test_max_pooling_is_brighter_than_average_pooling():
    dashboard = pooling_dashboard()
    assert "Mean brightness 0.487 (the photo's: 0.460)" in dashboard.readout.value
    dashboard.controls["pool_mode"].value = "average"
    assert "Mean brightness 0.460 (the photo's: 0.460)" in dashboard.readout.value
