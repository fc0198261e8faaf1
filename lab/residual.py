"""Plain and residual networks of the same depth, on the real digits: what a skip connection changes.

Both networks have L layers with weights: layer 1 takes the 64 pixels to `hidden_units` numbers, layers 2 … L − 1
keep that width, and layer L gives the ten class scores (softmax cost). Every layer computes z^[l] = W^[l] a^[l−1]
+ b^[l] and, except the last, a^[l] = ReLU(z^[l]).

The residual network groups layers 2 … L − 1 into (L − 2)/2 residual blocks of two layers each, and every block
has a skip connection ("shortcut") that spans both of its layers, as the course draws it:

    a^[l+1] = ReLU(z^[l+1]),    a^[l+2] = ReLU(z^[l+2] + a^[l])

(ERRATA 14: the notes say only half of the layers use a bypass. Every block has one; what is true is that each skip
connection lands on every second layer, since it spans two.) The plain network is the same without the "+ a^[l]".

Initialization: He, √(2/n^[l−1]) (lab 04), which keeps a plain ReLU network's signal at a steady scale. In the
residual network each block *adds* its output to the signal it passes on; at full size B blocks would double the
variance B times (2¹⁴ = 16,384 at L = 30), so the second layer of each block is drawn 1/√B as large, keeping the
sum at (1 + 1/B)^B ≤ e times the start (the Fixup rule, Zhang et al., 2019). Real ResNets get the same effect from
batch normalization. Both networks draw the same random numbers from the same seed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lab.data.digits import load_digits_multiclass
from lab.data.split import ThreeWaySplit
from lab.minibatch import EpochBatches, check_batch_size, num_mini_batches
from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("num_layers", "Layers L", "Layers with weights in each network: layer 1, (L − 2)/2 residual blocks of two "
          "layers, layer L; so L is even.", 30, low=4, high=60, step=2, integer=True, ui_high=50),
)

KINDS = ("plain", "residual")


def check_layers(num_layers: int) -> int:
    """`num_layers` if it is an even number from 4 to 60 (layer 1, blocks of two layers, layer L)."""
    num_layers = validate("num_layers", num_layers)
    if num_layers % 2:
        raise ValueError(f"The 'num_layers' parameter must be even (layer 1, blocks of two layers, layer L). Got "
                         f"{num_layers!r} instead.")
    return num_layers


def num_blocks(num_layers: int) -> int:
    """How many two-layer residual blocks a network of L = `num_layers` layers holds: (L − 2)/2."""
    return (check_layers(num_layers) - 2) // 2


def describe_blocks(num_layers: int) -> str:
    """The residual network's layout in words: its blocks, and the layers each skip connection goes around."""
    L, B = check_layers(num_layers), num_blocks(num_layers)
    spans = [f"{2 * b}–{2 * b + 1}" for b in range(1, B + 1)]
    shown = ", ".join(spans) if B <= 4 else f"{', '.join(spans[:3])}, …, {spans[-1]}"
    blocks = "1 residual block (layers 2–3)" if B == 1 else f"{B} residual blocks (layers {shown})"
    return (f"L = {L}: layer 1, then {blocks}, then layer {L}.\nEvery block has a skip connection that carries "
            f"its input around both of its layers:\n{B} skip connection{'s' if B > 1 else ''} for the {L - 2} "
            f"layers between the first and the last.")


class DeepMLP(torch.nn.Module):
    """L = `num_layers` fully connected layers, with (residual=True) or without a skip connection around every two
    hidden layers. X (m, n_x) → class scores (m, n_y); torch.nn works on rows."""

    def __init__(self, num_layers: int, hidden_units: int, residual: bool, *, generator: torch.Generator,
                 n_x: int = 64, n_y: int = 10, device: torch.device | str = "cpu"):
        super().__init__()
        self.depth, self.residual = check_layers(num_layers), bool(residual)
        width = validate("hidden_units", hidden_units)
        dims = [n_x] + [width] * (self.depth - 1) + [n_y]
        blocks = num_blocks(self.depth)
        self.layers = torch.nn.ModuleList()
        for k in range(1, self.depth + 1):  # layer k: dims[k − 1] → dims[k]
            layer = torch.nn.Linear(dims[k - 1], dims[k], device=device)
            std = math.sqrt(2.0 / dims[k - 1])  # He
            if self.residual and self.closes_block(k):
                std /= math.sqrt(blocks)  # the block's sum starts near its input (see the module docstring)
            with torch.no_grad():
                W = torch.randn(dims[k], dims[k - 1], generator=generator, dtype=torch.float64) * std
                layer.weight.copy_(W.to(layer.weight.dtype))
                layer.bias.zero_()
            self.layers.append(layer)

    def closes_block(self, k: int) -> bool:
        """Layer k is the second layer of a block: 3, 5, …, L − 1 (its output gets the skip added)."""
        return 3 <= k <= self.depth - 1 and k % 2 == 1

    def activations(self, X: torch.Tensor) -> list[torch.Tensor]:
        """a^[1] … a^[L−1], each (m, hidden_units), for X (m, n_x)."""
        found = [torch.relu(self.layers[0](X))]  # a^[1]
        for k in range(2, self.depth, 2):  # the block of layers k, k + 1
            a_in = found[-1]
            found.append(torch.relu(self.layers[k - 1](a_in)))  # a^[k]
            z = self.layers[k](found[-1])  # z^[k+1]
            found.append(torch.relu(z + a_in) if self.residual else torch.relu(z))  # a^[k+1]
        return found

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.layers[-1](self.activations(X)[-1])  # (m, n_y)


