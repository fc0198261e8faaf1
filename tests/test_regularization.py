import pytest
import torch

from lab.data.digits import load_digits_binary
from lab.data.faces import load_faces_three_way
from lab.data.planar import make_planar
from lab.data.split import train_dev_test_split
from lab.deep_network import DeepNetwork, DeepNetworkTask, probability_grid
from lab.regularization import (
    EarlyStopping,
    augment,
    diagnose,
    dropout_means,
    flip_check,
    flip_images,
    inverted_dropout,
    l2_gradient,
    l2_penalty,
    train_with_early_stopping,
    weight_decay_step,
)
from lab.seeding import make_generator
from lab.training import DoneEvent, EvalEvent

F64 = torch.float64


@pytest.mark.parametrize("train_error, dev_error, words", [
    (0.01, 0.14, "train 1%, dev 14% → high variance"), (0.15, 0.16, "train 15%, dev 16% → high bias"),
    (0.15, 0.30, "high bias and high variance"), (0.005, 0.01, "low bias and low variance"),
])
def test_diagnosis_in_the_course_terms(train_error, dev_error, words):
    assert words in diagnose(train_error, dev_error)


def test_diagnosis_rejects_rates_outside_0_1():
    with pytest.raises(ValueError, match=r"The 'dev_error' parameter must be in \[0, 1\]\. Got 14 instead\."):
        diagnose(0.01, 14)


def test_l2_penalty_and_gradient_against_autograd():
    gen = make_generator(0)
    params = {"W1": torch.randn(4, 3, generator=gen, dtype=F64), "b1": torch.randn(4, 1, generator=gen, dtype=F64),
              "W2": torch.randn(1, 4, generator=gen, dtype=F64)}
    W = params["W1"].clone().requires_grad_()
    penalty = l2_penalty({**params, "W1": W}, 0.7, m=10)
    penalty.backward()
    expected = 0.7 / 20 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())  # biases excluded
    torch.testing.assert_close(penalty.detach(), expected)
    torch.testing.assert_close(l2_gradient(params["W1"], 0.7, 10), W.grad)


def test_weight_decay_step_uses_lambda_over_m_not_2m():
    """ERRATA 4: (1 − αλ/m)W − α dW equals W − α(dW + (λ/m)W)."""
    W, dW = torch.tensor([[2.0, -1.0]], dtype=F64), torch.tensor([[0.5, 0.25]], dtype=F64)
    stepped = weight_decay_step(W, dW, lr=0.1, lambd=4.0, m=8)
    torch.testing.assert_close(stepped, W - 0.1 * (dW + 4.0 / 8 * W))
    assert stepped[0, 0].item() == pytest.approx((1 - 0.1 * 4 / 8) * 2 - 0.05)
    assert stepped[0, 0].item() != pytest.approx((1 - 0.1 * 4 / 16) * 2 - 0.05)  # the notes' version


def test_inverted_dropout_keeps_the_mean_and_is_off_at_evaluation():
    A = torch.rand(200, 500, generator=make_generator(1), dtype=F64)
    dropped, D = inverted_dropout(A, 0.8, make_generator(2))
    assert D.mean().item() == pytest.approx(0.8, abs=0.01)
    assert dropped.mean().item() == pytest.approx(A.mean().item(), rel=0.01)  # expectation kept by 1/keep_prob
    unscaled = A * D
    assert unscaled.mean().item() == pytest.approx(0.8 * A.mean().item(), rel=0.01)  # without it: 20% lower
    same, none = inverted_dropout(A, 0.8, make_generator(2), training=False)
    assert same is A and none is None
    assert inverted_dropout(A, 1.0)[0] is A


@pytest.mark.parametrize("keep_prob", [0, -0.5, 1.01])
def test_bad_keep_prob_is_a_value_error(keep_prob):
    with pytest.raises(ValueError, match=r"The 'keep_prob' parameter must be in the range \(0.0, 1.0\]"):
        inverted_dropout(torch.ones(2, 2), keep_prob, make_generator(0))


def test_negative_lambda_is_a_value_error():
    with pytest.raises(ValueError, match=r"The 'lambd' parameter must be in the range \[0.0, 100.0\]\. Got -1"):
        l2_gradient(torch.ones(2, 2), -1, 4)


def test_flip_images_mirrors_columns_as_pictures():
    X = torch.arange(6.0).reshape(6, 1)  # one 2×3 image: [[0, 1, 2], [3, 4, 5]]
    assert flip_images(X, (2, 3)).flatten().tolist() == [2, 1, 0, 5, 4, 3]
    assert flip_images(X, (2, 3), "up_down").flatten().tolist() == [3, 4, 5, 0, 1, 2]
    with pytest.raises(ValueError, match="'direction' parameter"):
        flip_images(X, (2, 3), "diagonal")


