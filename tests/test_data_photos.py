"""lab.data.photos: scikit-image's real photos, grey for filters and in colour for detection scenes."""

import pytest
import torch

from lab.data.photos import PHOTOS, background_photos, load_photo


@pytest.mark.parametrize("name", PHOTOS)
def test_photos_are_grey_small_and_keep_their_aspect_ratio(name):
    photo = load_photo(name, max_side=192)
    assert photo.dim() == 2 and max(photo.shape) == 192
    assert photo.min().item() >= 0.0 and photo.max().item() <= 1.0
    if name in ("chelsea", "coffee"):  # 300 × 451 and 400 × 600 originals
        assert photo.shape == (128, 192)


def test_load_photo_returns_a_copy_of_the_cached_photo():
    photo = load_photo("camera", 64)
    photo.zero_()
    assert load_photo("camera", 64).max().item() > 0


def test_photo_name_and_size_are_validated():
    with pytest.raises(ValueError, match="The 'photo' parameter must be one of"):
        load_photo("moon")
    with pytest.raises(ValueError, match="The 'max_side' parameter must be a whole number ≥ 1"):
        load_photo("camera", 0)
    with pytest.raises(ValueError, match="The 'photo' parameter must be one of"):
        background_photos(("moon",))
    with pytest.raises(ValueError, match="The 'short_side' parameter must be a whole number ≥ 1"):
        background_photos(("camera",), 0)


def test_background_photos_are_rgb_in_the_order_asked_and_cached():
    photos = background_photos(("camera", "chelsea"), 32)
    assert len(photos) == 2 and all(p.dim() == 3 and p.shape[0] == 3 for p in photos)
    assert min(photos[0].shape[1:]) == 32 and min(photos[1].shape[1:]) == 32
    assert all(p.min().item() >= 0.0 and p.max().item() <= 1.0 for p in photos)
    camera, chelsea = photos
    assert torch.equal(camera[0], camera[1]) and torch.equal(camera[1], camera[2])  # a grey photo: equal channels
    assert not torch.equal(chelsea[0], chelsea[2])  # the cat is in colour
    assert background_photos(("camera", "chelsea"), 32) is photos
