"""Multi-task learning: one network answers several yes/no questions about a digit at once.

Each digit has four labels: is it even, is it ≥ 5, does it have a closed loop (0, 6, 8, 9), is it prime
(2, 3, 5, 7). The network has one sigmoid output per label, ŷ_j = σ(z_j), and the cost adds the logistic loss of
every label that is present, so an example whose "prime" label is unknown still teaches the other three:

    J = (1/m) Σ_i Σ_j [label j of example i present] · L(ŷ_j⁽ⁱ⁾, y_j⁽ⁱ⁾),
    L(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)] = softplus(z) − y·z   (the stable form, from the logit z)

It is not softmax: the labels are not exclusive, and one digit can be even, ≥ 5 and have a loop (6, 8).
`MultiLabelNetwork(shared=True)` is one 64 → n_h → 4 network; `shared=False` is four separate 64 → n_h/4 → 1
networks on the same budget of hidden units, each of which only learns from its own label.
"""

from __future__ import annotations

import torch

from lab.data.digits import digit_images
from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("multitask_examples", "Training digits", "How many digits the networks train on (the rest measure "
          "accuracy).", 100, low=8, high=1400, step=4, integer=True, ui_low=20, ui_high=1000),
    Param("missing_label_share", "Share of labels missing", "Each training label is unknown with this "
          "probability; the cost skips it.", 0.0, low=0.0, high=0.95, step=0.05),
)

LABELS = ("even", "≥ 5", "has a loop", "prime")
HIDDEN_BUDGET = 64  # hidden units in all: one network of 64, or four of 16
STEPS = 300
LR = 0.01


def digit_labels(y: torch.Tensor) -> torch.Tensor:
    """(4, m) of 0./1.: the LABELS of each digit in y (m,)."""
    y = y.reshape(-1)
    loop = (y == 0) | (y == 6) | (y == 8) | (y == 9)
    prime = (y == 2) | (y == 3) | (y == 5) | (y == 7)
    return torch.stack([y % 2 == 0, y >= 5, loop, prime]).to(torch.float32)


def masked_logistic_cost(Z: torch.Tensor, Y: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """J (0-d): the logistic loss of every present label, summed, over m. Z, Y, present are (k, m)."""
    m = Z.shape[1]
    loss = torch.nn.functional.softplus(Z) - Y * Z  # = −[y log σ(z) + (1 − y) log(1 − σ(z))], (k, m)
    return (loss * present.to(Z.dtype)).sum() / m


class MultiLabelNetwork(torch.nn.Module):
    """shared=True: 64 → n_h ReLU → k logits. shared=False: k networks 64 → n_h/k ReLU → 1, side by side."""

    def __init__(self, n_h: int = HIDDEN_BUDGET, k: int = len(LABELS), *, shared: bool = True, seed: int = 0):
        super().__init__()
        generator = make_generator(seed)
        heads = 1 if shared else k
        width = n_h // heads
        if width < 1:
            raise ValueError(f"The 'n_h' parameter must give each of {heads} networks a hidden unit. Got {n_h}.")
        self.shared, self.k = shared, k
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(64, width) for _ in range(heads))
        self.out = torch.nn.ModuleList(torch.nn.Linear(width, k if shared else 1) for _ in range(heads))
        with torch.no_grad():
            for layer in [*self.hidden, *self.out]:
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator)
                                   * (2 / layer.in_features) ** 0.5)  # He
                layer.bias.zero_()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits Z (k, m) for X (64, m)."""
        H = X.T  # (m, 64)
        return torch.cat([out(torch.relu(hidden(H))) for hidden, out in zip(self.hidden, self.out, strict=True)],
                         dim=1).T


class MultiTaskTraining:
    """A `lab.training.Trainable`: full-batch Adam (`lab.optimizers.Adam`, checked against torch.optim) on
    `multitask_examples` digits with labels missing at random;
    `evaluate()` gives each label's accuracy on the held-out digits (where every label is known)."""

    def __init__(self, shared: bool, multitask_examples: int = 100, missing_label_share: float = 0.0, seed: int = 0,
                 device: torch.device | str = "cpu"):
        n = validate("multitask_examples", multitask_examples)
        missing = validate("missing_label_share", missing_label_share)
        X, y = digit_images()
        generator = make_generator(seed)
        order = torch.randperm(X.shape[1], generator=generator)
        Y = digit_labels(y)
        self.X, self.Y = X[:, order[:n]].to(device), Y[:, order[:n]].to(device)
        self.present = (torch.rand(self.Y.shape, generator=generator) >= missing).to(device)
        self.X_eval, self.Y_eval = X[:, order[n:]].to(device), Y[:, order[n:]].to(device)
        self.network = MultiLabelNetwork(shared=shared, seed=seed).to(device)
        self.optimizer = Adam(self.network.parameters(), lr=LR)  # the course's Adam (lab.optimizers)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self.optimizer.zero_grad(set_to_none=True)
        cost = masked_logistic_cost(self.network(self.X), self.Y, self.present)
        cost.backward()
        self.optimizer.step()
        return cost.detach(), {}

    def label_accuracy(self) -> list[float]:
        """Each label's accuracy on the held-out digits, in LABELS order."""
        with torch.no_grad():
            guess = self.network(self.X_eval) >= 0
        return (guess == (self.Y_eval > 0.5)).to(torch.float64).mean(dim=1).tolist()

    def evaluate(self) -> dict[str, float]:
        accuracies = self.label_accuracy()
        return {"mean_accuracy": sum(accuracies) / len(accuracies), **dict(zip(LABELS, accuracies, strict=True))}
