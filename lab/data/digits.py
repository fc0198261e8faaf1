"""scikit-learn's 1,797 real 8×8 handwritten digits: as ten classes, or as yes/no tasks.

X has shape (64, m), one column of pixel values in [0, 1] per digit (the originals run 0…16).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from lab.data.split import Split, ThreeWaySplit, split_columns, train_dev_test_split


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


def load_digits(test_fraction: float = 0.25, seed: int = 0, dtype: torch.dtype = torch.float32) -> Split:
    """scikit-learn's 1,797 real 8×8 handwritten digits as a seeded train/test Split.

    X has shape (64, m): one column of pixel values in [0, 1] per digit (the originals run 0…16).
    Y has shape (1, m) and holds the digit 0…9 as an integer class index (dtype int64).
    """
    X, labels = digit_images()
    X, Y = X.to(dtype), labels.reshape(1, -1)  # (64, 1797), (1, 1797)
    return split_columns(X, Y, test_fraction, seed, class_names=tuple(str(d) for d in range(10)),
                         image_shape=(8, 8))


def load_digits_binary(positive: int = 6, negative: int | None = 9, sizes: tuple[int, int, int] | None = None,
                       seed: int = 0) -> ThreeWaySplit:
    """scikit-learn's real 8×8 handwritten digits as a yes/no task: label 1 = `positive`.

    With `negative` a digit, only those two digits are kept ("6 or 9?"); with None, every other digit is
    the negative class. `sizes` defaults to a 50/25/25 split. Pixels are scaled to [0, 1].
    """
    for name, value in (("positive", positive), ("negative", negative)):
        if value is not None and value not in range(10):
            raise ValueError(f"The '{name}' parameter must be a digit 0–9. Got {value!r} instead.")
    X, y = digit_images()
    keep = (y == positive) | (y == negative) if negative is not None else torch.ones_like(y, dtype=torch.bool)
    X, Y = X[:, keep], (y[keep] == positive).to(torch.float32).reshape(1, -1)
    m = X.shape[1]
    sizes = sizes or (m // 2, m // 4, m - m // 2 - m // 4)
    other = "not " + str(positive) if negative is None else str(negative)
    return train_dev_test_split(X, Y, sizes, seed, class_names=(other, str(positive)), image_shape=(8, 8))


def load_digits_parity(sizes: tuple[int, int, int] = (1200, 300, 297), seed: int = 0) -> ThreeWaySplit:
    """All 1,797 digits with label 1 = odd, 0 = even: a balanced task that needs a hidden layer."""
    X, y = digit_images()
    Y = (y % 2).to(torch.float32).reshape(1, -1)  # (1, 1797)
    return train_dev_test_split(X, Y, sizes, seed, class_names=("even", "odd"), image_shape=(8, 8))


def load_digits_multiclass(sizes: tuple[int, int, int] | None = None, seed: int = 0,
                           dtype: torch.dtype = torch.float32) -> ThreeWaySplit:
    """All 1,797 digits as ten classes, cut into train/dev/test (60/20/20 by default), for softmax.

    X has shape (64, m) with pixels in [0, 1]; Y has shape (1, m) and holds the digit 0…9 as an integer
    class index (int64), the form `torch.nn.functional.cross_entropy` takes.
    """
    X, labels = digit_images()
    m = X.shape[1]
    sizes = sizes or (m - 2 * (m // 5), m // 5, m // 5)
    return train_dev_test_split(X.to(dtype), labels.reshape(1, -1), sizes, seed,
                                class_names=tuple(str(d) for d in range(10)), image_shape=(8, 8))
