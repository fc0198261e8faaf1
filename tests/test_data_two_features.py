"""lab.data.two_features: two equally informative features of different size, and dev sets that moved."""

import math

import pytest
import torch

from lab.data.two_features import make_two_features


def test_the_second_feature_is_scale_times_larger():
    X, Y = make_two_features(m=4000, scale=50.0, seed=0)
    assert X.shape == (2, 4000) and Y.shape == (1, 4000) and X.dtype == torch.float64
    assert (X[1].std() / X[0].std()).item() == pytest.approx(50.0, rel=0.05)
    assert 0.45 < Y.mean().item() < 0.55
    assert set(Y.unique().tolist()) == {0.0, 1.0}


def test_it_is_seeded_and_keeps_the_dtype():
    X, Y = make_two_features(m=30, seed=4, dtype=torch.float32)
    X2, Y2 = make_two_features(m=30, seed=4, dtype=torch.float32)
    assert X.dtype == Y.dtype == torch.float32
    assert torch.equal(X, X2) and torch.equal(Y, Y2)
    assert not torch.equal(make_two_features(m=30, seed=5, dtype=torch.float32)[0], X)


def test_a_shift_slides_the_same_examples_and_relabels_them_by_the_same_rule():
    X0, Y0 = make_two_features(m=500, scale=10.0, shift=0.0, seed=1, noise=0.0)
    X1, Y1 = make_two_features(m=500, scale=10.0, shift=1.5, seed=1, noise=0.0)
    torch.testing.assert_close(X1[0], X0[0])
    torch.testing.assert_close(X1[1], X0[1] + 15.0)  # 1.5 standard deviations of a feature of spread 10
    # without noise the rule is y = 1 exactly when z₁ + z₂ > 0, wherever the inputs are
    for X, Y in ((X0, Y0), (X1, Y1)):
        torch.testing.assert_close(Y[0], (X[0] + X[1] / 10.0 > 0).to(Y.dtype))
    assert Y1.mean() > Y0.mean() + 0.2  # moved up, more of them land on the y = 1 side


def test_the_label_noise_blurs_the_rule():
    X, Y = make_two_features(m=4000, scale=1.0, seed=2, noise=1.0)
    agree = ((X[0] + X[1] > 0).to(Y.dtype) == Y[0]).to(torch.float64).mean().item()
    assert 0.75 < agree < 0.9  # P(y agrees with the sign of z₁ + z₂) ≈ 0.80 for noise 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"m": 1}, "The 'm' parameter must be a whole number ≥ 2. Got 1 instead."),
    ({"m": 2.5}, "The 'm' parameter must be a whole number ≥ 2. Got 2.5 instead."),
    ({"scale": 0.0}, "The 'scale' parameter must be > 0. Got 0.0 instead."),
    ({"shift": math.inf}, "The 'shift' parameter must be a finite number. Got inf instead."),
    ({"noise": -0.1}, "The 'noise' parameter must be ≥ 0. Got -0.1 instead."),
    ({"seed": -3}, "The 'seed' parameter"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_two_features(**kwargs)
