"""scikit-learn's real 8×8 digits as *identities*: each digit class plays one person, for one-shot verification.

The classes are cut in two. The network trains on most images of the `seen` classes; it is judged on the other
classes, whose images it never saw (like a face-verification system meeting new employees), and on the held-back
images of the seen classes (known people, new photos). Rows are examples here: X has shape (m, 64).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.data.digits import digit_images
from lab.seeding import make_generator

SEEN_DIGITS = (0, 1, 2, 3, 4)  # identities the network trains on; 5…9 are never shown to it


@dataclass(frozen=True)
class IdentitySplit:
    X_train: torch.Tensor  # (m_train, 64) images of the seen identities to train on, pixels in [0, 1]
    y_train: torch.Tensor  # (m_train,) their identity (the digit), int64
    X_new_photos: torch.Tensor  # (m_new, 64) held-back images of the seen identities
    y_new_photos: torch.Tensor  # (m_new,)
    X_unseen: torch.Tensor  # (m_unseen, 64) every image of the identities never used in training
    y_unseen: torch.Tensor  # (m_unseen,)
    image_shape: tuple[int, int] = (8, 8)


def load_digit_identities(seen: tuple[int, ...] = SEEN_DIGITS, held_back: float = 0.3, seed: int = 0) -> IdentitySplit:
    """All 1,797 digits, split by class: the `seen` digits to train on (a `held_back` share of their images kept
    apart, chosen with `seed`), every other digit to verify.

    `seen` must hold 2 to 8 different digits 0–9 (training needs two identities for a negative, testing two for a
    pair of different people).
    """
    digits = set(seen) if all(isinstance(d, int) and not isinstance(d, bool) for d in seen) else set()
    if not digits <= set(range(10)) or len(digits) != len(seen) or not 2 <= len(digits) <= 8:
        raise ValueError(f"The 'seen' parameter must hold 2 to 8 different digits 0–9. Got {seen!r} instead.")
    if not 0.0 < held_back < 1.0:
        raise ValueError(f"The 'held_back' parameter must be in (0, 1). Got {held_back!r} instead.")
    X, labels = digit_images()  # (64, 1797), (1797,)
    rows = X.T  # (1797, 64)
    is_seen = torch.isin(labels, torch.tensor(sorted(digits)))
    seen_rows = torch.nonzero(is_seen)[:, 0]
    order = seen_rows[torch.randperm(len(seen_rows), generator=make_generator(seed))]
    cut = round(len(order) * held_back)
    new, train = order[:cut].sort().values, order[cut:].sort().values
    return IdentitySplit(rows[train].contiguous(), labels[train], rows[new].contiguous(), labels[new],
                         rows[~is_seen].contiguous(), labels[~is_seen])
