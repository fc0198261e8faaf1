"""Bias, variance and the cures for overfitting: train/dev/test splits, L2, dropout, augmentation, early stopping.

L2 and inverted dropout live inside `lab.deep_network` (they change forward, cost and backward); this
module holds the helpers around them: the three-way split, the diagnosis in the course's words, the
standalone L2 and dropout formulas, mirrored images as extra data, and early stopping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from lab.data import digit_images, face_images
from lab.deep_network import DeepNetwork, DeepNetworkTask, accuracy, check_regularization, dropout_mask
from lab.params import validate
from lab.seeding import make_generator
from lab.training import CancelFlag, DoneEvent, EvalEvent, Event, StepEvent, train


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


def load_faces_three_way(sizes: tuple[int, int, int] = (100, 50, 50), seed: int = 0) -> ThreeWaySplit:
    """The 200 scikit-image photos (label 1 = face) as train/dev/test, 625 pixels in [0, 1] per column."""
    images, labels = face_images()
    X, Y = images.reshape(images.shape[0], -1).T, labels.reshape(1, -1)  # (625, 200), (1, 200)
    return train_dev_test_split(X, Y, sizes, seed, class_names=("not a face", "face"), image_shape=(25, 25))


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


# ---- the diagnosis in the course's terms -------------------------------------------------------------------

def diagnose(train_error: float, dev_error: float, human_error: float = 0.0, tolerance: float = 0.05) -> str:
    """"train 1%, dev 14% → high variance": bias = train − human error, variance = dev − train error.

    Either counts as high when it exceeds `tolerance` (5 points by default); errors are fractions in [0, 1].
    """
    for name, value in (("train_error", train_error), ("dev_error", dev_error), ("human_error", human_error)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"The '{name}' parameter must be in [0, 1]. Got {value!r} instead.")
    high_bias = train_error - human_error > tolerance
    high_variance = dev_error - train_error > tolerance
    verdict = {(False, False): "low bias and low variance: this model fits and generalizes",
               (True, False): "high bias (underfitting): try a bigger network or train longer",
               (False, True): "high variance (overfitting): try more data, λ, dropout or early stopping",
               (True, True): "high bias and high variance: fix the fit first, then the gap"}[high_bias, high_variance]
    return f"train {train_error:.0%}, dev {dev_error:.0%} → {verdict}"


# ---- L2 and dropout on their own ---------------------------------------------------------------------------

def l2_penalty(params: dict[str, torch.Tensor], lambd: float, m: int) -> torch.Tensor:
    """(λ/2m) Σ_l ‖W^[l]‖²_F over the weight matrices "W1", "W2", … of `params` (biases are not penalized)."""
    lambd = validate("lambd", lambd)
    return lambd / (2 * m) * sum((value ** 2).sum() for name, value in params.items() if name.startswith("W"))


def l2_gradient(W: torch.Tensor, lambd: float, m: int) -> torch.Tensor:
    """∂/∂W of the penalty: (λ/m)·W — not (λ/2m)·W, the 2 of the square cancels the ½."""
    return validate("lambd", lambd) / m * W


def weight_decay_step(W: torch.Tensor, dW: torch.Tensor, lr: float, lambd: float, m: int) -> torch.Tensor:
    """W := (1 − αλ/m)·W − α·dW, where dW is the gradient of the unregularized cost."""
    return (1 - lr * validate("lambd", lambd) / m) * W - lr * dW


def inverted_dropout(A: torch.Tensor, keep_prob: float, generator: torch.Generator | None = None,
                     training: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(A * D / keep_prob, D) with D a keep-mask like A; at evaluation (`training=False`) A is returned unchanged.

    Dividing by keep_prob keeps the expected value of every activation equal to A's.
    """
    _, keep_prob = check_regularization(0.0, keep_prob)
    if not training or keep_prob == 1.0:
        return A, None
    D = dropout_mask(tuple(A.shape), keep_prob, generator, A)
    return A * D / keep_prob, D


# ---- augmentation ------------------------------------------------------------------------------------------

def flip_images(X: torch.Tensor, image_shape: tuple[int, int], direction: str = "left_right") -> torch.Tensor:
    """Each column of X (H·W, m) as an image, flipped "left_right" (a mirror) or "up_down"; returns (H·W, m)."""
    if direction not in ("left_right", "up_down"):
        raise ValueError(f"The 'direction' parameter must be 'left_right' or 'up_down'. Got {direction!r} instead.")
    H, W = image_shape
    images = X.T.reshape(-1, H, W)  # (m, H, W)
    flipped = images.flip(dims=(2,) if direction == "left_right" else (1,))
    return flipped.reshape(-1, H * W).T.contiguous()


