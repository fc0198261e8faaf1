"""The lab's data sets, all offline and seeded.

Layout follows the course: X has shape (n, m), one column per example; Y has shape (1, m).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from lab.seeding import make_generator


@dataclass(frozen=True)
class Split:
    X_train: torch.Tensor  # (n, m_train)
    Y_train: torch.Tensor  # (1, m_train), values 0. or 1.
    X_test: torch.Tensor  # (n, m_test)
    Y_test: torch.Tensor  # (1, m_test)
    class_names: tuple[str, str]  # label 0, label 1
    image_shape: tuple[int, ...] | None = None  # (H, W) when each column is a flattened image

    def to(self, device: torch.device | str) -> Split:
        move = {k: getattr(self, k).to(device) for k in ("X_train", "Y_train", "X_test", "Y_test")}
        return Split(**move, class_names=self.class_names, image_shape=self.image_shape)


def split_columns(X: torch.Tensor, Y: torch.Tensor, test_fraction: float, seed: int, **info) -> Split:
    """Shuffle the m columns of X (n, m) and Y (1, m) with `seed`, then cut off `test_fraction` as the test set."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"The 'test_fraction' parameter must be in (0, 1). Got {test_fraction!r} instead.")
    m = X.shape[1]
    order = torch.randperm(m, generator=make_generator(seed))
    m_test = max(1, round(m * test_fraction))
    test, train = order[:m_test], order[m_test:]
    return Split(X[:, train], Y[:, train], X[:, test], Y[:, test], **info)


@lru_cache(maxsize=1)
def digit_images() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 real 8×8 handwritten digits: X (64, 1797) with pixels in [0, 1], labels (1797,) 0–9.

    Read straight from scikit-learn's own data file: importing `sklearn.datasets` pulls in scipy and takes
    over a second, reading the rows takes milliseconds. Callers must not modify the cached tensors.
    """
    package = Path(importlib.util.find_spec("sklearn").submodule_search_locations[0])
    rows = np.loadtxt(package / "datasets" / "data" / "digits.csv.gz", delimiter=",")  # (1797, 65)
    X = torch.as_tensor(rows[:, :64].T / 16.0, dtype=torch.float32).contiguous()  # the originals run 0…16
    return X, torch.as_tensor(rows[:, 64], dtype=torch.int64)


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


def make_planar(m: int = 400, noise: float = 0.2, seed: int = 0, dtype: torch.dtype = torch.float32,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded 2-D "flower": petals alternate between the two classes, so no straight line separates them.

    Returns X (2, m) and Y (1, m).
    """
    if m < 2:
        raise ValueError(f"The 'm' parameter must be ≥ 2. Got {m!r} instead.")
    if noise < 0:
        raise ValueError(f"The 'noise' parameter must be ≥ 0. Got {noise!r} instead.")
    gen = make_generator(seed)
    half = m // 2
    X, Y = [], []
    for label, count in ((0, half), (1, m - half)):
        t = torch.linspace(label * math.pi, (label + 1) * math.pi, count, dtype=torch.float64)
        t = t + noise * torch.randn(count, generator=gen, dtype=torch.float64)
        r = 4 * torch.sin(4 * t) + noise * torch.randn(count, generator=gen, dtype=torch.float64)
        X.append(torch.stack([r * torch.sin(t), r * torch.cos(t)]))
        Y.append(torch.full((1, count), float(label), dtype=torch.float64))
    return torch.cat(X, dim=1).to(dtype), torch.cat(Y, dim=1).to(dtype)


def make_badly_scaled(m: int = 300, scale: float = 100.0, seed: int = 0, dtype: torch.dtype = torch.float32,
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Two informative features, the second `scale` times larger than the first: X (2, m), Y (1, m).

    The label depends on both features equally once each is divided by its scale, so a learner must
    fit both weights — which one learning rate shared by both cannot do quickly.
    """
    if scale < 1:
        raise ValueError(f"The 'scale' parameter must be ≥ 1. Got {scale!r} instead.")
    gen = make_generator(seed)
    Z = torch.randn(2, m, generator=gen, dtype=torch.float64)
    Y = ((Z[0] + Z[1] + 0.3 * torch.randn(m, generator=gen, dtype=torch.float64)) > 0).to(torch.float64)
    X = Z * torch.tensor([[1.0], [scale]], dtype=torch.float64)
    return X.to(dtype), Y.reshape(1, m).to(dtype)
