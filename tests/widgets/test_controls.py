import math

import ipywidgets as W
import pytest

from lab.params import PARAMS
from widgets.controls import control


@pytest.mark.parametrize("name", list(PARAMS))
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
