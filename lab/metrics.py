"""One number to rank classifiers by, and how a score threshold trades precision against recall.

A binary classifier gives each example a score s in [0, 1] (the probability ŷ of the positive class); it says
"positive" when s ≥ t, the threshold. Against the true labels y ∈ {0, 1} each example is then a true positive
(TP), false positive (FP), false negative (FN) or true negative (TN), and

    precision = TP / (TP + FP)    (of the examples called positive, the share that are)
    recall    = TP / (TP + FN)    (of the positive examples, the share that were found)
    F1        = 2 · P · R / (P + R), the harmonic mean: high only when both are high.

A ratio with nothing to count (no example called positive, no positive example) is 0 here, as scikit-learn's
`zero_division=0` gives. Raising t makes the classifier pickier: precision tends to rise, recall falls.

Optimizing vs satisficing: with several criteria (accuracy, latency, memory…), pick one to optimize and require
only "good enough" (a limit) of the others: `best_within_limit`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from lab.params import Param, register, validate

register(
    Param("decision_threshold", "Threshold t", "The classifier says 'positive' when its score is at least t: "
          "a higher t means fewer, surer positives.", 0.5, low=0.0, high=1.0, step=0.01),
    Param("latency_limit_ms", "Latency limit (ms)", "The satisficing metric: a model slower than this, to "
          "classify the whole dev set, is not acceptable, however accurate.", 1.0, low=0.001, high=1000.0,
          log=True, ui_low=0.01, ui_high=100.0),
)


@dataclass(frozen=True)
class BinaryScores:
    tp: int  # true positives: y = 1, called positive
    fp: int  # false positives: y = 0, called positive
    fn: int  # false negatives: y = 1, called negative
    tn: int  # true negatives: y = 0, called negative
    precision: float
    recall: float
    f1: float
    accuracy: float

    @property
    def confusion(self) -> list[list[int]]:
        """[[TN, FP], [FN, TP]]: row = true class (0, 1), column = predicted class, as scikit-learn orders it."""
        return [[self.tn, self.fp], [self.fn, self.tp]]


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def binary_scores(scores: torch.Tensor, y: torch.Tensor, decision_threshold: float = 0.5) -> BinaryScores:
    """Counts and metrics of the rule "positive when score ≥ t". scores (m,) in [0, 1], y (m,) of 0/1."""
    t = validate("decision_threshold", decision_threshold)
    s, truth = scores.reshape(-1), y.reshape(-1) > 0.5
    if s.shape != truth.shape:
        raise ValueError(f"scores and y must hold the same number of values. Got {s.numel()} and {truth.numel()}.")
    called = s >= t
    tp, fp = int((called & truth).sum()), int((called & ~truth).sum())
    fn, tn = int((~called & truth).sum()), int((~called & ~truth).sum())
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return BinaryScores(tp, fp, fn, tn, p, r, _ratio(2 * p * r, p + r) if p + r else 0.0, _ratio(tp + tn, s.numel()))


def precision_recall_curve(scores: torch.Tensor, y: torch.Tensor) -> tuple[list[float], list[float], list[float]]:
    """(precision, recall, thresholds) with every distinct score as the threshold t, lowest t first: the points
    of `sklearn.metrics.precision_recall_curve` without its closing (P = 1, R = 0) point. y needs a positive."""
    s, truth = scores.reshape(-1).to(torch.float64), (y.reshape(-1) > 0.5).to(torch.float64)
    if truth.sum() == 0:
        raise ValueError("y must hold at least one positive example: recall is undefined without one.")
    order = torch.argsort(s, descending=True, stable=True)
    s, truth = s[order], truth[order]
    tp, fp = torch.cumsum(truth, 0), torch.cumsum(1 - truth, 0)  # counts when t = s[i], highest t first
    last = torch.ones_like(s, dtype=torch.bool)
    last[:-1] = s[1:] != s[:-1]  # equal scores pass a threshold together: keep the last of each run
    tp, fp, thresholds = tp[last], fp[last], s[last]
    precision, recall = tp / (tp + fp), tp / truth.sum()
    return precision.flip(0).tolist(), recall.flip(0).tolist(), thresholds.flip(0).tolist()


@dataclass(frozen=True)
class Candidate:
    name: str  # e.g. "64 hidden units"
    accuracy: float  # the optimizing metric, higher is better
    latency_ms: float  # the satisficing metric, must stay ≤ the limit


def best_within_limit(candidates: list[Candidate], latency_limit_ms: float) -> Candidate | None:
    """The most accurate candidate whose latency is at most the limit (ties: the faster); None if none is."""
    limit = validate("latency_limit_ms", latency_limit_ms)
    allowed = [c for c in candidates if c.latency_ms <= limit]
    return max(allowed, key=lambda c: (c.accuracy, -c.latency_ms), default=None)


def latency_ms(classify, X: torch.Tensor, repeats: int = 15) -> float:
    """Median wall time, in ms, of `classify(X)` (e.g. a network's `scores`), one warm-up call first. On a GPU the
    device is synchronized around each call, so the time is the computation's, not just its launch."""
    def sync():
        if X.is_cuda:
            torch.cuda.synchronize(X.device)
    classify(X)
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        classify(X)
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def binary_task(positive: int = 9, seed: int = 0):
    """All 1,797 digits as "is it a `positive`?" (about 1 in 10 is), cut 50/25/25 into a ThreeWaySplit whose Y holds
    class indices 0/1 (int64), the form `lab.softmax` networks train on. A rare positive class is where accuracy
    misleads: always saying "no" is already 90% right."""
    from lab.data.digits import load_digits_binary
    from lab.data.split import ThreeWaySplit

    d = load_digits_binary(positive, None, seed=seed)
    ints = {k: getattr(d, k).to(torch.int64) for k in ("Y_train", "Y_dev", "Y_test")}
    return ThreeWaySplit(d.X_train, ints["Y_train"], d.X_dev, ints["Y_dev"], d.X_test, ints["Y_test"],
                         class_names=d.class_names, image_shape=d.image_shape)
