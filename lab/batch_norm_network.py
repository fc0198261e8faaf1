"""A deep network with batch norm after every hidden layer — by hand, and its torch.nn twin — trained on the ten
digit classes, with what the lab watches while it trains: each hidden unit's input distribution, and what running
averages and batch statistics give at test time.

Hidden layer l computes Z = W^[l] A^[l−1], then Z̃ = γ^[l] ẑ + β^[l] (`lab.batch_norm`) and A^[l] = ReLU(Z̃); with
batch norm switched off, Z = W^[l] A^[l−1] + b^[l] and A^[l] = ReLU(Z). The output layer is softmax over C classes.
A batch-norm layer has no b: the mean it subtracts would cancel it, and β takes its place.

`BatchNormNetwork` (gradients by hand) and `TorchBatchNormNetwork` (torch.nn.Linear, torch.nn.BatchNorm1d,
autograd) share one constructor and one set of methods, so a test or a dashboard can swap them. Unlike the course's
other networks, their gradients are the true ∂J/∂θ: the 1/m of the cost is in dZ^[L] = (ŷ − y)/m, so dW = dZ A_prevᵀ
with no further division. X is (n_x, m), one example per column; Y holds class indices, (1, m) int64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lab.batch_norm import (
    STATISTICS,
    BatchNorm,
    BatchNormCache,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    mean_std,
    update_running_averages,
)
from lab.data.split import ThreeWaySplit
from lab.minibatch import random_mini_batches
from lab.params import validate
from lab.seeding import make_generator
from lab.softmax import cross_entropy, one_hot, softmax

# ---------------------------------------------------------------- the network, by hand


@dataclass(frozen=True)
class LayerCache:
    """What backward needs from hidden layer l's forward pass."""

    A_prev: torch.Tensor  # (n^[l−1], m) the layer's input
    Z: torch.Tensor  # (n^[l], m) W A_prev (+ b without batch norm)
    Z_tilde: torch.Tensor  # (n^[l], m) the ReLU's input: batch norm's γẑ + β, or Z itself without batch norm
    bn: BatchNormCache | None  # None without batch norm


def check_layer_dims(layer_dims: list[int] | tuple[int, ...]) -> tuple[int, ...]:
    """[n_x, n^[1], …, n^[L−1], C] with L = depth validated as a declared parameter and C ≥ 2 classes."""
    dims = tuple(layer_dims)
    if len(dims) < 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in dims):
        raise ValueError(f"The 'layer_dims' parameter must be ≥ 2 whole numbers ≥ 1. Got {list(layer_dims)!r} instead.")
    validate("depth", len(dims) - 1)
    if dims[-1] < 2:
        raise ValueError(f"The 'layer_dims' parameter must end with ≥ 2 classes. Got {list(layer_dims)!r} instead.")
    return dims


def network_dims(n_x: int, depth: int, hidden_units: int, n_y: int) -> tuple[int, ...]:
    """(n_x, n_h, …, n_h, n_y): `depth` layers with weights, all but the output layer `hidden_units` wide."""
    depth, hidden_units = validate("depth", depth), validate("hidden_units", hidden_units)
    return check_layer_dims((n_x, *([hidden_units] * (depth - 1)), n_y))


def he_weights(layer_dims: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype,
               device: torch.device | str) -> list[torch.Tensor]:
    """W^[l] = randn(n^[l], n^[l−1])·√(2/n^[l−1]) for l = 1 … L, drawn in float64 so every dtype starts equal."""
    return [(torch.randn(n_out, n_in, generator=generator, dtype=torch.float64) * math.sqrt(2 / n_in))
            .to(dtype=dtype, device=device) for n_in, n_out in zip(layer_dims[:-1], layer_dims[1:], strict=True)]


def check_group(group: int | None, m: int, update: bool) -> None:
    """Groups of `group` columns, each normalized with its own statistics, must divide the m columns, and are for
    test time only (no running averages are updated from them)."""
    if group is not None and (update or isinstance(group, bool) or not isinstance(group, int) or group < 1
                              or m % group):
        raise ValueError(f"The 'group' parameter must divide the m = {m} columns, and groups are for test time only "
                         f"(update=False). Got group={group!r}, update={update!r}.")


