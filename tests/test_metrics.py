"""lab.metrics against scikit-learn's metrics, and the satisficing choice by hand."""

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_curve, precision_score, recall_score

from lab.metrics import Candidate, best_within_limit, binary_scores, binary_task, latency_ms
from lab.metrics import precision_recall_curve as lab_pr_curve


def random_scores(seed: int, m: int = 80):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 25, (m,), generator=g).float() / 24  # ties on purpose
    y = (torch.rand(m, generator=g) < 0.3).float()
    y[0] = 1.0
    return scores, y


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("t", [0.0, 0.3, 0.5, 0.77, 1.0])
def test_precision_recall_f1_and_confusion_match_scikit_learn(seed, t):
    scores, y = random_scores(seed)
    s = binary_scores(scores, y, t)
    predicted = (scores >= t).numpy().astype(int)
    truth = y.numpy().astype(int)
    assert s.precision == pytest.approx(precision_score(truth, predicted, zero_division=0))
    assert s.recall == pytest.approx(recall_score(truth, predicted, zero_division=0))
    assert s.f1 == pytest.approx(f1_score(truth, predicted, zero_division=0))
    assert s.confusion == confusion_matrix(truth, predicted, labels=[0, 1]).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_precision_recall_curve_matches_scikit_learn(seed):
    scores, y = random_scores(seed)
    precision, recall, thresholds = lab_pr_curve(scores, y)
    P, R, T = precision_recall_curve(y.numpy(), scores.numpy())
    assert np.allclose(precision, P[:-1]) and np.allclose(recall, R[:-1]) and np.allclose(thresholds, T)


def test_nothing_called_positive_gives_zero_precision_and_f1():
    s = binary_scores(torch.tensor([0.1, 0.2]), torch.tensor([1.0, 0.0]), 0.9)
    assert (s.precision, s.recall, s.f1, s.tp, s.tn) == (0.0, 0.0, 0.0, 0, 1)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="'decision_threshold'"):
        binary_scores(torch.zeros(3), torch.zeros(3), 1.5)
    with pytest.raises(ValueError, match="same number"):
        binary_scores(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="positive"):
        lab_pr_curve(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="'latency_limit_ms'"):
        best_within_limit([], -1.0)


def test_the_most_accurate_model_within_the_limit_is_chosen():
    models = [Candidate("small", 0.90, 0.1), Candidate("medium", 0.95, 0.5), Candidate("big", 0.97, 2.0)]
    assert best_within_limit(models, 1.0).name == "medium"
    assert best_within_limit(models, 5.0).name == "big"
    assert best_within_limit(models, 0.1).name == "small"
    assert best_within_limit(models, 0.05) is None


def test_latency_is_a_positive_median_and_grows_with_the_work():
    X = torch.randn(256, 256)
    slow = latency_ms(lambda x: [x @ x for _ in range(20)], X, repeats=5)
    fast = latency_ms(lambda x: x[0, 0], X, repeats=5)
    assert 0 < fast < slow


def test_binary_task_has_a_rare_positive_class_and_integer_labels():
    d = binary_task(9)
    assert d.Y_dev.dtype == torch.int64 and 0.05 < d.Y_dev.float().mean() < 0.2
    assert d.X_train.shape[0] == 64
