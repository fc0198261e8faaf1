"""Real photos from scikit-image's data (a cat, an astronaut, coffee, textures …), loaded once and cached.

Grey, (H, W) in [0, 1], for sliding filters over (`load_photo`); in colour, (3, H, W) in [0, 1], as the
backgrounds of detection scenes (`background_photos`). scikit-image is imported only when a photo is asked for.
"""

from __future__ import annotations

import functools

import torch

from lab.params import Param, register, validate

PHOTOS = ("chelsea", "camera", "astronaut", "coffee", "brick", "grass", "gravel")  # scikit-image's data
GREY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # the red, green, blue weights of scikit-image's rgb2gray

register(
    Param("photo", "Photo", "The real photo (from scikit-image, in grey) that the filter slides over.",
          "chelsea", options=PHOTOS),
)


def _check_side(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"The '{name}' parameter must be a whole number ≥ 1. Got {value!r} instead.")


def _rgb(name: str) -> torch.Tensor:
    """Photo `name` as it is stored, (H, W) or (H, W, 3), scaled from 0…255 to [0, 1]."""
    import skimage.data  # imported here: scikit-image takes a moment to load

    return torch.as_tensor(getattr(skimage.data, name)(), dtype=torch.float32) / 255.0


@functools.lru_cache(maxsize=16)
def _load_photo(name: str, max_side: int) -> torch.Tensor:
    image = _rgb(name)  # (H, W) or (H, W, 3)
    grey = image @ torch.tensor(GREY_WEIGHTS) if image.dim() == 3 else image  # (H, W) in [0, 1]
    h, w = grey.shape
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:  # keep the aspect ratio; antialiasing averages the pixels that merge, so no fake edges
        size = (round(h * scale), round(w * scale))
        grey = torch.nn.functional.interpolate(grey[None, None], size=size, mode="bilinear", antialias=True)[0, 0]
    return grey.clamp(0.0, 1.0)


def load_photo(name: str = "chelsea", max_side: int = 160) -> torch.Tensor:
    """A real scikit-image photo in grey, (H, W) floats in [0, 1], its long side at most `max_side` pixels.

    Loaded once per (name, size) and cached; the returned tensor is a copy the caller may change.
    """
    name = validate("photo", name)
    _check_side("max_side", max_side)
    return _load_photo(name, max_side).clone()


@functools.cache
def background_photos(names: tuple[str, ...] = PHOTOS, short_side: int = 128) -> tuple[torch.Tensor, ...]:
    """The photos `names` as RGB tensors (3, H, W) in [0, 1], shrunk to a `short_side`, loaded once.

    Grey photos get three equal channels. Callers must not modify the cached tensors.
    """
    for name in names:
        validate("photo", name)
    _check_side("short_side", short_side)
    photos = []
    for name in names:
        image = _rgb(name)
        image = image[..., None].expand(*image.shape, 3) if image.dim() == 2 else image
        image = image.permute(2, 0, 1)[None]  # (1, 3, H, W)
        scale = short_side / min(image.shape[-2:])
        size = (round(image.shape[-2] * scale), round(image.shape[-1] * scale))
        photos.append(torch.nn.functional.interpolate(image, size=size, mode="bilinear", antialias=True,
                                                      align_corners=False)[0])
    return tuple(photos)


# More of scikit-image's colour pictures (all shipped with it, none downloaded): a stained tissue sample, the Hubble
# deep field, a rocket launch and a retina. They are style images and content photos for style transfer (lab 16).
COLOUR_PHOTOS = PHOTOS + ("immunohistochemistry", "hubble_deep_field", "rocket", "retina")


@functools.lru_cache(maxsize=16)
def _load_colour_photo(name: str, max_side: int) -> torch.Tensor:
    image = _rgb(name)  # (H, W) or (H, W, 3)
    image = image[..., None].expand(*image.shape, 3) if image.dim() == 2 else image[..., :3]
    image = image.permute(2, 0, 1)[None]  # (1, 3, H, W)
    h, w = image.shape[-2:]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (round(h * scale), round(w * scale))
        image = torch.nn.functional.interpolate(image, size=size, mode="bilinear", antialias=True)
    return image[0].clamp(0.0, 1.0).contiguous()


def load_colour_photo(name: str = "chelsea", max_side: int = 160) -> torch.Tensor:
    """A real scikit-image picture in colour, (3, H, W) floats in [0, 1], its long side at most `max_side` pixels.

    `name` is one of COLOUR_PHOTOS; grey pictures get three equal channels. Cached; the caller gets a copy.
    """
    if name not in COLOUR_PHOTOS:
        raise ValueError(f"The 'name' parameter must be one of {list(COLOUR_PHOTOS)}. Got {name!r} instead.")
    _check_side("max_side", max_side)
    return _load_colour_photo(name, max_side).clone()