class BatchNormNetwork:
    """L − 1 hidden ReLU layers and a softmax output over C classes, forward and backward by hand.

    Hidden layer l: Z = W^[l] A^[l−1] (+ b^[l] without batch norm); with batch norm Z̃ = BN(Z) = γ^[l] ẑ + β^[l],
    else Z̃ = Z; A^[l] = ReLU(Z̃). Output: Z^[L] = W^[L] A^[L−1] + b^[L], ŷ = softmax(Z^[L]). He weights; b = 0,
    γ = 1, β = 0 at the start. Parameters in `params`: "W1", ("b1" | "gamma1", "beta1"), …, "WL", "bL".
    """

    def __init__(self, layer_dims: list[int] | tuple[int, ...], *, batch_norm: bool, eps: float = 1e-5,
                 momentum: float = 0.1, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        if not isinstance(batch_norm, bool):
            raise TypeError(f"The 'batch_norm' parameter must be True or False. Got {batch_norm!r} instead.")
        self.layer_dims, self.batch_norm = check_layer_dims(layer_dims), batch_norm
        self.eps, self.momentum = validate("bn_eps", eps), validate("bn_momentum", momentum)
        weights = he_weights(self.layer_dims, generator, dtype, device)
        self.params: dict[str, torch.Tensor] = {}
        self.norms: dict[int, BatchNorm] = {}  # hidden layer → its batch norm (running averages live there)
        for k, W in enumerate(weights, start=1):
            self.params[f"W{k}"] = W
            if batch_norm and k < self.num_layers:
                self.norms[k] = BatchNorm(W.shape[0], eps, momentum, dtype=dtype, device=device)
                self.params[f"gamma{k}"], self.params[f"beta{k}"] = self.norms[k].gamma, self.norms[k].beta
            else:
                self.params[f"b{k}"] = torch.zeros(W.shape[0], 1, dtype=dtype, device=device)

    @property
    def num_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.layer_dims) - 1

    def running_averages(self) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """Hidden layer → (running mean (n, 1), running variance (n, 1)); empty without batch norm."""
        return {k: (bn.running_mean, bn.running_var) for k, bn in self.norms.items()}

    def forward(self, X: torch.Tensor, statistics: str = "running", *, update: bool = False, group: int | None = None,
                ) -> tuple[torch.Tensor, list[LayerCache]]:
        """Logits Z^[L] (C, m) for X (n_x, m), and a LayerCache per hidden layer.

        statistics "batch": each batch-norm layer normalizes with the statistics of the columns of X (or, with
        `group` = b, of each run of b consecutive columns; m must be a multiple of b), and `update` folds them
        into the running averages (training); "running": with the running averages (test time).
        """
        if statistics not in STATISTICS:
            raise ValueError(f"The 'statistics' parameter must be one of {list(STATISTICS)}. Got {statistics!r}.")
        check_group(group, X.shape[1], update)
        p, A, caches = self.params, X, []
        for k in range(1, self.num_layers):
            Z = p[f"W{k}"] @ A  # (n^[k], m)
            bn_cache = None
            if k not in self.norms:
                Z = Z + p[f"b{k}"]
                Z_tilde = Z
            elif statistics == "running":
                bn = self.norms[k]
                Z_tilde = batch_norm_inference(Z, p[f"gamma{k}"], p[f"beta{k}"], bn.running_mean, bn.running_var,
                                               self.eps)
            else:
                grouped = Z if group is None else Z.reshape(Z.shape[0], -1, group)  # (n, G, b): G mini-batches
                Z_tilde, bn_cache, mu, var = batch_norm_forward(grouped, p[f"gamma{k}"], p[f"beta{k}"], self.eps)
                Z_tilde = Z_tilde.reshape(Z.shape)
                if update:
                    bn = self.norms[k]
                    bn.running_mean, bn.running_var = update_running_averages(
                        bn.running_mean, bn.running_var, mu, var, Z.shape[1], self.momentum)
            A_prev, A = A, torch.clamp(Z_tilde, min=0)  # ReLU
            caches.append(LayerCache(A_prev, Z, Z_tilde, bn_cache))
        L = self.num_layers
        return p[f"W{L}"] @ A + p[f"b{L}"], caches  # (C, m)

    def scores(self, X: torch.Tensor, statistics: str = "running", group: int | None = None) -> torch.Tensor:
        """Logits (C, m) for X (n_x, m) at test time: normalized with the running averages, or (to show why not)
        with the statistics of the batch itself, or of each group of `group` columns."""
        return self.forward(X, statistics, group=group)[0]

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ = softmax(Z^[L]) (C, m), with the running averages."""
        return softmax(self.scores(X))

    def hidden_inputs(self, X: torch.Tensor, statistics: str = "batch") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per hidden layer (Z (n, m), Z̃ (n, m)): z before batch norm, and what the ReLU receives (the same tensor
        without batch norm). Batch statistics of X by default, the running averages untouched."""
        return [(c.Z, c.Z_tilde) for c in self.forward(X, statistics)[1]]

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One training pass on the mini-batch X (n_x, m), Y (1, m) class indices: J (0-d) and ∂J/∂θ keyed like
        `params`. Batch-norm layers normalize with this mini-batch's statistics and update their running averages.
        """
        if self.norms and X.shape[1] < 2:
            raise ValueError(f"The 'batch_size' parameter must be at least 2 to train with batch norm: one example "
                             f"has σ² = 0 and ẑ = 0. Got a mini-batch of {X.shape[1]}.")
        ZL, caches = self.forward(X, "batch", update=True)
        p, L = self.params, self.num_layers
        cost = cross_entropy(ZL, Y)
        dZ = (softmax(ZL) - one_hot(Y, ZL.shape[0], ZL.dtype)) / X.shape[1]  # (C, m) = ∂J/∂Z^[L]
        A_last = caches[-1].Z_tilde.clamp(min=0) if caches else X  # (n^[L−1], m): the output layer's input
        grads = {f"W{L}": dZ @ A_last.T, f"b{L}": dZ.sum(dim=1, keepdim=True)}
        for k in range(L - 1, 0, -1):
            cache = caches[k - 1]
            dZ_tilde = (p[f"W{k + 1}"].T @ dZ) * (cache.Z_tilde > 0).to(dZ.dtype)  # (n^[k], m): back through ReLU
            if cache.bn is not None:
                dZ, grads[f"gamma{k}"], grads[f"beta{k}"] = batch_norm_backward(dZ_tilde, cache.bn)
            else:
                dZ = dZ_tilde
                grads[f"b{k}"] = dZ.sum(dim=1, keepdim=True)
            grads[f"W{k}"] = dZ @ cache.A_prev.T
        return cost, {name: grads[name] for name in p}

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """Gradient descent θ := θ − α·∂J/∂θ on every parameter, γ and β included."""
        lr = validate("lr", lr)
        self.params = {name: value - lr * grads[name] for name, value in self.params.items()}
        for k, bn in self.norms.items():
            bn.gamma, bn.beta = self.params[f"gamma{k}"], self.params[f"beta{k}"]


class TorchBatchNormNetwork(torch.nn.Module):
    """The same network from torch.nn.Linear and torch.nn.BatchNorm1d layers, with autograd; same constructor and
    methods as BatchNormNetwork and, given the same generator, the same starting weights."""

    def __init__(self, layer_dims: list[int] | tuple[int, ...], *, batch_norm: bool, eps: float = 1e-5,
                 momentum: float = 0.1, generator: torch.Generator, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        super().__init__()
        if not isinstance(batch_norm, bool):
            raise TypeError(f"The 'batch_norm' parameter must be True or False. Got {batch_norm!r} instead.")
        self.layer_dims, self.batch_norm = check_layer_dims(layer_dims), batch_norm
        self.eps, self.momentum = validate("bn_eps", eps), validate("bn_momentum", momentum)
        self.linears, self.norms = torch.nn.ModuleList(), torch.nn.ModuleDict()
        for k, W in enumerate(he_weights(self.layer_dims, generator, dtype, device), start=1):
            hidden_bn = batch_norm and k < self.num_layers
            linear = torch.nn.Linear(W.shape[1], W.shape[0], bias=not hidden_bn, dtype=dtype, device=device)
            with torch.no_grad():
                linear.weight.copy_(W)
                if linear.bias is not None:
                    linear.bias.zero_()
            self.linears.append(linear)
            if hidden_bn:
                self.norms[str(k)] = torch.nn.BatchNorm1d(W.shape[0], eps=self.eps, momentum=self.momentum,
                                                          dtype=dtype, device=device)

    @property
    def num_layers(self) -> int:
        return len(self.layer_dims) - 1

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Detached views in the course's shapes: W^[l] (n^[l], n^[l−1]), b, γ, β (n^[l], 1)."""
        out = {}
        for k, linear in enumerate(self.linears, start=1):
            out[f"W{k}"] = linear.weight.detach()
            if str(k) in self.norms:
                bn = self.norms[str(k)]
                out[f"gamma{k}"], out[f"beta{k}"] = bn.weight.detach().reshape(-1, 1), bn.bias.detach().reshape(-1, 1)
            else:
                out[f"b{k}"] = linear.bias.detach().reshape(-1, 1)
        return out

    def running_averages(self) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        return {int(k): (bn.running_mean.reshape(-1, 1), bn.running_var.reshape(-1, 1)) for k, bn in self.norms.items()}

    def _forward(self, X: torch.Tensor, statistics: str, update: bool, group: int | None = None,
                 ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Logits (C, m) and (Z, Z̃) per hidden layer in the course's (n, m) layout."""
        if statistics not in STATISTICS:
            raise ValueError(f"The 'statistics' parameter must be one of {list(STATISTICS)}. Got {statistics!r}.")
        check_group(group, X.shape[1], update)
        H, hidden = X.T, []  # torch.nn works on rows: (m, n)
        F = torch.nn.functional
        for k, linear in enumerate(self.linears, start=1):
            Z = linear(H)  # (m, n^[k])
            if k == self.num_layers:
                return Z.T, hidden
            Z_tilde = Z
            if str(k) in self.norms:
                bn = self.norms[str(k)]
                if statistics == "running":
                    Z_tilde = F.batch_norm(Z, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
                elif update:
                    Z_tilde = bn.train()(Z)
                elif (group or Z.shape[0]) == 1:  # torch refuses one example's statistics: ẑ = 0/√ε = 0, z̃ = β
                    Z_tilde = bn.bias.expand_as(Z)
                elif group is None:  # the batch's own statistics, running averages left alone
                    Z_tilde = F.batch_norm(Z, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
                else:  # groups of `group` rows as separate mini-batches: rows → (G, b, n) → (b, G·n)
                    G = Z.shape[0] // group
                    rows = Z.reshape(G, group, -1).permute(1, 0, 2).reshape(group, -1)
                    out = F.batch_norm(rows, None, None, bn.weight.repeat(G), bn.bias.repeat(G), True, 0.0, bn.eps)
                    Z_tilde = out.reshape(group, G, -1).permute(1, 0, 2).reshape(Z.shape)
            hidden.append((Z.T, Z_tilde.T))
            H = torch.relu(Z_tilde)
        raise AssertionError("unreachable: the output layer returns")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits (C, m) with the running averages."""
        return self._forward(X, "running", False)[0]

    def scores(self, X: torch.Tensor, statistics: str = "running", group: int | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self._forward(X, statistics, False, group)[0]

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.scores(X), dim=0)

    def hidden_inputs(self, X: torch.Tensor, statistics: str = "batch") -> list[tuple[torch.Tensor, torch.Tensor]]:
        with torch.no_grad():
            return self._forward(X, statistics, False)[1]

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self.zero_grad(set_to_none=True)
        with torch.enable_grad():
            cost = torch.nn.functional.cross_entropy(self._forward(X, "batch", True)[0].T, Y[0])
            cost.backward()
        grads = {}
        for k, linear in enumerate(self.linears, start=1):
            grads[f"W{k}"] = linear.weight.grad.clone()
            if str(k) in self.norms:
                bn = self.norms[str(k)]
                grads[f"gamma{k}"], grads[f"beta{k}"] = bn.weight.grad.reshape(-1, 1), bn.bias.grad.reshape(-1, 1)
            else:
                grads[f"b{k}"] = linear.bias.grad.reshape(-1, 1).clone()
        return cost.detach(), grads

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        lr = validate("lr", lr)
        with torch.no_grad():
            for k, linear in enumerate(self.linears, start=1):
                linear.weight -= lr * grads[f"W{k}"]
                if str(k) in self.norms:
                    bn = self.norms[str(k)]
                    bn.weight -= lr * grads[f"gamma{k}"].flatten()
                    bn.bias -= lr * grads[f"beta{k}"].flatten()
                else:
                    linear.bias -= lr * grads[f"b{k}"].flatten()


NETWORKS = {"by_hand": BatchNormNetwork, "torch_autograd": TorchBatchNormNetwork}


def make_network(n_x: int, n_y: int, *, batch_norm: bool, depth: int = 5, hidden_units: int = 32, seed: int = 0,
                 bn_momentum: float = 0.1, implementation: str = "by_hand", dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> BatchNormNetwork | TorchBatchNormNetwork:
    """A network of `depth` layers (`hidden_units` wide) with or without batch norm, weights drawn from `seed`."""
    if implementation not in NETWORKS:
        raise ValueError(f"The 'implementation' parameter must be one of {list(NETWORKS)}. Got {implementation!r}.")
    return NETWORKS[implementation](network_dims(n_x, depth, hidden_units, n_y), batch_norm=batch_norm,
                                    momentum=bn_momentum, generator=make_generator(seed), dtype=dtype, device=device)


def accuracy(network: BatchNormNetwork | TorchBatchNormNetwork, X: torch.Tensor, Y: torch.Tensor,
             statistics: str = "running") -> float:
    """Share of the m columns of X (n_x, m) whose most probable class is the label in Y (1, m)."""
    return (network.scores(X, statistics).argmax(dim=0) == Y[0]).to(torch.float64).mean().item()


# ---------------------------------------------------------------- training, and watching z drift


@dataclass(frozen=True)
class Snapshot:
    """Every hidden unit's input to its ReLU over a fixed probe batch of training examples, at one moment."""

    step: int  # steps taken when it was recorded (0: before training)
    epoch: float  # the same, in epochs
    relu_inputs: list[torch.Tensor]  # per hidden layer (n_h, probe) on the CPU: Z̃ with batch norm, else Z
    pre_norm: list[torch.Tensor] | None  # per hidden layer (n_h, probe): Z before batch norm; None without it


SNAPSHOT_FRACTIONS = (0.0, 0.125, 0.25, 0.5, 1.0)  # when a run records its snapshots, as fractions of its steps


def snapshot_steps(num_steps: int, fractions: tuple[float, ...] = SNAPSHOT_FRACTIONS) -> list[int]:
    """The distinct step counts round(f·num_steps) for the fractions f, ascending (0 is before the first step)."""
    return sorted({round(f * num_steps) for f in fractions})


def epoch_steps(m: int, batch_size: int) -> int:
    """Steps in one epoch of m examples: ⌈m / batch_size⌉, less a last mini-batch of a single example (dropped)."""
    batch_size = validate("batch_size", batch_size)
    return m // batch_size + (1 if m % batch_size >= 2 else 0)


class BatchNormTraining:
    """A `lab.training.Trainable`: each `step()` is one mini-batch gradient-descent update of `network`.

    The training columns are reshuffled from `seed` every epoch; a last mini-batch of a single example is left
    out (with batch norm its ẑ would be 0, and torch refuses it), for the network without batch norm as well, so
    both see the same batches. Each `evaluate()` uses the running averages and is kept in `evaluations` as
    (epoch, metrics). Snapshots of the hidden layers on the first `probe_size` training examples are kept in
    `snapshots` before training and after the steps `snapshot_steps(num_steps)`; `num_steps` is `num_epochs`
    epochs' worth, the number to hand the training loop.
    """

    def __init__(self, network: BatchNormNetwork | TorchBatchNormNetwork, data: ThreeWaySplit, *, lr: float,
                 batch_size: int, num_epochs: int, seed: int = 0, probe_size: int = 256):
        self.network, self.data = network, data
        self.lr, self.num_epochs = validate("lr", lr), validate("num_epochs", num_epochs)
        m = data.X_train.shape[1]
        self.batch_size = validate("batch_size", batch_size)
        minimum = 2 if network.batch_norm else 1
        if not minimum <= self.batch_size <= m:
            raise ValueError(f"The 'batch_size' parameter must be in [{minimum}, m = {m}]"
                             f"{' with batch norm' if network.batch_norm else ''}. Got {batch_size!r} instead.")
        self.steps_per_epoch = epoch_steps(m, self.batch_size)
        self.num_steps = self.num_epochs * self.steps_per_epoch  # what the training loop should be given
        self.generator = make_generator(validate("seed", seed))
        self.probe = data.X_train[:, :probe_size]  # (n_x, probe): the same examples at every snapshot
        self.steps_done = 0
        self.evaluations: list[tuple[float, dict[str, float]]] = []
        self.snapshots: list[Snapshot] = []
        self._when = set(snapshot_steps(self.num_steps))
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._snapshot()

    def _snapshot(self) -> None:
        layers = self.network.hidden_inputs(self.probe)  # batch statistics of the probe, as in training
        pre = [Z.detach().cpu() for Z, _ in layers] if self.network.batch_norm else None
        self.snapshots.append(Snapshot(self.steps_done, self.steps_done / self.steps_per_epoch,
                                       [Zt.detach().cpu() for _, Zt in layers], pre))

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if not self._batches:  # a new epoch, a new order; a batch of one example is dropped
            batches = random_mini_batches(self.data.X_train, self.data.Y_train, self.batch_size, self.generator)
            self._batches = [b for b in batches if b[0].shape[1] >= 2][::-1]  # popped from the end
        X_t, Y_t = self._batches.pop()  # (n_x, b), (1, b)
        cost, grads = self.network.cost_and_gradients(X_t, Y_t)
        self.network.update(grads, self.lr)
        self.steps_done += 1
        if self.steps_done in self._when:
            self._snapshot()
        return cost, grads

    def evaluate(self) -> dict[str, float]:
        d, net = self.data, self.network
        metrics = {"train_accuracy": accuracy(net, d.X_train, d.Y_train),
                   "dev_accuracy": accuracy(net, d.X_dev, d.Y_dev),
                   "train_cost": cross_entropy(net.scores(d.X_train), d.Y_train).item()}
        self.evaluations.append((self.steps_done / self.steps_per_epoch, metrics))
        return metrics


@dataclass(frozen=True)
class UnitHistory:
    """One hidden unit's values over the probe batch at each snapshot of a run."""

    layer: int  # the hidden layer shown (1-based): the one asked for, or the network's last
    unit: int  # the unit shown (1-based)
    epochs: list[float]  # when each snapshot was taken
    relu_inputs: list[list[float]]  # per snapshot (probe,): what the ReLU received
    pre_norm: list[list[float]] | None  # per snapshot (probe,): z before batch norm; None without it


def unit_history(snapshots: list[Snapshot], watch_layer: int = 1, watch_unit: int = 1) -> UnitHistory:
    """The values of hidden unit `watch_unit` of layer `watch_layer` at each snapshot; a layer (unit) beyond the
    network's is clamped to its last. Non-finite values (a diverged run) are dropped."""
    watch_layer, watch_unit = validate("watch_layer", watch_layer), validate("watch_unit", watch_unit)
    if not snapshots or not snapshots[0].relu_inputs:
        raise ValueError("The 'snapshots' parameter must hold at least one snapshot of a network with hidden layers.")
    layer = min(watch_layer, len(snapshots[0].relu_inputs))
    unit = min(watch_unit, snapshots[0].relu_inputs[layer - 1].shape[0])

    def values(t: torch.Tensor) -> list[float]:
        row = t[unit - 1].double()
        return row[torch.isfinite(row)].tolist()

    pre = [values(s.pre_norm[layer - 1]) for s in snapshots] if snapshots[0].pre_norm is not None else None
    return UnitHistory(layer, unit, [s.epoch for s in snapshots], [values(s.relu_inputs[layer - 1]) for s in snapshots],
                       pre)


def drift(snapshots: list[list[float]]) -> dict[str, float]:
    """How far a unit's values moved over training, from its values at each snapshot (first to last): mean and
    spread (÷m) at both ends, and how far apart the snapshots' means lie (largest minus smallest), in units of the
    first snapshot's spread. NaN where a snapshot has no finite values (a run that diverged)."""
    stats = [mean_std(v) if v else (math.nan, math.nan) for v in snapshots]
    means = [m for m, _ in stats if math.isfinite(m)]
    first_std = stats[0][1] if stats[0][1] > 0 else math.nan
    return {"first_mean": stats[0][0], "first_std": stats[0][1], "last_mean": stats[-1][0], "last_std": stats[-1][1],
            "mean_range": (max(means) - min(means)) / first_std if means else math.nan}


# ---------------------------------------------------------------- test time: running averages vs batch statistics


@dataclass(frozen=True)
class StatisticsComparison:
    """Dev accuracy at one test batch size with the running averages and with each batch's own statistics."""

    test_batch_size: int  # examples per test batch
    running_accuracy: float  # the same for every batch size: each example is normalized on its own
    batch_accuracies: list[float]  # one per shuffle of the examples into batches
    changed: float  # share of examples whose predicted class differs between shuffles (0 with running averages)
    constant_answer: int | None  # with a batch of one: the class the network answers for every example


def _batch_predictions(network, X: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Predicted classes (m,) when X's columns are cut into consecutive batches of `batch_size` (the last one
    smaller) and each batch is normalized with its own statistics."""
    m = X.shape[1]
    full = m - m % batch_size
    parts = []
    if full:
        parts.append(network.scores(X[:, :full], "batch", group=batch_size).argmax(dim=0))
    if full < m:
        parts.append(network.scores(X[:, full:], "batch").argmax(dim=0))
    return torch.cat(parts)


def compare_statistics(network: BatchNormNetwork | TorchBatchNormNetwork, X: torch.Tensor, Y: torch.Tensor,
                       batch_sizes: tuple[int, ...] = (1, 2, 8, 64), shuffles: int = 5, seed: int = 0,
                       ) -> list[StatisticsComparison]:
    """For each test batch size: the examples X (n_x, m), Y (1, m) shuffled `shuffles` times (from `seed`) and cut
    into batches; accuracy with each batch's own statistics, and with the running averages."""
    seed = validate("seed", seed)
    if not network.batch_norm:
        raise ValueError("The 'network' parameter must use batch norm: without it there are no statistics to choose.")
    if isinstance(shuffles, bool) or not isinstance(shuffles, int) or shuffles < 1:
        raise ValueError(f"The 'shuffles' parameter must be a whole number ≥ 1. Got {shuffles!r} instead.")
    m, labels = X.shape[1], Y[0]
    running = (network.scores(X).argmax(dim=0) == labels).double().mean().item()
    generator = make_generator(seed)
    orders = [torch.randperm(m, generator=generator).to(X.device) for _ in range(shuffles)]
    results = []
    for b in batch_sizes:
        b = validate("batch_size", b)
        predictions = []
        for order in orders:
            predicted = torch.empty_like(labels)
            predicted[order] = _batch_predictions(network, X[:, order], b)  # back in the original order
            predictions.append(predicted)
        stacked = torch.stack(predictions)  # (shuffles, m)
        accuracies = (stacked == labels).double().mean(dim=1).tolist()
        changed = (stacked != stacked[0]).any(dim=0).double().mean().item()
        constant = int(stacked[0, 0]) if b == 1 and bool((stacked == stacked[0, 0]).all()) else None
        results.append(StatisticsComparison(b, running, accuracies, changed, constant))
    return results
