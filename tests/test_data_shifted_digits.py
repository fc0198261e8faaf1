"""lab.data.shifted_digits: disjoint clean and distorted pools, and each distortion doing what it says."""

import pytest
import torch

from lab.data.digits import digit_images
from lab.data.shifted_digits import blur_images, distort, load_mismatched_digits, shift_images


def test_sizes_and_pools_are_disjoint():
    d = load_mismatched_digits(0.0, 0.0, 0)
    assert [d.X_train.shape[1], d.X_train_dev.shape[1], d.X_dev.shape[1], d.X_test.shape[1]] == [700, 200, 450, 447]
    X, _ = digit_images()
    everything = torch.cat([d.X_train, d.X_train_dev, d.X_dev, d.X_test], dim=1)
    assert torch.equal(everything.T.sort(dim=0).values, X.T.sort(dim=0).values)  # with no distortion: a permutation
    assert not d.dev_distortions.any()


def test_clean_sets_stay_clean_and_dev_is_distorted():
    clean, shifted = load_mismatched_digits(0.0, 0.0, 0), load_mismatched_digits(0.3, 0.5, 1)
    assert torch.equal(clean.X_train, shifted.X_train) and torch.equal(clean.X_train_dev, shifted.X_train_dev)
    assert not torch.equal(clean.X_dev, shifted.X_dev)
    assert 0.35 < shifted.dev_distortions.float().mean() < 0.65
    assert shifted.X_dev.min() >= 0 and shifted.X_dev.max() <= 1


def test_blur_is_the_normalized_3x3_filter():
    image = torch.zeros(1, 8, 8)
    image[0, 4, 4] = 1.0
    out = blur_images(image, 0.5)
    assert out[0, 4, 4] == pytest.approx(1 / 5) and out[0, 3, 3] == pytest.approx(0.5 / 5)
    assert out.sum() == pytest.approx(1.0)
    assert torch.equal(blur_images(image, 0.0), image)


def test_shift_moves_right_and_down_and_fills_with_zero():
    image = torch.arange(64.0).reshape(1, 8, 8)
    out = shift_images(image, torch.tensor([1]), torch.tensor([2]))
    assert torch.equal(out[0, 2:, 1:], image[0, :6, :7])
    assert out[0, :2].abs().sum() == 0 and out[0, :, 0].abs().sum() == 0


def test_each_recorded_distortion_changed_its_image():
    X, _ = digit_images()
    out, applied = distort(X[:, :200], 0.0, 0.0, 2, torch.Generator().manual_seed(0))
    changed = (out != X[:, :200]).any(dim=0)
    assert torch.equal(changed, applied[:, 2]) and not applied[:, :2].any()


def test_bad_strengths_are_named():
    for name, kwargs in [("mismatch_noise", dict(mismatch_noise=-0.1)), ("mismatch_blur", dict(mismatch_blur=2.0)),
                         ("mismatch_shift", dict(mismatch_shift=4))]:
        with pytest.raises(ValueError, match=f"'{name}'"):
            load_mismatched_digits(**kwargs)
