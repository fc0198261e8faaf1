"""scikit-image's 200 real 25×25 grey photos (`lfw_subset`): 100 faces, 100 not faces.

The lab's stand-in for the course's "cat vs non-cat" pictures. Each photo becomes a column of 625 pixel
values in [0, 1]; label 1 = face, 0 = not a face.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from lab.data.split import Split, ThreeWaySplit, split_columns, train_dev_test_split


@lru_cache(maxsize=1)
def face_images() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's 200 real 25×25 grey photos (`lfw_subset`): images (200, 25, 25) in [0, 1] and labels
    (200,) with 1 = face (the first 100) and 0 = not a face. Callers must not modify the cached tensors."""
    from skimage.data import lfw_subset  # imported here: scikit-image takes a moment to load

    images = torch.as_tensor(lfw_subset(), dtype=torch.float32)
    return images, torch.cat([torch.ones(100), torch.zeros(100)])


def load_faces(test_fraction: float = 0.25, seed: int = 0, dtype: torch.dtype = torch.float32) -> Split:
    """200 real 25×25 grey photos from scikit-image's `lfw_subset`: label 1 = face, 0 = not a face.

    Each photo becomes a column of 625 pixel values in [0, 1] — the lab's stand-in for the course's
    "cat vs non-cat" pictures. Returns a seeded train/test Split.
    """
    images, labels = face_images()
    X = images.reshape(images.shape[0], -1).T.to(dtype)  # (625, 200)
    Y = labels.to(dtype).reshape(1, -1)  # (1, 200)
    return split_columns(X, Y, test_fraction, seed, class_names=("not a face", "face"),
                         image_shape=tuple(images.shape[1:]))


def load_faces_three_way(sizes: tuple[int, int, int] = (100, 50, 50), seed: int = 0) -> ThreeWaySplit:
    """The 200 scikit-image photos (label 1 = face) as train/dev/test, 625 pixels in [0, 1] per column."""
    images, labels = face_images()
    X, Y = images.reshape(images.shape[0], -1).T, labels.reshape(1, -1)  # (625, 200), (1, 200)
    return train_dev_test_split(X, Y, sizes, seed, class_names=("not a face", "face"), image_shape=(25, 25))
