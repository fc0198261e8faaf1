"""What the optimization lab trains: a small MLP on real handwritten digits, one mini-batch per step.

The model is a `torch.nn.Module` whose parameters any `torch.optim`-style optimizer can step — ours from
`lab.optimizers` or PyTorch's — so the same run can be repeated with each update rule, batch size and
learning-rate schedule. A training "step" here is one mini-batch update; an epoch is ⌈m / batch size⌉ steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from lab.data.split import Split
from lab.lr_decay import notes_schedule, schedule, set_learning_rate
from lab.minibatch import check_batch_size, num_mini_batches, random_mini_batches
from lab.optimizers import NotesRMSprop, make_optimizer
from lab.params import validate
from lab.seeding import make_generator


class MLP(torch.nn.Module):
    """A two-layer network in the course's column layout: X (n_x, m) → logits Z² (n_y, m).

    Z¹ = W¹X + b¹, A¹ = ReLU(Z¹), Z² = W²A¹ + b². He initialisation (√(2/n^[l−1])), drawn from `generator`.
    """

    def __init__(self, n_x: int, n_h: int, n_y: int, generator: torch.Generator, dtype: torch.dtype = torch.float32):
        super().__init__()
        n_h = validate("hidden_units", n_h)

        def he(rows: int, cols: int) -> torch.nn.Parameter:
            return torch.nn.Parameter(torch.randn(rows, cols, generator=generator, dtype=dtype) * math.sqrt(2 / cols))

        self.W1, self.b1 = he(n_h, n_x), torch.nn.Parameter(torch.zeros(n_h, 1, dtype=dtype))  # (n_h, n_x), (n_h, 1)
        self.W2, self.b2 = he(n_y, n_h), torch.nn.Parameter(torch.zeros(n_y, 1, dtype=dtype))  # (n_y, n_h), (n_y, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        A1 = torch.relu(self.W1 @ X + self.b1)  # (n_h, m)
        return self.W2 @ A1 + self.b2  # (n_y, m)


def softmax_cost(Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits Z (n_y, m) against class indices Y (1, m); a 0-d tensor."""
    return torch.nn.functional.cross_entropy(Z.T, Y[0])


class MiniBatchTraining:
    """A `lab.training.Trainable`: each `step()` is one mini-batch update of an MLP on `data`.

    At the start of every epoch the training columns are reshuffled (from `seed`) and the learning rate
    is set from the schedule: α = schedule(t) with t the number of epochs completed. The cost a step
    reports is that of its own mini-batch before the update — noisy for small batches, by design.

    `notes_rmsprop` swaps in the notes' RMSprop (ERRATA 8) and `notes_decay` the notes' α₀/(1 − d·t)
    (ERRATA 9); both exist to show how they fail.
    """

    def __init__(self, data: Split, *, batch_size: int, optimizer: str = "gd", lr: float = 0.1,
                 beta: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 lr_schedule: str = "none", decay_rate: float = 0.0, hidden_units: int = 32, seed: int = 0,
                 notes_rmsprop: bool = False, notes_decay: bool = False):
        self.data = data
        m = data.X_train.shape[1]
        self.batch_size = check_batch_size(batch_size, m)
        self.steps_per_epoch = num_mini_batches(m, self.batch_size)
        self.generator = make_generator(seed)
        n_y = len(data.class_names)
        self.model = MLP(data.X_train.shape[0], hidden_units, n_y, self.generator, data.X_train.dtype)
        self.model.to(data.X_train.device)
        params = self.model.parameters()
        if notes_rmsprop:
            self.optimizer = NotesRMSprop(params, lr, beta, eps)
        else:
            self.optimizer = make_optimizer(optimizer, params, lr=lr, beta=beta, beta1=beta1, beta2=beta2, eps=eps)
        self.lr_at: Callable[[int], float] = (notes_schedule(lr, decay_rate) if notes_decay
                                              else schedule(lr_schedule, lr, decay_rate))
        self.epoch = 0  # epochs completed
        self.lrs: list[float] = []  # α used in each epoch so far
        self.compute_seconds = 0.0  # time spent inside step(): the cost of training alone
        self.steps_done = 0
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        start = time.perf_counter()
        if not self._batches:  # a new epoch: new order, new learning rate
            self.lrs.append(self.lr_at(self.epoch))
            set_learning_rate(self.optimizer, self.lrs[-1])
            self._batches = random_mini_batches(self.data.X_train, self.data.Y_train, self.batch_size,
                                                self.generator)[::-1]  # popped from the end
        X_t, Y_t = self._batches.pop()  # (n_x, b), (1, b)
        cost = softmax_cost(self.model(X_t), Y_t)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.steps_done += 1
        if not self._batches:
            self.epoch += 1
        self.compute_seconds += time.perf_counter() - start
        return cost.detach(), {name: p.grad for name, p in self.model.named_parameters()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        d = self.data
        Z_train, Z_test = self.model(d.X_train), self.model(d.X_test)  # (10, m_train), (10, m_test)
        return {"train_cost": softmax_cost(Z_train, d.Y_train).item(),
                "train_accuracy": (Z_train.argmax(0) == d.Y_train[0]).double().mean().item(),
                "test_accuracy": (Z_test.argmax(0) == d.Y_test[0]).double().mean().item()}

    def seconds_per_epoch(self) -> float:
        """Average compute time of one epoch so far (NaN before the first step)."""
        epochs = self.steps_done / self.steps_per_epoch
        return self.compute_seconds / epochs if epochs else math.nan


def cost_noise(costs: list[float]) -> float:
    """How jagged a cost curve is: mean |J_{i+1} − J_i| divided by the mean J (0 for a flat line).

    Mini-batch costs jump from batch to batch; batch gradient descent's cost glides. NaN for < 2 values.
    """
    values = torch.tensor(costs, dtype=torch.float64)
    if values.numel() < 2:
        return math.nan
    return ((values[1:] - values[:-1]).abs().mean() / values.mean()).item()