def make_pair(num_layers: int, hidden_units: int = 32, seed: int = 0, device: torch.device | str = "cpu",
              ) -> dict[str, DeepMLP]:
    """{"plain": …, "residual": …}: the same depth, width and random draws, with and without skip connections."""
    return {kind: DeepMLP(num_layers, hidden_units, kind == "residual", generator=make_generator(seed), device=device)
            for kind in KINDS}


def layer_gradients(model: DeepMLP, X: torch.Tensor, Y: torch.Tensor) -> list[float]:
    """‖∂J/∂W^[l]‖ (Frobenius norm) for l = 1 … L, from one backward pass of the softmax cost on X (m, n_x),
    Y (m,). The model's own .grad is left untouched."""
    weights = [layer.weight for layer in model.layers]
    cost = F.cross_entropy(model(X), Y)
    return [g.norm().item() for g in torch.autograd.grad(cost, weights)]


@torch.no_grad()
def signal_sizes(model: DeepMLP, X: torch.Tensor) -> list[float]:
    """The mean length ‖a^[l]‖ over the examples of X (m, n_x), for the hidden layers l = 1 … L − 1: how much of
    the signal is left after each layer."""
    return [a.norm(dim=1).mean().item() for a in model.activations(X)]


class DeepMLPTraining:
    """A `lab.training.Trainable`: mini-batch Adam steps of one DeepMLP on the ten-class digits.

    The gradients a step returns are named "W1" … "WL" and "b1" … "bL". The shuffling comes from `seed`, so a
    plain and a residual run with the same seed see the same mini-batches in the same order.
    """

    def __init__(self, model: DeepMLP, data: ThreeWaySplit, *, lr: float = 0.001, batch_size: int = 64,
                 seed: int = 0):
        self.model, self.lr = model, validate("lr", lr)
        device = model.layers[0].weight.device
        self.X_train, self.Y_train = data.X_train.T.to(device), data.Y_train[0].to(device)  # (m, 64), (m,)
        self.X_dev, self.Y_dev = data.X_dev.T.to(device), data.Y_dev[0].to(device)
        m = self.X_train.shape[0]
        self.batch_size = check_batch_size(batch_size, m)
        self.steps_per_epoch = num_mini_batches(m, self.batch_size)
        self.generator = make_generator(seed)
        self.optimizer = Adam(model.parameters(), lr=self.lr)
        self.names = {}
        for k, layer in enumerate(model.layers, start=1):
            self.names[layer.weight], self.names[layer.bias] = f"W{k}", f"b{k}"
        self.steps_done = 0
        self.batches = EpochBatches(m, self.batch_size, self.generator, self.X_train.device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        batch = self.batches.next_batch()
        cost = F.cross_entropy(self.model(self.X_train[batch]), self.Y_train[batch])
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.steps_done += 1
        return cost.detach(), {self.names[p]: p.grad for p in self.model.parameters()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        Z_train, Z_dev = self.model(self.X_train), self.model(self.X_dev)  # (m_train, 10), (m_dev, 10)
        return {"train_accuracy": (Z_train.argmax(1) == self.Y_train).double().mean().item(),
                "dev_accuracy": (Z_dev.argmax(1) == self.Y_dev).double().mean().item(),
                "train_cost": F.cross_entropy(Z_train, self.Y_train).item()}


def layer_norms(grad_norms: dict[str, list[float]], num_layers: int, last: int = 1) -> list[float | None]:
    """From a run's gradient norms per parameter and step (RunHistory.grad_norms): the mean of ‖dW^[l]‖ over the
    `last` steps, for l = 1 … L (None where a layer has no steps yet)."""
    out = []
    for k in range(1, check_layers(num_layers) + 1):
        values = grad_norms.get(f"W{k}", [])[-max(1, last):]
        out.append(sum(values) / len(values) if values else None)
    return out


def initial_gradients_text(num_layers: int = 30, hidden_units: int = 32, seed: int = 0, m: int = 256) -> str:
    """At initialization, on the first m training digits: the size of the signal after layers 1 and L − 1, and of
    the gradient ‖dW^[l]‖ at layers L, L/2 and 1, for the plain and the residual network, as text."""
    data = load_digits_multiclass()
    X, Y = data.X_train[:, :m].T, data.Y_train[0, :m]  # (m, 64), (m,)
    L = check_layers(num_layers)
    if not 2 <= X.shape[0] <= m:
        raise ValueError(f"The 'm' parameter must be a whole number ≥ 2. Got {m!r} instead.")
    lines = [f"At initialization, L = {L}, {validate('hidden_units', hidden_units)} units per layer, "
             f"{X.shape[0]} training digits:"]
    for kind, model in make_pair(L, hidden_units, seed).items():
        g, a = layer_gradients(model, X, Y), signal_sizes(model, X)
        lines.append(f"  {kind:<8}  ‖a^[1]‖ {a[0]:.2f} → ‖a^[{L - 1}]‖ {a[-1]:.2f}   ‖dW^[{L}]‖ {g[-1]:.3f} → "
                     f"‖dW^[{L // 2}]‖ {g[L // 2 - 1]:.3f} → ‖dW^[1]‖ {g[0]:.3f}")
    return "\n".join(lines)
