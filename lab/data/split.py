"""Cutting a data set into train/test (`Split`) or train/dev/test (`ThreeWaySplit`), reproducibly by seed.

X has shape (n, m), one column per example; Y has shape (1, m).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ThreeWaySplit:
    X_train: torch.Tensor  # (n, m_train) what the parameters are fitted on
    Y_train: torch.Tensor  # (1, m_train)
    X_dev: torch.Tensor  # (n, m_dev) what settings (λ, keep-prob, …) are chosen on
    Y_dev: torch.Tensor  # (1, m_dev)
    X_test: torch.Tensor  # (n, m_test) touched once, at the end, for an unbiased estimate
    Y_test: torch.Tensor  # (1, m_test)
    class_names: tuple[str, str]  # label 0, label 1
    image_shape: tuple[int, int] | None = None  # (H, W) when each column is a flattened image

    def to(self, device: torch.device | str) -> ThreeWaySplit:
        moved = {k: getattr(self, k).to(device) for k in ("X_train", "Y_train", "X_dev", "Y_dev", "X_test", "Y_test")}
        return ThreeWaySplit(**moved, class_names=self.class_names, image_shape=self.image_shape)


def train_dev_test_split(X: torch.Tensor, Y: torch.Tensor, sizes: tuple[int, int, int], seed: int = 0,
                         **info) -> ThreeWaySplit:
    """Shuffle the m columns of X (n, m), Y (1, m) with `seed` and cut them into (m_train, m_dev, m_test).

    All three come from the same shuffled pool, so they share one distribution.
    """
    m_train, m_dev, m_test = sizes
    if min(sizes) < 1 or sum(sizes) > X.shape[1]:
        raise ValueError(f"The 'sizes' parameter must be 3 whole numbers ≥ 1 adding up to ≤ m = {X.shape[1]}. "
                         f"Got {sizes!r} instead.")
    order = torch.randperm(X.shape[1], generator=make_generator(seed))
    parts = order[:m_train], order[m_train:m_train + m_dev], order[m_train + m_dev:m_train + m_dev + m_test]
    return ThreeWaySplit(*(t for idx in parts for t in (X[:, idx], Y[:, idx])), **info)
