"""lab.data.split: seeded, disjoint train/test and train/dev/test cuts, and their validation messages."""

import pytest
import torch

from lab.data.faces import load_faces
from lab.data.split import Split, ThreeWaySplit, split_columns, train_dev_test_split

F64 = torch.float64


def test_split_is_seeded_and_disjoint():
    a, b, c = load_faces(seed=0), load_faces(seed=0), load_faces(seed=1)
    torch.testing.assert_close(a.X_train, b.X_train)
    assert not torch.equal(a.X_train, c.X_train)
    train_cols = {tuple(col.tolist()) for col in a.X_train.T}
    assert not any(tuple(col.tolist()) in train_cols for col in a.X_test.T)


def test_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="The 'test_fraction' parameter must be in \\(0, 1\\). Got 1.0 instead."):
        split_columns(torch.zeros(2, 4), torch.zeros(1, 4), 1.0, seed=0, class_names=("a", "b"))


def test_three_way_split_is_disjoint_and_seeded():
    X = torch.arange(20.0).reshape(1, 20)
    Y = (X > 9).to(F64)
    s = train_dev_test_split(X, Y, (10, 5, 5), seed=3, class_names=("a", "b"))
    seen = torch.cat([s.X_train, s.X_dev, s.X_test], dim=1).flatten().sort().values
    assert seen.tolist() == list(range(20))
    assert torch.equal(train_dev_test_split(X, Y, (10, 5, 5), seed=3, class_names=("a", "b")).X_dev, s.X_dev)
    with pytest.raises(ValueError, match=r"The 'sizes' parameter must be 3 whole numbers ≥ 1 adding up to ≤ m = 20"):
        train_dev_test_split(X, Y, (15, 5, 5))


def test_split_columns_cuts_the_requested_fraction_and_keeps_x_and_y_together():
    X = torch.arange(40.0).reshape(2, 20)  # column j is (j, 20 + j)
    Y = torch.arange(20.0).reshape(1, 20)
    s = split_columns(X, Y, 0.25, seed=5, class_names=("a", "b"), image_shape=(2, 1))
    assert isinstance(s, Split) and s.X_test.shape == (2, 5) and s.X_train.shape == (2, 15)
    assert torch.equal(s.X_train[0], s.Y_train[0]) and torch.equal(s.X_test[1] - 20, s.Y_test[0])
    assert s.class_names == ("a", "b") and s.image_shape == (2, 1)
    assert sorted(torch.cat([s.Y_train, s.Y_test], 1)[0].tolist()) == list(range(20))
    moved = s.to("cpu")
    assert torch.equal(moved.X_test, s.X_test) and moved.image_shape == (2, 1)


def test_a_three_way_split_moves_as_one():
    X, Y = torch.arange(10.0).reshape(1, 10), torch.zeros(1, 10)
    s = train_dev_test_split(X, Y, (6, 2, 2), seed=0, class_names=("a", "b"))
    moved = s.to("cpu")
    assert isinstance(moved, ThreeWaySplit) and torch.equal(moved.X_dev, s.X_dev) and moved.class_names == ("a", "b")
