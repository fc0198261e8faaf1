"""lab.data.digits: scikit-learn's real digits, as ten classes and as yes/no tasks."""

import pytest
import torch

from lab.data.digits import digit_images, load_digits, load_digits_binary, load_digits_parity


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_the_digits_are_scikit_learns_in_the_course_layout(digits):
    from sklearn.datasets import load_digits as sklearn_digits

    reference = sklearn_digits()
    assert digits.X_train.shape == (64, 1348) and digits.X_test.shape == (64, 449)
    assert digits.Y_train.shape == (1, 1348) and digits.Y_train.dtype == torch.int64
    assert digits.X_train.min() >= 0.0 and digits.X_train.max() == 1.0
    everything = torch.cat([digits.X_train, digits.X_test], dim=1).T.double().numpy() * 16  # (1797, 64)
    assert sorted(map(tuple, everything)) == sorted(map(tuple, reference.data))
    assert sorted(torch.cat([digits.Y_train, digits.Y_test], dim=1)[0].tolist()) == sorted(reference.target)


def test_digit_images_are_8_by_8_pixels_in_0_1_with_labels_0_to_9():
    X, labels = digit_images()
    assert X.shape == (64, 1797) and X.dtype == torch.float32 and labels.shape == (1797,)
    assert X.min().item() == 0.0 and X.max().item() == 1.0
    assert sorted(labels.unique().tolist()) == list(range(10))
    assert digit_images() is digit_images()  # read once


def test_load_digits_is_seeded_and_keeps_the_dtype():
    a, b, c = load_digits(seed=0), load_digits(seed=0), load_digits(seed=1)
    assert torch.equal(a.X_train, b.X_train) and not torch.equal(a.X_train, c.X_train)
    assert load_digits(dtype=torch.float64).X_train.dtype == torch.float64
    assert load_digits(test_fraction=0.5).X_test.shape == (64, 898)


def test_binary_digits_keep_two_digits_or_one_against_the_rest():
    pair = load_digits_binary(2, 5)
    assert pair.X_train.shape[0] == 64 and set(pair.Y_train.unique().tolist()) == {0.0, 1.0}
    assert pair.class_names == ("5", "2") and pair.image_shape == (8, 8)
    m = sum(s.shape[1] for s in (pair.X_train, pair.X_dev, pair.X_test))
    _, labels = digit_images()
    assert m == int(((labels == 2) | (labels == 5)).sum())
    rest = load_digits_binary(6, None, sizes=(1000, 400, 397))
    assert rest.class_names == ("not 6", "6") and rest.X_train.shape == (64, 1000)
    assert 0.05 < rest.Y_train.mean().item() < 0.15  # one digit in ten
    with pytest.raises(ValueError, match=r"The 'positive' parameter must be a digit 0–9\. Got 12 instead\."):
        load_digits_binary(12)
    with pytest.raises(ValueError, match=r"The 'negative' parameter must be a digit 0–9\. Got -1 instead\."):
        load_digits_binary(3, -1)


def test_parity_is_balanced_seeded_and_labels_odd_digits_1():
    parity = load_digits_parity()
    assert parity.X_train.shape == (64, 1200) and parity.X_dev.shape == (64, 300) and parity.X_test.shape == (64, 297)
    assert 0.4 < parity.Y_train.mean().item() < 0.6 and parity.class_names == ("even", "odd")
    assert torch.equal(load_digits_parity(seed=0).X_dev, parity.X_dev)
    assert not torch.equal(load_digits_parity(seed=1).X_dev, parity.X_dev)


def test_ten_class_digits_cut_into_train_dev_test_with_integer_labels():
    from lab.data.digits import load_digits_multiclass

    data = load_digits_multiclass()
    assert data.X_train.shape == (64, 1079) and data.X_dev.shape == (64, 359) and data.X_test.shape == (64, 359)
    assert data.Y_train.dtype == torch.int64 and data.Y_dev.shape == (1, 359)
    for Y in (data.Y_train, data.Y_dev, data.Y_test):  # every digit in every part
        assert sorted(Y.unique().tolist()) == list(range(10))
    assert data.class_names == tuple("0123456789") and data.image_shape == (8, 8)
    X, labels = digit_images()  # the columns are the real digits with their own labels
    column = data.X_dev[:, 5]
    matches = (column.reshape(-1, 1) == X).all(dim=0).nonzero().flatten()
    assert int(data.Y_dev[0, 5]) in labels[matches].tolist()
    assert torch.equal(load_digits_multiclass(seed=0).X_dev, data.X_dev)
    assert not torch.equal(load_digits_multiclass(seed=1).X_dev, data.X_dev)
    assert load_digits_multiclass(dtype=torch.float64).X_train.dtype == torch.float64
    with pytest.raises(ValueError, match=r"The 'sizes' parameter must be 3 whole numbers ≥ 1 adding up to ≤ m = 1797"):
        load_digits_multiclass(sizes=(1500, 200, 200))
