"""Bias, variance and the cures for overfitting: train/dev/test splits, L2, dropout, augmentation, early stopping.

L2 and inverted dropout live inside `lab.deep_network` (they change forward, cost and backward); this
module holds the helpers around them: the diagnosis in the course's words, the standalone L2 and dropout
formulas, mirrored images as extra data, and early stopping. The train/dev/test split and the data sets
themselves are in `lab.data`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch

from lab.data.split import ThreeWaySplit
from lab.deep_network import DeepNetwork, DeepNetworkTask, accuracy, check_regularization, dropout_mask
from lab.params import Param, register, validate
from lab.seeding import make_generator
from lab.training import CancelFlag, DoneEvent, EvalEvent, Event, StepEvent, train

register(
    Param("patience", "Early-stopping patience", "Epochs without a better dev cost before training stops; "
          "0 turns early stopping off.", 0, low=0, high=1000, step=1, integer=True, ui_high=50),
    Param("augmentation", "Data augmentation", "Extra training examples made from the real ones.",
          "off", options=("off", "mirror")),
    Param("overfit_data", "Data", "Real images to overfit on: 100 handwritten digits (odd or even?) "
          "or 30 photos (face or not?).", "digits", options=("digits", "faces")),
)


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
    lr, lambd = validate("lr", lr), validate("lambd", lambd)
    return (1 - lr * lambd / m) * W - lr * dW


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

    This only helps when the mirror keeps the meaning — a mirrored face is still a face; a 2 mirrored
    top to bottom looks like a 5. `augmentation="off"` returns X, Y unchanged.
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
    meaning (a 2 mirrored top to bottom looks like a 5) the flipped accuracy collapses — and training on such flips with
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
