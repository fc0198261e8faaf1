"""Transfer learning: what a network learned on digits 0–4 helps it learn 5–9 from a few labelled examples.

Pre-training fits a 64 → n_h → 5 ReLU + softmax network (`lab.softmax.TorchSoftmaxNetwork`) on every 0–4 digit.
Its hidden layer has learned strokes and loops that are useful for any digit. For the new task (5–9, relabelled
0–4) a new network starts with the pre-trained hidden layer and a fresh output layer, then is fine-tuned on n
labelled examples:

- **last layer only**: the hidden layer stays frozen, only W², b² learn (few examples: fewer parameters to fit);
- **all layers**: every weight learns, starting from the pre-trained ones (more examples: adapt the features too);
- **from scratch**, for comparison: the same network from random weights, trained on the same n examples.
"""

from __future__ import annotations

import torch

from lab.data.digits import digit_images
from lab.params import Param, register, validate
from lab.seeding import make_generator
from lab.softmax import TorchSoftmaxNetwork, accuracy, make_network

register(
    Param("transfer_examples", "Labelled 5–9 examples n", "How many labelled digits of the new task (5–9) the "
          "network may learn from.", 50, low=5, high=800, step=5, integer=True, ui_high=400),
)

MODES = {"scratch": "from scratch", "last_layer": "transfer, last layer only", "all_layers": "transfer, all layers"}
FROZEN = {"scratch": (), "last_layer": ("W1", "b1"), "all_layers": ()}
PRETRAIN_STEPS = 300  # full-batch steps on the ~900 digits 0–4
TRANSFER_LR = 0.5


def digits_of(classes: range, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """X (64, m), Y (1, m) of the digits in `classes`, relabelled 0, 1, … in order."""
    X, y = digit_images()
    keep = (y >= classes.start) & (y < classes.stop)
    return X[:, keep].to(device), (y[keep] - classes.start).reshape(1, -1).to(device)


_PRETRAINED: dict[tuple[int, str], dict[str, torch.Tensor]] = {}  # (n_h, device) → hidden layer


class Pretraining:
    """A `lab.training.Trainable`: full-batch gradient descent of a 64 → n_h → 5 network on every digit 0–4.
    `keep()` stores its hidden layer for `pretrained_hidden`, so later fine-tunings start from it at once. One
    pre-training (seed 0) serves every fine-tuning seed: it is the fixed "task A" model."""

    def __init__(self, n_h: int = 64, device: torch.device | str = "cpu"):
        self.key = (n_h, str(device))
        self.network = make_network("torch_autograd", 64, n_h, 5, seed=0, device=device)
        self.X, self.Y = digits_of(range(0, 5), device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cost, grads = self.network.cost_and_gradients(self.X, self.Y)
        self.network.update(grads, TRANSFER_LR)
        return cost, grads

    def evaluate(self) -> dict[str, float]:
        return {"train_accuracy": accuracy(self.network, self.X, self.Y)}

    def keep(self) -> None:
        layer = self.network.layers[0]
        _PRETRAINED[self.key] = {"W1": layer.weight.detach().clone(), "b1": layer.bias.detach().clone()}


def is_pretrained(n_h: int = 64, device: torch.device | str = "cpu") -> bool:
    return (n_h, str(device)) in _PRETRAINED


def pretrained_hidden(n_h: int = 64, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """The hidden layer {"W1", "b1"} of a network trained on digits 0–4 (trained here the first time only)."""
    if not is_pretrained(n_h, device):
        task = Pretraining(n_h, device)
        for _ in range(PRETRAIN_STEPS):
            task.step()
        task.keep()
    return {k: v.clone() for k, v in _PRETRAINED[(n_h, str(device))].items()}


def target_split(transfer_examples: int, seed: int = 0, device: torch.device | str = "cpu"):
    """(X_few, Y_few, X_eval, Y_eval): n labelled 5–9 digits to learn from, the other 5–9 digits to measure on."""
    n = validate("transfer_examples", transfer_examples)
    X, Y = digits_of(range(5, 10), device)
    order = torch.randperm(X.shape[1], generator=make_generator(seed)).to(device)
    return X[:, order[:n]], Y[:, order[:n]], X[:, order[n:]], Y[:, order[n:]]


def start_network(mode: str, n_h: int = 64, seed: int = 0, device: torch.device | str = "cpu") -> TorchSoftmaxNetwork:
    """The network fine-tuning starts from: random (scratch), or the pre-trained hidden layer + a new output."""
    if mode not in MODES:
        raise ValueError(f"The 'mode' parameter must be one of {list(MODES)}. Got {mode!r} instead.")
    seed = validate("seed", seed)
    # another draw than the pre-trained network (seed 0), so scratch does not start near it
    network = make_network("torch_autograd", 64, n_h, 5, seed=(seed + 1) % 2**31, device=device)
    if mode != "scratch":
        hidden = pretrained_hidden(n_h, device)
        with torch.no_grad():
            network.layers[0].weight.copy_(hidden["W1"])
            network.layers[0].bias.copy_(hidden["b1"])
    return network


class FineTuning:
    """A `lab.training.Trainable`: full-batch gradient descent on the n labelled examples; the parameters named in
    `frozen` get no update. `evaluate()` measures on the held-out 5–9 digits."""

    def __init__(self, network: TorchSoftmaxNetwork, X: torch.Tensor, Y: torch.Tensor, X_eval: torch.Tensor,
                 Y_eval: torch.Tensor, *, frozen: tuple[str, ...] = (), lr: float = TRANSFER_LR):
        self.network, self.X, self.Y, self.X_eval, self.Y_eval = network, X, Y, X_eval, Y_eval
        self.frozen, self.lr = frozen, validate("lr", lr)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cost, grads = self.network.cost_and_gradients(self.X, self.Y)
        self.network.update({k: torch.zeros_like(g) if k in self.frozen else g for k, g in grads.items()}, self.lr)
        return cost, {k: g for k, g in grads.items() if k not in self.frozen}

    def evaluate(self) -> dict[str, float]:
        return {"train_accuracy": accuracy(self.network, self.X, self.Y),
                "accuracy": accuracy(self.network, self.X_eval, self.Y_eval)}


def fine_tuning(mode: str, transfer_examples: int, n_h: int = 64, seed: int = 0,
                device: torch.device | str = "cpu") -> FineTuning:
    """The Trainable of one mode on n examples (pre-trains first, once, when the mode transfers)."""
    X, Y, X_eval, Y_eval = target_split(transfer_examples, seed, device)
    return FineTuning(start_network(mode, n_h, seed, device), X, Y, X_eval, Y_eval, frozen=FROZEN[mode])
