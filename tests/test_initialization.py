import math

import pytest
import torch

from lab.initialization import init_std, initialize_parameters
from lab.seeding import make_generator


@pytest.mark.parametrize("scheme, expected", [
    ("zeros", 0.0), ("random", 0.5), ("he", math.sqrt(2 / 400)), ("xavier", math.sqrt(1 / 400)),
    ("glorot", math.sqrt(2 / (400 + 100))),
])
def test_measured_weight_spread_on_a_large_layer_matches_the_formula(scheme, expected):
    params = initialize_parameters([400, 100, 1], scheme, 0.5, make_generator(0), dtype=torch.float64)
    W1 = params["W1"]  # 40,000 draws
    assert W1.shape == (100, 400) and params["b1"].shape == (100, 1) and params["W2"].shape == (1, 100)
    assert W1.std().item() == pytest.approx(expected, rel=0.02, abs=1e-12)
    assert W1.var().item() == pytest.approx(expected ** 2, rel=0.04, abs=1e-12)
    assert params["b1"].abs().max().item() == 0.0


def test_fan_in_is_the_number_of_inputs_not_the_layer_width():
    """ERRATA 7: He uses n^[l−1]. A wide-in, narrow-out layer must get the small std √(2/1000)."""
    params = initialize_parameters([1000, 10, 1], "he", generator=make_generator(1), dtype=torch.float64)
    assert params["W1"].std().item() == pytest.approx(math.sqrt(2 / 1000), rel=0.03)
    assert abs(params["W1"].std().item() - math.sqrt(2 / 10)) > 0.3


def test_he_keeps_relu_signal_scale_through_depth():
    gen = make_generator(2)
    X = torch.randn(256, 2000, generator=gen, dtype=torch.float64)
    params = initialize_parameters([256] * 11, "he", generator=gen, dtype=torch.float64)
    A = X
    for k in range(1, 11):
        A = torch.relu(params[f"W{k}"] @ A)
    # E[a²] stays ≈ E[x²]/… : the mean square after ReLU is half the pre-activation's, which He doubles back
    assert 0.5 < A.pow(2).mean().item() < 2.0


def test_same_seed_same_weights_and_no_global_state():
    a = initialize_parameters([5, 4, 1], "he", generator=make_generator(3))
    torch.manual_seed(123)  # a global seed must not matter
    b = initialize_parameters([5, 4, 1], "he", generator=make_generator(3))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match=r"The 'init_scheme' parameter must be one of"):
        init_std("lecun", 3, 3)
    with pytest.raises(ValueError, match=r"The 'init_factor' parameter must be in the range \[0.0, 100.0\]\. "
                                         r"Got -1 instead\."):
        init_std("random", 3, 3, -1)
    with pytest.raises(ValueError, match="needs the input size"):
        initialize_parameters([4], generator=make_generator(0))
    with pytest.raises(ValueError, match="whole numbers"):
        initialize_parameters([4, 0, 1], generator=make_generator(0))
    with pytest.raises(ValueError, match="'generator' parameter is required"):
        initialize_parameters([4, 2, 1])
    with pytest.raises(ValueError, match="fan_in=0"):
        init_std("he", 0, 3)