def test_augment_doubles_the_training_set_with_mirrors():
    faces = load_faces_three_way()
    X, Y = augment(faces.X_train, faces.Y_train, faces.image_shape, "mirror")
    assert X.shape == (625, 200) and torch.equal(Y[:, 100:], faces.Y_train)
    assert torch.equal(X[:, 100:], flip_images(faces.X_train, (25, 25)))
    assert augment(faces.X_train, faces.Y_train, faces.image_shape, "off")[0] is faces.X_train
    with pytest.raises(ValueError, match="The 'augmentation' parameter must be one of"):
        augment(faces.X_train, faces.Y_train, faces.image_shape, "rotate")


def test_a_mirrored_face_is_still_a_face_but_a_flipped_digit_changes_meaning():
    faces = flip_check(load_faces_three_way(), "left_right", lr=0.05, num_steps=200)
    assert faces["flipped_dev_accuracy"] > faces["dev_accuracy"] - 0.1
    digits = flip_check(load_digits_binary(2, 5), "up_down", lr=0.1, num_steps=200)
    assert digits["dev_accuracy"] > 0.95 and digits["flipped_dev_accuracy"] < 0.5  # worse than a coin


def test_early_stopping_counts_patience_and_keeps_the_best_state():
    stopper = EarlyStopping(3)
    costs = [1.0, 0.8, 0.7, 0.75, 0.9, 0.95]
    stops = [stopper.observe(step, cost, lambda s=step: s) for step, cost in enumerate(costs, start=1)]
    assert stops == [False, False, False, False, False, True]
    assert stopper.best_step == 3 and stopper.best_state == 3
    assert not any(EarlyStopping(0).observe(step, 1.0 + step, lambda: None) for step in range(1, 50))


def overfitting_task(lambd=0.0):
    X, Y = make_planar(m=300, noise=0.3, seed=0)
    split = train_dev_test_split(X, Y, (60, 120, 120), 0, class_names=("0", "1"))
    net = DeepNetwork([2, 32, 32, 1], "relu", "he", generator=make_generator(0))
    return DeepNetworkTask(net, split.X_train, split.Y_train, 0.3, lambd=lambd, X_dev=split.X_dev,
                           Y_dev=split.Y_dev)


def test_train_with_early_stopping_restores_the_best_weights():
    task = overfitting_task()
    events = list(train_with_early_stopping(task, 3000, patience=100, eval_every=10))
    done = events[-1]
    assert isinstance(done, DoneEvent) and not done.cancelled and done.steps < 3000
    dev_costs = {e.step: e.metrics["dev_cost"] for e in events[:-2] if isinstance(e, EvalEvent)}
    best_step = min(dev_costs, key=dev_costs.get)
    assert done.metrics["best_step"] == best_step and done.metrics["stopped_at"] == best_step + 100
    assert done.metrics["dev_cost"] == pytest.approx(dev_costs[best_step], rel=1e-5)  # the best weights are back


def test_without_patience_it_is_plain_training():
    events = list(train_with_early_stopping(overfitting_task(), 50, patience=0, eval_every=10))
    assert events[-1].steps == 50 and "stopped_at" not in events[-1].metrics
    with pytest.raises(ValueError, match="needs a dev set"):
        task = overfitting_task()
        task.X_dev = None
        list(train_with_early_stopping(task, 5, patience=2))


def test_probability_grid_covers_the_points():
    task = overfitting_task()
    xs, ys, P = probability_grid(task.network, task.X_train, steps=12)
    assert len(xs) == len(ys) == 12 and len(P) == 12 and len(P[0]) == 12
    assert xs[0] < task.X_train[0].min().item() and ys[-1] > task.X_train[1].max().item()
    assert all(0.0 <= p <= 1.0 for row in P for p in row)
    with pytest.raises(ValueError, match="needs 2-D inputs"):
        probability_grid(task.network, torch.zeros(3, 4))


def test_dropout_means_show_why_survivors_are_scaled():
    means = dropout_means(0.5)
    assert means["inverted dropout (÷ keep-prob)"] == pytest.approx(means["no dropout"], rel=0.01)
    assert means["mask only, no ÷ keep-prob"] == pytest.approx(0.5 * means["no dropout"], rel=0.01)
    assert means["at evaluation"] == means["no dropout"]
