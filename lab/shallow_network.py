"""A network with one hidden layer of n_h units, written out by hand in the course's notation — and its torch.nn twin.

Forward, for X (n_x, m) with one example per column:

    Z1 = W1 X + b1     (n_h, m)        A1 = g(Z1)       the hidden layer; g is sigmoid, tanh, ReLU or Leaky ReLU
    Z2 = W2 A1 + b2    (1, m)          A2 = σ(Z2) = ŷ   the output: P(y = 1 | x)

Cost: J = −(1/m) Σ [y log ŷ + (1 − y) log(1 − ŷ)]. Backward, by the chain rule from the output down:

    dZ2 = A2 − Y                 (1, m)      dW2 = dZ2 A1ᵀ / m      db2 = Σ_columns dZ2 / m
    dZ1 = W2ᵀ dZ2 * g′(Z1)       (n_h, m)    dW1 = dZ1 Xᵀ / m       db1 = Σ_columns dZ1 / m

The weights start as randn × init_factor (the course's 0.01) and the biases at 0. `ShallowNetwork` (by hand) and
`TorchShallowNetwork` (torch.nn + autograd) share their constructor and methods; tests swap one for the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.activations import LEAKY_SLOPE
from lab.activations import activation as activation_pair
from lab.deep_network import compute_cost
from lab.initialization import initialize_parameters
from lab.params import validate
from lab.seeding import make_generator


@dataclass(frozen=True)
class Cache:
    """What backward needs from forward."""

    Z1: torch.Tensor  # (n_h, m) hidden pre-activations
    A1: torch.Tensor  # (n_h, m) hidden activations g(Z1)
    Z2: torch.Tensor  # (1, m) output score
    A2: torch.Tensor  # (1, m) ŷ = σ(Z2)


def _check_sizes(n_x: int, n_h: int) -> tuple[int, int]:
    """Validate n_x ≥ 1 inputs and n_h hidden units (the 'hidden_units' parameter); returns them."""
    if isinstance(n_x, bool) or not isinstance(n_x, int) or n_x < 1:
        raise ValueError(f"The 'n_x' parameter must be a whole number ≥ 1. Got {n_x!r} instead.")
    return n_x, validate("hidden_units", n_h)


class ShallowNetwork:
    """n_x inputs → n_h hidden units with activation g → one sigmoid output, by hand.

    Parameters live in `params`: {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (1, n_h), "b2": (1, 1)}.
    """

    def __init__(self, n_x: int, n_h: int, activation: str = "tanh", init_factor: float = 0.01, *,
                 leaky_slope: float = LEAKY_SLOPE, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        self.n_x, self.n_h = _check_sizes(n_x, n_h)
        self.activation, self.leaky_slope = validate("activation", activation), validate("leaky_slope", leaky_slope)
        self.g, self.g_prime = activation_pair(self.activation, self.leaky_slope)
        self.params = initialize_parameters([self.n_x, self.n_h, 1], "random", init_factor, generator, dtype, device)

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, Cache]:
        """ŷ = A2 (1, m) for X (n_x, m), and the cache backward needs."""
        p = self.params
        Z1 = p["W1"] @ X + p["b1"]  # (n_h, m)
        A1 = self.g(Z1)
        Z2 = p["W2"] @ A1 + p["b2"]  # (1, m)
        A2 = torch.sigmoid(Z2)
        return A2, Cache(Z1, A1, Z2, A2)

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ (1, m) for X (n_x, m)."""
        return self.forward(X)[0]

    def hidden(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Z1, A1), both (n_h, m): what each hidden unit computes for each example."""
        _, cache = self.forward(X)
        return cache.Z1, cache.A1

    def backward(self, X: torch.Tensor, Y: torch.Tensor, cache: Cache) -> dict[str, torch.Tensor]:
        """Gradients of J keyed like `params`, from the formulas in the module docstring."""
        m = X.shape[1]
        dZ2 = cache.A2 - Y  # (1, m)
        dW2 = dZ2 @ cache.A1.T / m  # (1, n_h)
        db2 = dZ2.sum(dim=1, keepdim=True) / m  # (1, 1)
        dZ1 = (self.params["W2"].T @ dZ2) * self.g_prime(cache.Z1)  # (n_h, m)
        dW1 = dZ1 @ X.T / m  # (n_h, n_x)
        db1 = dZ1.sum(dim=1, keepdim=True) / m  # (n_h, 1)
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """J (0-d) on X (n_x, m), Y (1, m), and its gradients keyed like `params`."""
        _, cache = self.forward(X)
        return compute_cost(cache.Z2, Y, {}), self.backward(X, Y, cache)

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """One gradient-descent step: every parameter P := P − α dP."""
        lr = validate("lr", lr)
        self.params = {name: value - lr * grads[name] for name, value in self.params.items()}  # a new dict


class TorchShallowNetwork(torch.nn.Module):
    """The same network from torch.nn.Linear layers and autograd; same constructor and methods as ShallowNetwork.

    Given the same generator it starts from the same weights, so its gradients must equal the hand-written ones.
    """

    def __init__(self, n_x: int, n_h: int, activation: str = "tanh", init_factor: float = 0.01, *,
                 leaky_slope: float = LEAKY_SLOPE, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        super().__init__()
        self.n_x, self.n_h = _check_sizes(n_x, n_h)
        self.activation, self.leaky_slope = validate("activation", activation), validate("leaky_slope", leaky_slope)
        self.hidden_layer = torch.nn.Linear(n_x, n_h, dtype=dtype, device=device)
        self.output_layer = torch.nn.Linear(n_h, 1, dtype=dtype, device=device)
        self.g = {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(),
                  "leaky_relu": torch.nn.LeakyReLU(self.leaky_slope)}[self.activation]
        start = initialize_parameters([n_x, n_h, 1], "random", init_factor, generator, dtype, device)
        with torch.no_grad():
            for k, layer in ((1, self.hidden_layer), (2, self.output_layer)):
                layer.weight.copy_(start[f"W{k}"])
                layer.bias.copy_(start[f"b{k}"].flatten())

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Detached views in the course's shapes: W1 (n_h, n_x), b1 (n_h, 1), W2 (1, n_h), b2 (1, 1)."""
        return {"W1": self.hidden_layer.weight.detach(), "b1": self.hidden_layer.bias.detach().reshape(-1, 1),
                "W2": self.output_layer.weight.detach(), "b2": self.output_layer.bias.detach().reshape(-1, 1)}

    def _forward(self, X: torch.Tensor) -> Cache:
        Z1 = self.hidden_layer(X.T)  # torch.nn works on rows: (m, n_h)
        A1 = self.g(Z1)
        Z2 = self.output_layer(A1)  # (m, 1)
        return Cache(Z1.T, A1.T, Z2.T, torch.sigmoid(Z2).T)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ (1, m) for X (n_x, m)."""
        return self._forward(X).A2

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.forward(X)

    def hidden(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            cache = self._forward(X)
        return cache.Z1, cache.A1

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():
            cost = torch.nn.functional.binary_cross_entropy_with_logits(self._forward(X).Z2, Y)
            cost.backward()
        grads = {"W1": self.hidden_layer.weight.grad, "b1": self.hidden_layer.bias.grad.reshape(-1, 1),
                 "W2": self.output_layer.weight.grad, "b2": self.output_layer.bias.grad.reshape(-1, 1)}
        return cost.detach(), {name: grad.clone() for name, grad in grads.items()}

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        lr = validate("lr", lr)
        with torch.no_grad():
            for k, layer in ((1, self.hidden_layer), (2, self.output_layer)):
                layer.weight -= lr * grads[f"W{k}"]
                layer.bias -= lr * grads[f"b{k}"].flatten()


Network = ShallowNetwork | TorchShallowNetwork


def inactive_units(Z1: torch.Tensor) -> list[int]:
    """The hidden units (rows of Z1, shape (n_h, m)) whose z ≤ 0 for all m examples.

    With ReLU such a unit outputs 0 and gets gradient exactly 0 on every example: it is dead and stays dead.
    With Leaky ReLU it still gets the small slope, so it can come back.
    """
    return torch.nonzero((Z1 <= 0).all(dim=1)).flatten().tolist()


def accuracy(network: Network, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Share of the m columns where ŷ > 0.5 matches Y (1, m)."""
    return ((network.predict_proba(X) > 0.5).to(Y.dtype) == Y).to(torch.float64).mean().item()


