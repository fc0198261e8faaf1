"""An L-layer network for binary labels, written out by hand in the course's notation — and its torch.nn twin.

Layer l computes Z^[l] = W^[l] A^[l−1] + b^[l] and A^[l] = g(Z^[l]), with A^[0] = X (n^[0], m). The hidden
layers use one activation g (sigmoid, tanh, ReLU or Leaky ReLU); the output layer uses σ, so
A^[L] = ŷ (1, m). Two regularizers are built in:

- L2: the cost gets + (λ/2m)·Σ_l ‖W^[l]‖²_F, so each gradient gets + (λ/m)·W^[l] and the update is
  W := (1 − αλ/m)·W − α·dW ("weight decay").
- Inverted dropout: during training each hidden *unit* (an entry of A^[l], not a weight) is kept with
  probability keep_prob and the survivors are divided by keep_prob, so E[A^[l]] is unchanged. Prediction
  never drops anything.

`DeepNetwork` (by hand) and `TorchDeepNetwork` (torch.nn + autograd) share their constructor and methods,
so a test or a dashboard can swap one for the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.activations import activation as activation_pair
from lab.activations import dead_fraction
from lab.initialization import initialize_parameters
from lab.params import validate
from lab.seeding import make_generator


@dataclass(frozen=True)
class LayerCache:
    """What backward needs from layer l's forward pass."""

    A_prev: torch.Tensor  # (n^[l−1], m) the layer's input, after the previous layer's dropout
    Z: torch.Tensor  # (n^[l], m) pre-activation
    A: torch.Tensor  # (n^[l], m) output g(Z), after dropout and 1/keep_prob scaling
    D: torch.Tensor | None  # (n^[l], m) dropout keep-mask of 0s and 1s, None where nothing was dropped


def check_regularization(lambd: float, keep_prob: float) -> tuple[float, float]:
    """Validate λ ≥ 0 and keep_prob in (0, 1]; returns them."""
    return validate("lambd", lambd), validate("keep_prob", keep_prob)


def dropout_mask(shape: tuple[int, int], keep_prob: float, generator: torch.Generator | None, like: torch.Tensor,
                 ) -> torch.Tensor:
    """A keep-mask D (shape) of 1s with probability keep_prob and 0s otherwise, drawn from `generator`."""
    keep_prob = validate("keep_prob", keep_prob)
    if keep_prob < torch.finfo(like.dtype).tiny:  # it would round to 0 in like's dtype, and A·0 / 0 is NaN
        raise ValueError(f"The 'keep_prob' parameter must be at least {torch.finfo(like.dtype).tiny:.4g} for "
                         f"{like.dtype} activations. Got {keep_prob!r} instead.")
    if generator is None:
        raise ValueError("Dropout (keep_prob < 1) needs a 'generator': pass lab.seeding.make_generator(seed).")
    U = torch.rand(shape, generator=generator, dtype=like.dtype, device=generator.device).to(like.device)
    return (keep_prob > U).to(like.dtype)


def forward_propagation(params: dict[str, torch.Tensor], X: torch.Tensor, activation: str = "relu",
                        keep_prob: float = 1.0, generator: torch.Generator | None = None,
                        ) -> tuple[torch.Tensor, list[LayerCache]]:
    """A^[L] = ŷ (1, m) for X (n^[0], m), and one LayerCache per layer (L of them).

    With keep_prob < 1 every hidden layer's A^[l] is multiplied by a fresh keep-mask D^[l] and divided by
    keep_prob (inverted dropout); masks are drawn layer by layer from `generator`.
    """
    keep_prob = validate("keep_prob", keep_prob)
    g, _ = activation_pair(activation)
    L = len(params) // 2
    caches: list[LayerCache] = []
    A = X  # (n^[0], m)
    for k in range(1, L + 1):
        A_prev = A
        Z = params[f"W{k}"] @ A_prev + params[f"b{k}"]  # (n^[l], m)
        if k == L:
            A, D = torch.sigmoid(Z), None  # (1, m)
        else:
            A, D = g(Z), None
            if keep_prob < 1.0:
                D = dropout_mask(tuple(A.shape), keep_prob, generator, A)
                A = A * D / keep_prob  # the survivors make up for the dropped units
        caches.append(LayerCache(A_prev, Z, A, D))
    return A, caches


