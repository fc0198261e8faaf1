"""LeNet-5 trained on scikit-learn's 1,797 real handwritten digits, and what it learns while it trains.

The digits are 8×8; LeNet-5 reads 32×32, so each digit is upsampled by bilinear interpolation (every new pixel a
weighted mean of its four nearest original pixels): the same strokes, smoothly enlarged. The network is the
course's drawing, built from the layer specs of `lab.cnn_architectures.lenet5` — the very specs behind its layer
table — and trained with mini-batches and Adam (`lab.optimizers.Adam`) on the softmax cost.

What a learner can look at while it trains: the six 5×5 filters of the first layer (`LeNetTraining.filters`), and
the feature maps one digit produces in the two convolutional layers (`LeNetTraining.feature_maps`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lab.cnn_architectures import build_module, lenet5
from lab.data.digits import load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.initialization import init_std
from lab.minibatch import EpochBatches, check_batch_size, num_mini_batches
from lab.optimizers import Adam
from lab.params import validate
from lab.seeding import make_generator

SIDE = 32  # LeNet-5's input: 32×32 pixels


@dataclass(frozen=True)
class DigitImages:
    """The digits as images for a convolutional network: X (m, 1, 32, 32) in [0, 1], Y (m,) int64 class indices."""

    X_train: torch.Tensor  # (m_train, 1, 32, 32)
    Y_train: torch.Tensor  # (m_train,)
    X_dev: torch.Tensor  # (m_dev, 1, 32, 32)
    Y_dev: torch.Tensor  # (m_dev,)
    X_test: torch.Tensor  # (m_test, 1, 32, 32)
    Y_test: torch.Tensor  # (m_test,)

    def to(self, device: torch.device | str) -> DigitImages:
        return DigitImages(*(getattr(self, k).to(device) for k in ("X_train", "Y_train", "X_dev", "Y_dev", "X_test",
                                                                   "Y_test")))


def upsample_digits(X: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """Columns of 8×8 pixels X (64, m) → images (m, 1, side, side) by bilinear interpolation, values in [0, 1]."""
    if X.dim() != 2 or X.shape[0] != 64:
        raise ValueError(f"The 'X' parameter must be (64, m): one 8×8 digit per column. Got shape "
                         f"{tuple(X.shape)} instead.")
    images = X.T.reshape(-1, 1, 8, 8)  # (m, 1, 8, 8): row-major, as scikit-learn stores them
    return F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False)


def digit_images(data: ThreeWaySplit | None = None) -> DigitImages:
    """The ten-class digits (60/20/20 train/dev/test, `load_digits_multiclass`) upsampled to 32×32."""
    d = data or load_digits_multiclass()
    return DigitImages(upsample_digits(d.X_train), d.Y_train[0], upsample_digits(d.X_dev), d.Y_dev[0],
                       upsample_digits(d.X_test), d.Y_test[0])


def initialize(model: torch.nn.Module, activation: str, generator: torch.Generator) -> None:
    """Every weight drawn from `generator` with the scale that suits `activation` (lab 04): He, √(2/fan-in), for
    ReLU and Leaky ReLU, Xavier, √(1/fan-in), for tanh and sigmoid; every bias 0. fan-in = f·f·n_C_prev for a
    convolution, n_in for a fully connected layer."""
    scheme = "he" if validate("activation", activation) in ("relu", "leaky_relu") else "xavier"
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
                fan_in = module.weight[0].numel()
                std = init_std(scheme, fan_in, module.weight.shape[0])
                W = torch.randn(module.weight.shape, generator=generator, dtype=torch.float64) * std
                module.weight.copy_(W.to(module.weight.dtype))
                module.bias.zero_()


class LeNetTraining:
    """A `lab.training.Trainable`: each `step()` is one mini-batch update of LeNet-5 by Adam.

    The training digits are reshuffled from `seed` at the start of every epoch (⌈m / batch_size⌉ steps); the
    cost a step reports is its own mini-batch's, before the update. Every `evaluate()` is also kept in
    `evaluations` as (epoch, metrics), with the wall time since the first step in `evaluation_seconds`. Gradients
    are named like "conv1.W", "fc4.b".
    """

    def __init__(self, data: DigitImages, *, lr: float = 0.003, batch_size: int = 32, activation: str = "tanh",
                 pool_mode: str = "average", seed: int = 0):
        self.data = data
        self.lr = validate("lr", lr)
        m = data.X_train.shape[0]
        self.batch_size = check_batch_size(batch_size, m)
        self.steps_per_epoch = num_mini_batches(m, self.batch_size)
        self.architecture = lenet5(activation, pool_mode)
        self.generator = make_generator(seed)
        self.model = build_module(self.architecture, device=data.X_train.device)
        initialize(self.model, activation, self.generator)
        self.start_filters = self.filters()  # (6, 5, 5): where the first layer began
        self.optimizer = Adam(self.model.parameters(), lr=self.lr)
        self.names = {p: f"{name.split('.')[0]}.{'W' if name.endswith('weight') else 'b'}"
                      for name, p in self.model.named_parameters()}
        self.steps_done = 0
        self.evaluations: list[tuple[float, dict[str, float]]] = []
        self.evaluation_seconds: list[float] = []  # wall time from the first step to each evaluation
        self._started: float | None = None
        self.batches = EpochBatches(m, self.batch_size, self.generator, self.data.X_train.device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self._started is None:
            self._started = time.perf_counter()
        batch = self.batches.next_batch()
        X, Y = self.data.X_train[batch], self.data.Y_train[batch]  # (b, 1, 32, 32), (b,)
        self.model.train()
        cost = F.cross_entropy(self.model(X), Y)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.steps_done += 1
        return cost.detach(), {self.names[p]: p.grad for p in self.model.parameters()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        d = self.data
        self.model.eval()
        Z_train, Z_dev = self.model(d.X_train), self.model(d.X_dev)  # (m_train, 10), (m_dev, 10)
        metrics = {"train_accuracy": (Z_train.argmax(1) == d.Y_train).double().mean().item(),
                   "dev_accuracy": (Z_dev.argmax(1) == d.Y_dev).double().mean().item(),
                   "train_cost": F.cross_entropy(Z_train, d.Y_train).item(),
                   "dev_cost": F.cross_entropy(Z_dev, d.Y_dev).item()}
        self.evaluations.append((self.steps_done / self.steps_per_epoch, metrics))
        self.evaluation_seconds.append(time.perf_counter() - (self._started or time.perf_counter()))
        return metrics

    def reached(self, target: float = 0.97) -> tuple[float, float] | None:
        """(epoch, seconds since the first step) of the first evaluation with dev accuracy ≥ `target`, or None."""
        for (epoch, metrics), seconds in zip(self.evaluations, self.evaluation_seconds, strict=True):
            if metrics["dev_accuracy"] >= target:
                return epoch, seconds
        return None

    @torch.no_grad()
    def filters(self) -> torch.Tensor:
        """The first layer's six 5×5 filters as they are now: (6, 5, 5), on the CPU."""
        return self.model.conv1[0].weight[:, 0].detach().cpu().clone()

    def filter_change(self) -> float:
        """How far the first layer's filters have moved from their random start: ‖W − W₀‖ / ‖W₀‖ (0 before any
        step; 1 means a change as large as the filters themselves)."""
        return ((self.filters() - self.start_filters).norm() / self.start_filters.norm()).item()

    @torch.no_grad()
    def feature_maps(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What one digit image (1, 32, 32) becomes in the two convolutional layers, after their activation:
        (6, 28, 28) and (16, 10, 10), on the CPU."""
        model = self.model
        x = image.reshape(1, 1, SIDE, SIDE).to(self.data.X_train.device)
        first = model.conv1(x)  # (1, 6, 28, 28)
        second = model.conv2(model.pool1(first))  # (1, 16, 10, 10)
        return first[0].cpu(), second[0].cpu()

    @torch.no_grad()
    def predict_proba(self, images: torch.Tensor) -> torch.Tensor:
        """Softmax output ŷ (m, 10) for images (m, 1, 32, 32)."""
        self.model.eval()
        return torch.softmax(self.model(images.to(self.data.X_train.device)), dim=1)
