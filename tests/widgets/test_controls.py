import math

import ipywidgets as W
import pytest

from lab.params import PARAMS, all_params
from widgets.controls import checkbox, choice, control


@pytest.mark.parametrize("name", list(all_params()))  # topic modules register their own
def test_every_parameter_gets_a_labelled_control_inside_its_allowed_range(name):
    param = PARAMS[name]
    widget = control(name)
    assert widget.description == param.label
    assert widget.tooltip == param.help
    assert widget.style.description_width == "initial"
    if param.options:
        assert isinstance(widget, W.Dropdown)
        assert [value for _, value in widget.options] == list(param.options)
        return
    if param.log:
        assert isinstance(widget, W.FloatLogSlider)
        low, high = 10**widget.min, 10**widget.max
    else:
        low, high = widget.min, widget.max
    param.validate(low * (1 + 1e-9) if param.log else low)
    param.validate(high * (1 - 1e-9) if param.log else high)
    param.validate(widget.value)


def test_the_ui_cannot_offer_an_invalid_bound():
    with pytest.raises(ValueError, match="The 'keep_prob' parameter must be in the range \\(0.0, 1.0\\]. Got 0.0"):
        control("keep_prob", low=0.0)
    with pytest.raises(ValueError, match="The 'beta' parameter must be in the range \\[0.0, 1.0\\). Got 1.0"):
        control("beta", high=1.0)


def test_learning_rate_is_a_log_slider_with_the_requested_range():
    widget = control("lr", value=0.01, low=1e-4, high=1.0)
    assert isinstance(widget, W.FloatLogSlider)
    assert (widget.min, widget.max) == (pytest.approx(-4), pytest.approx(0))
    assert math.isclose(widget.value, 0.01)
    assert widget.continuous_update is False


def test_a_lab_can_name_a_control_for_its_narrower_use_without_patching_it():
    widget = control("init_factor", label="Init factor (random only)", value=0.01, low=1e-3, high=10.0)
    assert widget.description == "Init factor (random only)"
    assert widget.tooltip == PARAMS["init_factor"].help  # the declared help stays
    assert control("beta2", readout_format=".4g").readout_format == ".4g"


def test_checkbox_and_choice_look_like_the_sliders():
    box = checkbox("Use the notes' formula", "Unticked: the course's formula.", value=True)
    assert (box.description, box.tooltip, box.value) == (
        "Use the notes' formula", "Unticked: the course's formula.", True)
    assert box.style.description_width == "initial" and box.indent is False
    menu = choice("Flip", "Which flip to apply", [("mirror", "left_right"), ("top to bottom", "up_down")])
    assert menu.value == "left_right" and menu.style.description_width == "initial"
    assert choice("Flip", "", [("a", "x"), ("b", "y")], value="y").value == "y"