def compute_cost(ZL: torch.Tensor, Y: torch.Tensor, params: dict[str, torch.Tensor], lambd: float = 0.0,
                 ) -> torch.Tensor:
    """J = −(1/m) Σ [y log ŷ + (1 − y) log(1 − ŷ)] + (λ/2m) Σ_l ‖W^[l]‖²_F, a 0-d tensor.

    Computed from the output pre-activation ZL (1, m) as mean(softplus(z) − y·z), equal to the textbook
    form but finite where ŷ rounds to exactly 0 or 1.
    """
    lambd = validate("lambd", lambd)
    m = Y.shape[1]
    cross_entropy = (torch.nn.functional.softplus(ZL) - Y * ZL).mean()
    if lambd == 0:
        return cross_entropy
    L = len(params) // 2
    squares = sum((params[f"W{k}"] ** 2).sum() for k in range(1, L + 1))
    return cross_entropy + lambd / (2 * m) * squares


def backward_propagation(AL: torch.Tensor, Y: torch.Tensor, caches: list[LayerCache], params: dict[str, torch.Tensor],
                         activation: str = "relu", lambd: float = 0.0, keep_prob: float = 1.0,
                         ) -> dict[str, torch.Tensor]:
    """Gradients {"dW1": (n^[1], n^[0]), "db1": (n^[1], 1), …} of `compute_cost` with the same λ.

    Output layer (σ with cross-entropy): dZ^[L] = A^[L] − Y. Then for l = L … 1:
    dW^[l] = dZ^[l] A^[l−1]ᵀ / m + (λ/m) W^[l] · db^[l] = Σ_columns dZ^[l] / m · dA^[l−1] = W^[l]ᵀ dZ^[l],
    dA^[l−1] := dA^[l−1] * D^[l−1] / keep_prob (the same units dropped as in forward) ·
    dZ^[l−1] = dA^[l−1] * g′(Z^[l−1]).
    """
    lambd, keep_prob = check_regularization(lambd, keep_prob)
    _, g_prime = activation_pair(activation)
    L, m = len(caches), Y.shape[1]
    grads: dict[str, torch.Tensor] = {}
    dZ = AL - Y  # (1, m)
    for k in range(L, 0, -1):
        cache, W = caches[k - 1], params[f"W{k}"]
        grads[f"dW{k}"] = dZ @ cache.A_prev.T / m + (lambd / m) * W  # (n^[l], n^[l−1])
        grads[f"db{k}"] = dZ.sum(dim=1, keepdim=True) / m  # (n^[l], 1)
        if k > 1:
            dA_prev = W.T @ dZ  # (n^[l−1], m)
            below = caches[k - 2]
            if below.D is not None:
                dA_prev = dA_prev * below.D / keep_prob
            dZ = dA_prev * g_prime(below.Z)  # (n^[l−1], m)
    return grads


def update_parameters(params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], lr: float,
                      ) -> dict[str, torch.Tensor]:
    """Gradient descent: W^[l] := W^[l] − α dW^[l], b^[l] := b^[l] − α db^[l]; returns new tensors."""
    lr = validate("lr", lr)
    return {name: value - lr * grads[f"d{name}"] for name, value in params.items()}


def distinct_units(W: torch.Tensor, tolerance: float = 1e-6) -> int:
    """How many different rows W (n, k) has: the number of hidden units that compute different things.

    Two rows count as the same when no entry differs by more than `tolerance` × (1 + max |W|).
    """
    if W.shape[0] == 0:
        return 0
    gap = torch.cdist(W.double(), W.double(), p=float("inf"))  # (n, n) largest entry difference
    same = gap <= tolerance * (1 + W.abs().max().item())
    unassigned, groups = torch.ones(W.shape[0], dtype=torch.bool, device=W.device), 0
    for i in range(W.shape[0]):
        if unassigned[i]:
            groups += 1
            unassigned &= ~same[i]
    return groups


def _report(layers: list[tuple[torch.Tensor, torch.Tensor]], dWs: list[torch.Tensor]) -> dict[str, list[float]]:
    """Per-layer numbers from (Z, A) pairs and weight gradients, one host sync."""
    rows = []
    for (Z, A), dW in zip(layers, dWs, strict=True):
        rows.append(torch.stack([A.std(), A.abs().mean(), Z.std(), dW.pow(2).mean().sqrt()]).double())
    values = torch.stack(rows).cpu().tolist()
    return {"activation_std": [v[0] for v in values], "activation_mean_abs": [v[1] for v in values],
            "z_std": [v[2] for v in values], "gradient_rms": [v[3] for v in values],
            "dead_fraction": [dead_fraction(Z) for Z, _ in layers[:-1]]}