class ShallowNetworkTask:
    """Full-batch gradient descent on a shallow network, for `lab.training.train`: one step sees every example."""

    def __init__(self, network: Network, X: torch.Tensor, Y: torch.Tensor, lr: float):
        self.network, self.X, self.Y, self.lr = network, X, Y, validate("lr", lr)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cost, grads = self.network.cost_and_gradients(self.X, self.Y)
        self.network.update(grads, self.lr)
        return cost, grads

    def evaluate(self) -> dict[str, float]:
        return {"train_accuracy": accuracy(self.network, self.X, self.Y)}


def plane_grid(low: float, high: float, steps: int, dtype: torch.dtype = torch.float32,
               device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """steps × steps points covering the square [low, high]²: (coordinates (steps,), points (2, steps²)).

    Point r·steps + c sits at (coordinates[c], coordinates[r]), so a (steps²,) result reshapes to rows of x₂.
    """
    if steps < 2 or not low < high:
        raise ValueError(f"A grid needs steps ≥ 2 and low < high. Got steps={steps}, low={low}, high={high}.")
    coordinates = torch.linspace(low, high, steps, dtype=dtype, device=device)
    x2, x1 = torch.meshgrid(coordinates, coordinates, indexing="ij")  # (steps, steps)
    return coordinates, torch.stack([x1.flatten(), x2.flatten()])


def unit_maps(network: Network, points: torch.Tensor, steps: int) -> torch.Tensor:
    """Every hidden unit's activation a_j over a plane_grid's points (2, steps²): (n_h, steps, steps)."""
    return network.hidden(points)[1].reshape(-1, steps, steps)


def line_in_square(w: torch.Tensor, b: float, low: float, high: float) -> tuple[list[float], list[float]]:
    """The two ends of the line w₁x₁ + w₂x₂ + b = 0 inside the square [low, high]² (a logistic regression's
    boundary, ŷ = 0.5), as ([x₁, x₁′], [x₂, x₂′]); ([], []) when w = 0 or the line misses the square."""
    w1, w2 = (float(v) for v in w.flatten()[:2])
    ends: list[tuple[float, float]] = []
    for edge in (low, high):
        if w2 != 0 and low <= (x2 := -(b + w1 * edge) / w2) <= high:
            ends.append((edge, x2))
        if w1 != 0 and low <= (x1 := -(b + w2 * edge) / w1) <= high:
            ends.append((x1, edge))
    if len(ends) < 2:
        return [], []
    ends.sort()
    return [ends[0][0], ends[-1][0]], [ends[0][1], ends[-1][1]]


def gradient_check_report(n_h: int = 4, activation: str = "tanh", leaky_slope: float = LEAKY_SLOPE, m: int = 10,
                          seed: int = 0) -> str:
    """Shapes of a ShallowNetwork's parameters and whether its hand-written gradients equal autograd's on its
    torch.nn twin (float64, same start), as text for a notebook."""
    generator = make_generator(seed)
    X = torch.randn(2, m, generator=generator, dtype=torch.float64)  # (2, m)
    Y = (torch.rand(1, m, generator=generator, dtype=torch.float64) > 0.5).to(torch.float64)  # (1, m)
    kinds = {"leaky_slope": leaky_slope, "generator": make_generator(seed + 1), "dtype": torch.float64}
    hand = ShallowNetwork(2, n_h, activation, 1.0, **kinds)
    twin = TorchShallowNetwork(2, n_h, activation, 1.0, **{**kinds, "generator": make_generator(seed + 1)})
    (cost, mine), (twin_cost, theirs) = hand.cost_and_gradients(X, Y), twin.cost_and_gradients(X, Y)
    gap = max([(mine[name] - theirs[name]).abs().max().item() for name in mine] + [abs(cost - twin_cost).item()])
    shapes = ", ".join(f"{name} {tuple(value.shape)}" for name, value in hand.params.items())
    return (f"{shapes}\n{activation.replace('_', ' ')}, {n_h} hidden units, {m} examples: hand-written cost and "
            f"gradients equal autograd's to within 1e-12: {gap < 1e-12}")
