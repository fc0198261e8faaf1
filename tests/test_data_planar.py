"""lab.data.planar: the seeded 2-D flower and the badly scaled features."""

import pytest
import torch

from lab.data.planar import make_badly_scaled, make_planar


def test_planar_flower_is_seeded_balanced_and_not_linearly_trivial():
    X, Y = make_planar(m=400, seed=3)
    X2, _ = make_planar(m=400, seed=3)
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    torch.testing.assert_close(X, X2)
    assert Y.sum() == 200
    with pytest.raises(ValueError, match="The 'm' parameter must be ≥ 2. Got 1 instead."):
        make_planar(m=1)
    with pytest.raises(ValueError, match="The 'noise' parameter must be ≥ 0. Got -1 instead."):
        make_planar(noise=-1)


def test_badly_scaled_features_have_the_requested_ratio():
    X, Y = make_badly_scaled(m=2000, scale=100.0, seed=0)
    ratio = (X[1].std() / X[0].std()).item()
    assert ratio == pytest.approx(100.0, rel=0.1)
    assert 0.4 < Y.mean().item() < 0.6
    with pytest.raises(ValueError, match="The 'scale' parameter must be ≥ 1. Got 0.5 instead."):
        make_badly_scaled(scale=0.5)


def test_badly_scaled_is_seeded_and_keeps_the_dtype():
    X, Y = make_badly_scaled(m=50, seed=1, dtype=torch.float64)
    X2, Y2 = make_badly_scaled(m=50, seed=1, dtype=torch.float64)
    assert X.dtype == torch.float64 and X.shape == (2, 50) and Y.shape == (1, 50)
    assert torch.equal(X, X2) and torch.equal(Y, Y2)
    assert not torch.equal(make_badly_scaled(m=50, seed=2)[0], X.float())
    assert set(Y.unique().tolist()) <= {0.0, 1.0}