class DeepNetwork:
    """An L-layer network by hand: layer_dims = [n^[0], n^[1], …, n^[L]] with n^[L] = 1.

    Parameters live in `params` ({"W1": (n^[1], n^[0]), "b1": (n^[1], 1), …}), initialised with
    `lab.initialization.initialize_parameters` from `generator`.
    """

    def __init__(self, layer_dims: list[int] | tuple[int, ...], activation: str = "relu", init_scheme: str = "he",
                 init_factor: float = 0.01, *, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        if layer_dims[-1] != 1:
            raise ValueError(f"The output layer must have 1 unit for binary labels. Got {list(layer_dims)} instead.")
        self.layer_dims = tuple(int(n) for n in layer_dims)
        self.activation = validate("activation", activation)
        self.params = initialize_parameters(self.layer_dims, init_scheme, init_factor, generator, dtype, device)

    @property
    def num_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.layer_dims) - 1

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ = A^[L] (1, m) for X (n^[0], m), with no dropout (evaluation)."""
        return forward_propagation(self.params, X, self.activation)[0]

    def scores(self, X: torch.Tensor) -> torch.Tensor:
        """The output pre-activation Z^[L] (1, m), with no dropout: ŷ = σ(Z^[L])."""
        return forward_propagation(self.params, X, self.activation)[1][-1].Z

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor, *, lambd: float = 0.0, keep_prob: float = 1.0,
                           generator: torch.Generator | None = None,
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """J (0-d) on X (n^[0], m), Y (1, m) and {"W1": dJ/dW1, "b1": dJ/db1, …} keyed like `params`."""
        lambd, keep_prob = check_regularization(lambd, keep_prob)
        AL, caches = forward_propagation(self.params, X, self.activation, keep_prob, generator)
        cost = compute_cost(caches[-1].Z, Y, self.params, lambd)
        grads = backward_propagation(AL, Y, caches, self.params, self.activation, lambd, keep_prob)
        return cost, {name: grads[f"d{name}"] for name in self.params}

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """One gradient-descent step with gradients keyed like `params`."""
        self.params = update_parameters(self.params, {f"d{k}": v for k, v in grads.items()}, lr)

    def layer_report(self, X: torch.Tensor, Y: torch.Tensor) -> dict[str, list[float]]:
        """Per layer l = 1 … L: spread of A^[l] and Z^[l], RMS of dW^[l], and (hidden layers) dead-unit share.

        Keys: activation_std, activation_mean_abs, z_std, gradient_rms (L values each), dead_fraction (L − 1).
        No dropout, no λ: this is the network as it stands.
        """
        AL, caches = forward_propagation(self.params, X, self.activation)
        grads = backward_propagation(AL, Y, caches, self.params, self.activation)
        return _report([(c.Z, c.A) for c in caches], [grads[f"dW{k}"] for k in range(1, len(caches) + 1)])

    def state(self) -> dict[str, torch.Tensor]:
        """A copy of the parameters (for early stopping's "best weights")."""
        return {name: value.clone() for name, value in self.params.items()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.params = {name: value.clone() for name, value in state.items()}


def linear_layers(params: dict[str, torch.Tensor]) -> torch.nn.ModuleList:
    """`torch.nn.Linear` layers holding the course's W1, b1, W2, b2, … (W^[l]: (n^[l], n^[l−1]), b^[l]: (n^[l], 1)):
    the torch twin of a hand-written network starts from the very same numbers."""
    layers = torch.nn.ModuleList()
    for k in range(1, len(params) // 2 + 1):
        W = params[f"W{k}"]  # (n^[k], n^[k−1])
        layer = torch.nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype, device=W.device)
        with torch.no_grad():
            layer.weight.copy_(W)
            layer.bias.copy_(params[f"b{k}"].flatten())
        layers.append(layer)
    return layers


class TorchDeepNetwork(torch.nn.Module):
    """The same network with torch.nn.Linear layers and autograd; same constructor and methods as DeepNetwork.

    Given the same generator it starts from the same weights and drops the same units, so its gradients
    must equal the hand-written ones.
    """

    def __init__(self, layer_dims: list[int] | tuple[int, ...], activation: str = "relu", init_scheme: str = "he",
                 init_factor: float = 0.01, *, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        super().__init__()
        if layer_dims[-1] != 1:
            raise ValueError(f"The output layer must have 1 unit for binary labels. Got {list(layer_dims)} instead.")
        self.layer_dims = tuple(int(n) for n in layer_dims)
        self.activation = validate("activation", activation)
        start = initialize_parameters(self.layer_dims, init_scheme, init_factor, generator, dtype, device)
        self.layers = linear_layers(start)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Detached views in the course's shapes: W^[l] (n^[l], n^[l−1]), b^[l] (n^[l], 1)."""
        out = {}
        for k, layer in enumerate(self.layers, start=1):
            out[f"W{k}"], out[f"b{k}"] = layer.weight.detach(), layer.bias.detach().reshape(-1, 1)
        return out

    def _g(self, Z: torch.Tensor) -> torch.Tensor:
        F = torch.nn.functional
        return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
                "leaky_relu": lambda z: F.leaky_relu(z, 0.01)}[self.activation](Z)

    def _forward(self, X: torch.Tensor, keep_prob: float = 1.0, generator: torch.Generator | None = None,
                 ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(Z, A) per layer in the course's (n, m) layout; the last Z is the output score (1, m)."""
        H, layers = X.T, []  # torch.nn works on rows: (m, n)
        for k, layer in enumerate(self.layers, start=1):
            Z = layer(H)  # (m, n^[l])
            if k == self.num_layers:
                layers.append((Z.T, torch.sigmoid(Z).T))
                break
            H = self._g(Z)
            if keep_prob < 1.0:  # the same mask as the hand-written net: drawn in (n, m) layout
                H = H * dropout_mask((Z.shape[1], Z.shape[0]), keep_prob, generator, H).T / keep_prob
            layers.append((Z.T, H.T))
        return layers

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ (1, m) for X (n^[0], m), no dropout."""
        return self._forward(X)[-1][1]

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.forward(X)

    def scores(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self._forward(X)[-1][0]

    def _cost(self, ZL: torch.Tensor, Y: torch.Tensor, lambd: float) -> torch.Tensor:
        cost = torch.nn.functional.binary_cross_entropy_with_logits(ZL, Y)
        if lambd:
            cost = cost + lambd / (2 * Y.shape[1]) * sum((layer.weight ** 2).sum() for layer in self.layers)
        return cost

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor, *, lambd: float = 0.0, keep_prob: float = 1.0,
                           generator: torch.Generator | None = None,
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        lambd, keep_prob = check_regularization(lambd, keep_prob)
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():
            cost = self._cost(self._forward(X, keep_prob, generator)[-1][0], Y, lambd)
            cost.backward()
        grads = {}
        for k, layer in enumerate(self.layers, start=1):
            grads[f"W{k}"], grads[f"b{k}"] = layer.weight.grad.clone(), layer.bias.grad.reshape(-1, 1).clone()
        return cost.detach(), grads

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        with torch.no_grad():
            for k, layer in enumerate(self.layers, start=1):
                layer.weight -= lr * grads[f"W{k}"]
                layer.bias -= lr * grads[f"b{k}"].flatten()

    def layer_report(self, X: torch.Tensor, Y: torch.Tensor) -> dict[str, list[float]]:
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():
            layers = self._forward(X)
            self._cost(layers[-1][0], Y, 0.0).backward()
        return _report([(Z.detach(), A.detach()) for Z, A in layers], [layer.weight.grad for layer in self.layers])

    def state(self) -> dict[str, torch.Tensor]:
        return {name: value.clone() for name, value in self.params.items()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for k, layer in enumerate(self.layers, start=1):
                layer.weight.copy_(state[f"W{k}"])
                layer.bias.copy_(state[f"b{k}"].flatten())


NETWORKS = {"scratch": DeepNetwork, "torch": TorchDeepNetwork}


def accuracy(network: DeepNetwork | TorchDeepNetwork, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Share of the m columns where ŷ > 0.5 matches Y (1, m)."""
    return ((network.predict_proba(X) > 0.5).to(Y.dtype) == Y).to(torch.float64).mean().item()


def cross_entropy(network: DeepNetwork | TorchDeepNetwork, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Plain cross-entropy J on (X, Y) with no λ term and no dropout: the number to compare train vs dev on."""
    return compute_cost(network.scores(X), Y, {}).item()


class DeepNetworkTask:
    """Full-batch gradient descent on a DeepNetwork, for `lab.training.train`: one step = one epoch.

    Each step draws fresh dropout masks from a generator seeded with `seed`; `evaluate` reports
    accuracy and plain cross-entropy on the training set and, if given, the dev set.
    """

    def __init__(self, network: DeepNetwork | TorchDeepNetwork, X_train: torch.Tensor, Y_train: torch.Tensor,
                 lr: float, *, lambd: float = 0.0, keep_prob: float = 1.0, seed: int = 0,
                 X_dev: torch.Tensor | None = None, Y_dev: torch.Tensor | None = None):
        self.network, self.X_train, self.Y_train = network, X_train, Y_train
        self.X_dev, self.Y_dev = X_dev, Y_dev
        self.lr = validate("lr", lr)
        self.lambd, self.keep_prob = check_regularization(lambd, keep_prob)
        self.generator = make_generator(seed, device=X_train.device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        cost, grads = self.network.cost_and_gradients(self.X_train, self.Y_train, lambd=self.lambd,
                                                      keep_prob=self.keep_prob, generator=self.generator)
        self.network.update(grads, self.lr)
        return cost, grads

    def evaluate(self) -> dict[str, float]:
        metrics = {"train_accuracy": accuracy(self.network, self.X_train, self.Y_train),
                   "train_cost": cross_entropy(self.network, self.X_train, self.Y_train)}
        if self.X_dev is not None:
            metrics["dev_accuracy"] = accuracy(self.network, self.X_dev, self.Y_dev)
            metrics["dev_cost"] = cross_entropy(self.network, self.X_dev, self.Y_dev)
        return metrics


def gradient_check_report(layer_dims: list[int], activation: str = "relu", m: int = 32, lambd: float = 0.5,
                          keep_prob: float = 0.8, seed: int = 0) -> str:
    """Shapes of a DeepNetwork's parameters and the largest gap between its hand-written gradients and the
    autograd gradients of its torch.nn twin (float64, same weights, same dropout masks), as text."""
    generator = make_generator(seed)
    X = torch.rand(layer_dims[0], m, generator=generator, dtype=torch.float64)  # (n^[0], m)
    Y = (torch.rand(1, m, generator=generator, dtype=torch.float64) > 0.5).to(torch.float64)  # (1, m)
    hand = DeepNetwork(layer_dims, activation, "he", generator=make_generator(seed + 1), dtype=torch.float64)
    twin = TorchDeepNetwork(layer_dims, activation, "he", generator=make_generator(seed + 1), dtype=torch.float64)
    _, mine = hand.cost_and_gradients(X, Y, lambd=lambd, keep_prob=keep_prob, generator=make_generator(seed + 2))
    _, theirs = twin.cost_and_gradients(X, Y, lambd=lambd, keep_prob=keep_prob, generator=make_generator(seed + 2))
    gap = max((mine[name] - theirs[name]).abs().max().item() for name in mine)
    shapes = ", ".join(f"{name} {tuple(value.shape)}" for name, value in hand.params.items())
    return (f"{shapes}\nλ = {lambd}, keep-prob = {keep_prob}: hand-written gradients equal autograd's "
            f"to within 1e-12: {gap < 1e-12}")


def probability_grid(network: DeepNetwork | TorchDeepNetwork, X: torch.Tensor, steps: int = 60, margin: float = 0.5,
                     ) -> tuple[list[float], list[float], list[list[float]]]:
    """ŷ over a steps × steps grid covering the 2-D points X (2, m) plus `margin`: (xs, ys, P) with P[i][j] = ŷ at
    (xs[j], ys[i]) — what a decision-boundary plot draws (the boundary is where ŷ = 0.5)."""
    if X.shape[0] != 2:
        raise ValueError(f"A decision boundary needs 2-D inputs. Got X with {X.shape[0]} features.")
    low, high = X.min(dim=1).values - margin, X.max(dim=1).values + margin  # (2,)
    xs = torch.linspace(low[0].item(), high[0].item(), steps, dtype=X.dtype, device=X.device)
    ys = torch.linspace(low[1].item(), high[1].item(), steps, dtype=X.dtype, device=X.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (steps, steps)
    P = network.predict_proba(torch.stack([gx.flatten(), gy.flatten()]))  # (1, steps²)
    return xs.tolist(), ys.tolist(), P.reshape(steps, steps).double().cpu().round(decimals=3).tolist()