def augment(X: torch.Tensor, Y: torch.Tensor, image_shape: tuple[int, int] | None, augmentation: str = "mirror",
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set plus a mirrored copy of every image with the same label: (n, 2m), (1, 2m).

    This only helps when the mirror keeps the meaning — a mirrored face is still a face; an upside-down
    6 looks like a 9. `augmentation="off"` returns X, Y unchanged.
    """
    if validate("augmentation", augmentation) == "off":
        return X, Y
    if image_shape is None:
        raise ValueError("Mirroring needs images: the 'image_shape' parameter is None.")
    return torch.cat([X, flip_images(X, image_shape)], dim=1), torch.cat([Y, Y], dim=1)


# ---- early stopping ----------------------------------------------------------------------------------------

class EarlyStopping:
    """Remembers the best dev cost and the weights that gave it; says stop after `patience` epochs without a better one.

    patience = 0 turns it off (never stops).
    """

    def __init__(self, patience: int):
        self.patience = validate("patience", patience)
        self.best_cost, self.best_step, self.best_state = float("inf"), 0, None

    def observe(self, step: int, dev_cost: float, state_fn) -> bool:
        """Record the dev cost after `step`; `state_fn()` gives the weights to keep. Returns True to stop."""
        if dev_cost < self.best_cost:
            self.best_cost, self.best_step, self.best_state = dev_cost, step, state_fn()
        return self.patience > 0 and step - self.best_step >= self.patience


def train_with_early_stopping(task: DeepNetworkTask, num_steps: int, patience: int, *, eval_every: int = 1,
                              cancel: CancelFlag | None = None) -> Iterator[Event]:
    """`lab.training.train` with early stopping on the task's dev cost (checked every `eval_every` steps).

    When `patience` steps pass without a better dev cost, training stops, the best weights are put back,
    and the last EvalEvent and the DoneEvent report them, with "best_step" (and "stopped_at") added to the
    metrics. With patience 0 this is plain `train`, plus "best_step".
    """
    stopper = EarlyStopping(patience)
    if task.X_dev is None:
        raise ValueError("Early stopping needs a dev set: give the task X_dev and Y_dev.")
    start = time.perf_counter()
    last_step = 0
    for event in train(task, num_steps, eval_every=eval_every, cancel=cancel):
        if isinstance(event, StepEvent):
            last_step = event.step
        if isinstance(event, EvalEvent):
            stop = stopper.observe(event.step, event.metrics["dev_cost"], task.network.state)
            if stop:
                task.network.load_state(stopper.best_state)
                metrics = {**task.evaluate(), "best_step": float(stopper.best_step), "stopped_at": float(event.step)}
                yield EvalEvent(event.step, metrics)
                yield DoneEvent(last_step, False, time.perf_counter() - start, metrics)
                return
            yield EvalEvent(event.step, {**event.metrics, "best_step": float(stopper.best_step)})
            continue
        if isinstance(event, DoneEvent) and not event.cancelled and event.metrics:
            event = DoneEvent(event.steps, False, event.seconds,
                              {**event.metrics, "best_step": float(stopper.best_step)})
        yield event


def flip_check(split: ThreeWaySplit, direction: str, lr: float, num_steps: int = 300, seed: int = 0,
               ) -> dict[str, float]:
    """Train a small network on the original training images, then score it on the dev images and on the same
    dev images flipped in `direction`, keeping their labels.

    If the flip keeps the meaning (a mirrored face is still a face) both accuracies are close; if it changes the
    meaning (an upside-down 6 looks like a 9) the flipped accuracy collapses — and training on such flips with
    the old labels would teach the model something false. Returns {"dev_accuracy", "flipped_dev_accuracy"}.
    """
    network = DeepNetwork([split.X_train.shape[0], 32, 1], "relu", "he", generator=make_generator(seed))
    task = DeepNetworkTask(network, split.X_train, split.Y_train, lr)
    for _ in range(num_steps):
        task.step()
    flipped = flip_images(split.X_dev, split.image_shape, direction)
    return {"dev_accuracy": accuracy(network, split.X_dev, split.Y_dev),
            "flipped_dev_accuracy": accuracy(network, flipped, split.Y_dev)}


def dropout_means(keep_prob: float, units: int = 100, m: int = 1000, seed: int = 0) -> dict[str, float]:
    """Mean activation of a layer of ReLU-like outputs (uniform in [0, 1)) four ways: untouched, with inverted
    dropout, with the mask but *without* dividing by keep_prob, and at evaluation (no dropout at all)."""
    generator = make_generator(seed)
    A = torch.rand(units, m, generator=generator, dtype=torch.float64)  # (units, m)
    dropped, D = inverted_dropout(A, keep_prob, generator)
    return {"no dropout": A.mean().item(), "inverted dropout (÷ keep-prob)": dropped.mean().item(),
            "mask only, no ÷ keep-prob": (A * D).mean().item() if D is not None else A.mean().item(),
            "at evaluation": inverted_dropout(A, keep_prob, training=False)[0].mean().item()}
