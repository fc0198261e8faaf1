import pytest
import torch

from lab.data import load_faces, make_badly_scaled, make_planar, split_columns
from lab.seeding import make_generator


def test_faces_are_real_photos_in_the_course_layout():
    data = load_faces()
    assert data.X_train.shape == (625, 150) and data.Y_train.shape == (1, 150)
    assert data.X_test.shape == (625, 50) and data.Y_test.shape == (1, 50)
    assert data.image_shape == (25, 25)
    assert data.X_train.min() >= 0.0 and data.X_train.max() <= 1.0
    assert data.X_train.std() > 0.1  # real photos, not a constant
    assert data.Y_train.sum() + data.Y_test.sum() == 100  # 100 faces in all
    assert data.class_names == ("not a face", "face")


def test_split_is_seeded_and_disjoint():
    a, b, c = load_faces(seed=0), load_faces(seed=0), load_faces(seed=1)
    torch.testing.assert_close(a.X_train, b.X_train)
    assert not torch.equal(a.X_train, c.X_train)
    train_cols = {tuple(col.tolist()) for col in a.X_train.T}
    assert not any(tuple(col.tolist()) in train_cols for col in a.X_test.T)


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="The 'test_fraction' parameter must be in \\(0, 1\\). Got 1.0 instead."):
        split_columns(torch.zeros(2, 4), torch.zeros(1, 4), 1.0, seed=0, class_names=("a", "b"))


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


def test_generators_are_independent_and_reproducible():
    a = torch.rand(3, generator=make_generator(7))
    b = torch.rand(3, generator=make_generator(7))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="The 'seed' parameter"):
        make_generator(-3)
