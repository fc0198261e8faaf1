"""Error analysis: look at the dev examples the model gets wrong, tag each with what went wrong, count.

The count of a tag bounds what fixing that kind of mistake can give: if 30 of 60 mistakes on 450 dev examples
are blurred digits, a perfect fix for blur removes at most those 30, so the dev error can fall from 13.3% to
6.7% at best — the **ceiling** of that fix. A tag seen on 2 of the 60 mistakes caps the gain at 0.4 points,
however clever the fix. One mistake can carry several tags, so the ceilings do not add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.data.shifted_digits import DISTORTIONS
from lab.softmax import Mistake, SoftmaxNetwork, TorchSoftmaxNetwork, confident_mistakes

TAGS = ("noise", "blur", "shift", "looks like another digit", "badly written")


def dev_mistakes(network: SoftmaxNetwork | TorchSoftmaxNetwork, X: torch.Tensor, Y: torch.Tensor) -> list[Mistake]:
    """Every misclassified column of X (n_x, m), Y (1, m), the most confident mistake first."""
    return confident_mistakes(network.predict_proba(X), Y, k=X.shape[1])


@dataclass(frozen=True)
class Ceiling:
    tag: str
    count: int  # mistakes with this tag
    share: float  # count / all mistakes, 0…1
    error_now: float  # dev error, 0…1
    best_error: float  # dev error if every mistake with this tag were fixed


def ceilings(tags: dict[int, set[str]], mistakes: int, m_dev: int) -> list[Ceiling]:
    """One Ceiling per tag in TAGS. `tags` maps a mistake's index to its tags; `mistakes` is how many dev examples
    are wrong, `m_dev` how many there are."""
    if m_dev < 1 or not 0 <= mistakes <= m_dev:
        raise ValueError(f"Need 0 ≤ mistakes ≤ m_dev and m_dev ≥ 1. Got mistakes={mistakes}, m_dev={m_dev}.")
    counts = {tag: sum(tag in chosen for chosen in tags.values()) for tag in TAGS}
    return [Ceiling(tag, n, n / mistakes if mistakes else 0.0, mistakes / m_dev, (mistakes - n) / m_dev)
            for tag, n in counts.items()]


def tags_from_distortions(mistakes: list[Mistake], distortions: torch.Tensor) -> dict[int, set[str]]:
    """The answer key: each mistake tagged with the distortions its image really got ((m, 3) bool, columns in
    DISTORTIONS order, which are also TAGS' first three)."""
    return {m.index: {DISTORTIONS[j] for j in range(len(DISTORTIONS)) if bool(distortions[m.index, j])}
            for m in mistakes}
