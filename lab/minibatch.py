"""Mini-batches: shuffle the m examples once per epoch, then cut them into slices of `batch_size`.

Batch size 1 is stochastic gradient descent (one example per step); batch size m is batch gradient
descent (one step per epoch). When m is not a multiple of the batch size, the last mini-batch is
smaller: every example is still seen exactly once per epoch.
"""

from __future__ import annotations

import math

import torch

from lab.params import validate


def check_batch_size(batch_size: int, m: int) -> int:
    """`batch_size` if it lies in 1…m, else a ValueError naming it (0 and more than m are both refused)."""
    batch_size = validate("batch_size", batch_size)
    if batch_size > m:
        raise ValueError(f"The 'batch_size' parameter must be at most the number of examples m = {m}. "
                         f"Got {batch_size!r} instead.")
    return batch_size


def num_mini_batches(m: int, batch_size: int) -> int:
    """⌈m / batch_size⌉: the number of steps in one epoch (the last batch may be partial)."""
    return math.ceil(m / check_batch_size(batch_size, m))


def random_mini_batches(X: torch.Tensor, Y: torch.Tensor, batch_size: int, generator: torch.Generator,
                        ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffle the columns of X (n, m) and Y (k, m) together and cut them into mini-batches.

    Returns ⌈m / batch_size⌉ pairs (X_t (n, b), Y_t (k, b)) with b = batch_size, except the last,
    which holds the m mod batch_size examples left over when that is not 0. `generator` (see
    `lab.seeding.make_generator`) fixes the order, so the same seed gives the same batches.
    """
    m = X.shape[1]
    if Y.shape[-1] != m:
        raise ValueError(f"X and Y must have the same number of columns m. Got {m} and {Y.shape[-1]} instead.")
    batch_size = check_batch_size(batch_size, m)
    order = torch.randperm(m, generator=generator).to(X.device)  # (m,): a fresh shuffle each epoch
    X_shuffled, Y_shuffled = X[:, order], Y[..., order]  # (n, m), (k, m)
    return [(X_shuffled[:, i:i + batch_size], Y_shuffled[..., i:i + batch_size]) for i in range(0, m, batch_size)]


class EpochBatches:
    """Row indices of one mini-batch at a time, in a fresh random order every epoch (for data with one example
    per row, as torch.nn models take it). `next_batch()` never runs dry: an epoch ends, the next one starts."""

    def __init__(self, m: int, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu"):
        self.m, self.batch_size = m, check_batch_size(batch_size, m)
        self.generator, self.device = generator, device
        self._left: list[torch.Tensor] = []

    def next_batch(self) -> torch.Tensor:
        if not self._left:  # a new epoch, a new order
            order = torch.randperm(self.m, generator=self.generator).to(self.device)
            self._left = list(order.split(self.batch_size))[::-1]  # popped from the end
        return self._left.pop()
