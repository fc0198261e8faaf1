import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.params import PARAMS, validate


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("lr", 0.0, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0.0 instead."),
        ("lr", -1, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead."),
        ("lr", 11.0, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 11.0 instead."),
        ("lr", math.nan, "The 'lr' parameter must be finite. Got nan instead."),
        ("lr", "0.1", "The 'lr' parameter must be a number. Got '0.1' instead."),
        ("lr", True, "The 'lr' parameter must be a number. Got True instead."),
        ("keep_prob", 0.0, "The 'keep_prob' parameter must be in the range (0.0, 1.0]. Got 0.0 instead."),
        ("keep_prob", 1.5, "The 'keep_prob' parameter must be in the range (0.0, 1.0]. Got 1.5 instead."),
        ("beta", 1.0, "The 'beta' parameter must be in the range [0.0, 1.0). Got 1.0 instead."),
        ("lambd", -0.1, "The 'lambd' parameter must be in the range [0.0, 100.0]. Got -0.1 instead."),
        ("batch_size", 0, "The 'batch_size' parameter must be in the range [1, 100000]. Got 0 instead."),
        ("num_iterations", 2.5, "The 'num_iterations' parameter must be a whole number. Got 2.5 instead."),
        ("seed", -1, "The 'seed' parameter must be in the range [0, 2147483647]. Got -1 instead."),
        ("loss", "hinge", "The 'loss' parameter must be one of ['cross_entropy', 'squared_error']. Got 'hinge'"),
    ],
)
def test_bad_values_raise_value_error_naming_parameter_and_value(name, value, message):
    with pytest.raises(ValueError) as error:
        validate(name, value)
    assert str(error.value).startswith(message)


def test_unknown_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown parameter 'alpha'"):
        validate("alpha", 0.1)


def test_valid_values_pass_through_and_integers_are_ints():
    assert validate("lr", 10.0) == 10.0
    assert validate("keep_prob", 1.0) == 1.0
    assert validate("num_iterations", 100.0) == 100 and isinstance(validate("num_iterations", 100.0), int)
    assert validate("loss", "squared_error") == "squared_error"


@pytest.mark.parametrize("param", [p for p in PARAMS.values() if not p.options], ids=lambda p: p.name)
def test_defaults_and_slider_ranges_are_valid(param):
    param.validate(param.default)
    low, high = param.slider_range
    param.validate(low)
    param.validate(high)
    assert low < high


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_keep_prob_accepts_exactly_the_half_open_unit_interval(value):
    if 0.0 < value <= 1.0:
        assert validate("keep_prob", value) == value
    else:
        with pytest.raises(ValueError, match="'keep_prob'"):
            validate("keep_prob", value)
