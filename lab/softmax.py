"""Softmax and multi-class cross-entropy, and a softmax network on C classes — by hand, and its torch.nn twin.

Softmax turns a column of C scores (logits) z into C probabilities that sum to 1:

    t = e^z (elementwise),    a_i = t_i / Σ_j t_j

A computer cannot take that formula literally: e^z overflows float32 above z ≈ 88.7 (float64 above ≈ 709.8),
and inf / inf is NaN. Since adding one number c to every logit multiplies every t_i by e^c, which cancels,
softmax(z) = softmax(z − c); with c = max(z) every exponent is ≤ 0, the largest t is exactly 1, and nothing
overflows. (ERRATA 11: the notes write the denominator as Σ_j t_i, and never mention the overflow.)

With one-hot labels y (C, m) the loss of one example is L = −Σ_k y_k log ŷ_k = −log ŷ_(true class), the cost J
is its mean over the m examples, and the gradient at the output is as short as logistic regression's:
dZ = ŷ − y (C, m), which the layers below receive divided by m.

`SoftmaxNetwork` (gradients by hand) and `TorchSoftmaxNetwork` (torch.nn + autograd) share one constructor and
one set of methods, so a test or a dashboard can swap them. With n_h = 0 hidden units the network is softmax
regression, Z = W¹X + b¹; with n_h > 0 it is Z¹ = W¹X + b¹, A¹ = ReLU(Z¹), Z = W²A¹ + b². X is (n_x, m), one
example per column; Y holds class indices, (1, m) int64.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from lab.data.split import ThreeWaySplit
from lab.deep_network import linear_layers
from lab.initialization import initialize_parameters
from lab.minibatch import check_batch_size, num_mini_batches, random_mini_batches
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("logit", "Logit z", "A score before softmax: any real number from −10⁶ to 10⁶.", 0.0,
          low=-1e6, high=1e6, step=0.1, ui_low=-10.0, ui_high=10.0),
    Param("softmax_temperature", "Temperature T", "Softmax of z / T: T > 1 flattens the probabilities, T < 1 "
          "sharpens them towards the largest logit.", 1.0, low=0.01, high=100.0, log=True, ui_low=0.1, ui_high=10.0),
    Param("logit_shift", "Add c to every logit", "The same number added to all logits: softmax does not change, "
          "but e^z in the naive formula overflows.", 0.0, low=-1e6, high=1e6, step=1.0, ui_low=0.0, ui_high=1000.0),
    Param("softmax_hidden_units", "Hidden units (0 = softmax regression)", "Width of the ReLU hidden layer; 0 "
          "removes it, which leaves softmax regression.", 0, low=0, high=1024, step=1, integer=True, ui_high=128),
    Param("softmax_implementation", "Implementation", "Gradients written by hand (dZ = ŷ − y) or torch.nn with "
          "autograd: the same network, the same numbers.", "by_hand", options=("by_hand", "torch_autograd")),
)

MAX_TYPED_LOGITS = 20  # how many typed logits a learner may compare at once (bars stay readable)


# ---------------------------------------------------------------- softmax itself


def softmax(z: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Probabilities along `dim` (the class axis; 0 for the course's (C, m) columns), same shape as z.

    Computed as t = e^(z − max z), a = t / Σ t: equal to t_i / Σ_j t_j with t = e^z, but finite for any finite z.
    """
    t = torch.exp(z - z.amax(dim=dim, keepdim=True))  # every exponent ≤ 0: no overflow
    return t / t.sum(dim=dim, keepdim=True)


def naive_softmax(z: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """e^z / Σ e^z exactly as written: NaN once e^z overflows (z > 88.7 in float32). For showing the failure."""
    t = torch.exp(z)
    return t / t.sum(dim=dim, keepdim=True)


def log_softmax(z: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log softmax(z) = (z − max z) − log Σ e^(z − max z), finite where softmax rounds to 0."""
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def softmax_with_temperature(z: torch.Tensor, temperature: float, dim: int = 0) -> torch.Tensor:
    """softmax(z / T): T → 0 puts all the probability on the largest logit, T → ∞ spreads it evenly."""
    return softmax(z / validate("softmax_temperature", temperature), dim)


@dataclass(frozen=True)
class SoftmaxComparison:
    """The lab's softmax and the naive formula on the same logits, for one column of C logits."""

    scaled: list[float]  # z / T (C,)
    exps: list[float]  # t = e^(z/T) as the naive formula computes it: inf where it overflowed
    shifted_exps: list[float]  # e^(z/T − max): what the lab's softmax divides by their sum
    probabilities: list[float]  # the lab's softmax (C,)
    naive: list[float]  # the naive formula (C,): NaN where inf / inf

    @property
    def overflowed(self) -> bool:
        return not all(math.isfinite(v) for v in self.exps)


def compare_softmax(logits: list[float] | tuple[float, ...], temperature: float = 1.0, shift: float = 0.0,
                    dtype: torch.dtype = torch.float32) -> SoftmaxComparison:
    """Both formulas on (z + shift) / T in `dtype` (float32 by default, PyTorch's and the networks')."""
    z = torch.tensor([validate("logit", v) for v in logits], dtype=dtype) + validate("logit_shift", shift)  # (C,)
    scaled = z / validate("softmax_temperature", temperature)
    return SoftmaxComparison(scaled.tolist(), torch.exp(scaled).tolist(),
                             torch.exp(scaled - scaled.max()).tolist(), softmax(scaled).tolist(),
                             naive_softmax(scaled).tolist())


def parse_logits(text: str) -> tuple[float, ...]:
    """Logits typed by a learner, "5, 2, −1, 3" (commas, semicolons or spaces between; − or - for minus).

    A ValueError in words for anything else: not a number, NaN or ±inf, beyond ±10⁶, none or too many.
    """
    pieces = [p for p in re.split(r"[,;\s]+", text.replace("−", "-").strip()) if p]
    if not pieces:
        raise ValueError("Type at least one logit, e.g. 5, 2, −1, 3.")
    if len(pieces) > MAX_TYPED_LOGITS:
        raise ValueError(f"Type at most {MAX_TYPED_LOGITS} logits. Got {len(pieces)} instead.")
    values = []
    for piece in pieces:
        try:
            value = float(piece)
        except ValueError:
            raise ValueError(f"{piece!r} is not a number. Type numbers separated by commas, e.g. 5, 2, −1, 3.") \
                from None
        values.append(validate("logit", value))
    return tuple(values)


def worked_example(logits: list[float] | tuple[float, ...] = (5.0, 2.0, -1.0, 3.0)) -> str:
    """The course's four-class example step by step, as text: z, t = e^z, Σ t, a = t / Σ t."""
    z = torch.tensor(logits, dtype=torch.float32)  # (C,)
    t = torch.exp(z)

    def row(values: torch.Tensor, digits: int) -> str:
        return "[" + ", ".join(f"{v:.{digits}f}" for v in values.tolist()) + "]"

    return "\n".join([f"z          = {row(z, 0)}", f"t = e^z    = {row(t, 2)}", f"sum of t   = {t.sum():.2f}",
                      f"a = t / Σt = {row(t / t.sum(), 4)}", f"sum of a   = {(t / t.sum()).sum():.4f}"])


def overflow_example(logits: list[float] | tuple[float, ...] = (1000.0, 997.0, 994.0, 998.0)) -> str:
    """The naive formula and the lab's softmax on large logits (float32), as text."""
    z = torch.tensor(logits, dtype=torch.float32)  # (C,)

    def row(values: torch.Tensor) -> str:
        return "[" + ", ".join(f"{v:.4f}" for v in values.tolist()) + "]"

    return "\n".join([f"z                   = [{', '.join(f'{v:g}' for v in logits)}]",
                      f"e^z                 = {row(torch.exp(z))}",
                      f"naive e^z / sum     = {row(naive_softmax(z))}",
                      f"softmax (max first) = {row(softmax(z))}"])


# ---------------------------------------------------------------- cost


def one_hot(Y: torch.Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Class indices Y (1, m) as columns of 0s with a 1 in the row of the class: (num_classes, m)."""
    return torch.nn.functional.one_hot(Y[0], num_classes).T.to(dtype)


def cross_entropy(Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """J = −(1/m) Σ_i log softmax(z⁽ⁱ⁾)[y⁽ⁱ⁾] for logits Z (C, m) and class indices Y (1, m); a 0-d tensor."""
    return -log_softmax(Z).gather(0, Y).mean()


# ---------------------------------------------------------------- the network, by hand


@dataclass(frozen=True)
class ForwardCache:
    """What backward needs from the forward pass."""

    X: torch.Tensor  # (n_x, m)
    Z1: torch.Tensor | None  # (n_h, m) hidden pre-activation; None in softmax regression
    A1: torch.Tensor | None  # (n_h, m) ReLU(Z1)
    Z: torch.Tensor  # (C, m) logits
    A: torch.Tensor  # (C, m) ŷ = softmax(Z)


def layer_dims(n_x: int, n_h: int, n_y: int) -> tuple[int, ...]:
    """(n_x, n_y) for softmax regression (n_h = 0), else (n_x, n_h, n_y); validated."""
    n_h = validate("softmax_hidden_units", n_h)
    if n_y < 2:
        raise ValueError(f"The 'n_y' parameter (number of classes) must be at least 2. Got {n_y!r} instead.")
    return (n_x, n_y) if n_h == 0 else (n_x, n_h, n_y)


def initial_parameters(n_x: int, n_h: int, n_y: int, generator: torch.Generator, dtype: torch.dtype,
                       device: torch.device | str) -> dict[str, torch.Tensor]:
    """Softmax regression starts at W = 0 (one layer has no symmetry to break, and J starts at exactly log C);
    the 2-layer network starts with He weights √(2/n^[l−1]) so its hidden units differ."""
    dims = layer_dims(n_x, n_h, n_y)
    return initialize_parameters(dims, "zeros" if n_h == 0 else "he", generator=generator, dtype=dtype, device=device)


class SoftmaxNetwork:
    """Softmax regression (n_h = 0) or a 2-layer ReLU + softmax network, forward and backward by hand.

    Parameters live in `params`: {"W1": (n^[1], n_x), "b1": (n^[1], 1)} and, with a hidden layer, "W2", "b2".
    """

    def __init__(self, n_x: int, n_h: int, n_y: int, *, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        self.dims = layer_dims(n_x, n_h, n_y)
        self.params = initial_parameters(n_x, n_h, n_y, generator, dtype, device)

    def forward(self, X: torch.Tensor) -> ForwardCache:
        p = self.params
        if len(self.dims) == 2:
            Z1 = A1 = None
            Z = p["W1"] @ X + p["b1"]  # (C, m)
        else:
            Z1 = p["W1"] @ X + p["b1"]  # (n_h, m)
            A1 = torch.clamp(Z1, min=0)  # ReLU
            Z = p["W2"] @ A1 + p["b2"]  # (C, m)
        return ForwardCache(X, Z1, A1, Z, softmax(Z))

    def scores(self, X: torch.Tensor) -> torch.Tensor:
        """Logits Z (C, m) for X (n_x, m)."""
        return self.forward(X).Z

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """ŷ = softmax(Z) (C, m): each column sums to 1."""
        return self.forward(X).A

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """J (0-d) on X (n_x, m), Y (1, m), and {"W1": ∂J/∂W1, …} keyed like `params`.

        dZ = ŷ − y (C, m); then per layer dW = dZ A_prevᵀ / m, db = Σ_columns dZ / m, and below the output
        dA¹ = W²ᵀ dZ, dZ¹ = dA¹ * ReLU′(Z¹) (1 where Z¹ > 0, else 0).
        """
        cache, m = self.forward(X), X.shape[1]
        cost = cross_entropy(cache.Z, Y)
        dZ = cache.A - one_hot(Y, cache.Z.shape[0], cache.Z.dtype)  # (C, m)
        top = len(self.dims) - 1
        below = X if top == 1 else cache.A1  # the output layer's input
        grads = {f"W{top}": dZ @ below.T / m, f"b{top}": dZ.sum(dim=1, keepdim=True) / m}
        if top == 2:
            dZ1 = (self.params["W2"].T @ dZ) * (cache.Z1 > 0).to(dZ.dtype)  # (n_h, m)
            grads["W1"], grads["b1"] = dZ1 @ X.T / m, dZ1.sum(dim=1, keepdim=True) / m
        return cost, {name: grads[name] for name in self.params}

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """Gradient descent: θ := θ − α·∂J/∂θ for every parameter."""
        lr = validate("lr", lr)
        self.params = {name: value - lr * grads[name] for name, value in self.params.items()}


class TorchSoftmaxNetwork(torch.nn.Module):
    """The same network from torch.nn.Linear layers, `F.cross_entropy` and autograd; same constructor and methods
    as SoftmaxNetwork, and, given the same generator, the same starting weights."""

    def __init__(self, n_x: int, n_h: int, n_y: int, *, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        super().__init__()
        self.dims = layer_dims(n_x, n_h, n_y)
        self.layers = linear_layers(initial_parameters(n_x, n_h, n_y, generator, dtype, device))

    @property
    def params(self) -> dict[str, torch.Tensor]:
        """Detached views in the course's shapes: W (n^[l], n^[l−1]), b (n^[l], 1)."""
        out = {}
        for k, layer in enumerate(self.layers, start=1):
            out[f"W{k}"], out[f"b{k}"] = layer.weight.detach(), layer.bias.detach().reshape(-1, 1)
        return out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits Z (C, m) for X (n_x, m); torch.nn works on rows, so X is transposed on the way in and out."""
        H = X.T  # (m, n_x)
        for k, layer in enumerate(self.layers, start=1):
            H = layer(H)
            if k < len(self.layers):
                H = torch.relu(H)
        return H.T  # (C, m)

    def scores(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.forward(X)

    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.softmax(self.forward(X), dim=0)

    def cost_and_gradients(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self.zero_grad(set_to_none=True)
        cost = torch.nn.functional.cross_entropy(self.forward(X).T, Y[0])
        cost.backward()
        grads = {}
        for k, layer in enumerate(self.layers, start=1):
            grads[f"W{k}"], grads[f"b{k}"] = layer.weight.grad, layer.bias.grad.reshape(-1, 1)
        return cost.detach(), grads

    def update(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        lr = validate("lr", lr)
        with torch.no_grad():
            for k, layer in enumerate(self.layers, start=1):
                layer.weight -= lr * grads[f"W{k}"]
                layer.bias -= lr * grads[f"b{k}"].flatten()


NETWORKS = {"by_hand": SoftmaxNetwork, "torch_autograd": TorchSoftmaxNetwork}


def make_network(implementation: str, n_x: int, n_h: int, n_y: int, *, seed: int = 0,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
                 ) -> SoftmaxNetwork | TorchSoftmaxNetwork:
    """The network of `implementation` ("by_hand" or "torch_autograd"), its weights drawn from `seed`."""
    network = NETWORKS[validate("softmax_implementation", implementation)]
    return network(n_x, n_h, n_y, generator=make_generator(seed), dtype=dtype, device=device)


def accuracy(network: SoftmaxNetwork | TorchSoftmaxNetwork, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Share of the m columns whose most probable class is the label in Y (1, m)."""
    return (network.scores(X).argmax(dim=0) == Y[0]).to(torch.float64).mean().item()


def dead_units(network: SoftmaxNetwork | TorchSoftmaxNetwork, X: torch.Tensor) -> int:
    """How many hidden ReLU units output 0 for every column of X (n_x, m): Z¹ ≤ 0 everywhere, so their gradient is
    0 too and they never recover (0 for softmax regression, which has no hidden layer)."""
    p = network.params
    if "W2" not in p:
        return 0
    Z1 = p["W1"] @ X + p["b1"]  # (n_h, m)
    return int((Z1 <= 0).all(dim=1).sum())


def gradient_check_report(n_x: int = 64, n_h: int = 16, n_y: int = 10, m: int = 32, seed: int = 0) -> str:
    """The hand-written gradients against autograd in float64, as text: dZ = ŷ − y, then every dW and db, for
    softmax regression and for the network with `n_h` hidden units."""
    generator = make_generator(seed)
    X = torch.rand(n_x, m, generator=generator, dtype=torch.float64)  # (n_x, m)
    Y = torch.randint(0, n_y, (1, m), generator=generator)  # (1, m)
    lines = []
    for hidden in (0, n_h):
        hand = SoftmaxNetwork(n_x, hidden, n_y, generator=make_generator(seed + 1), dtype=torch.float64)
        hand.params = {k: v + 0.1 * torch.randn(v.shape, generator=generator, dtype=v.dtype)
                       for k, v in hand.params.items()}  # away from W = 0, where every ŷ is 1/C
        cache = hand.forward(X)
        Z = cache.Z.clone().requires_grad_()
        cross_entropy(Z, Y).backward()
        dZ_ok = torch.allclose(cache.A - one_hot(Y, n_y, torch.float64), Z.grad * m, rtol=0, atol=1e-12)
        leaves = {k: v.clone().requires_grad_() for k, v in hand.params.items()}
        H = leaves["W1"] @ X + leaves["b1"]
        if hidden:
            H = leaves["W2"] @ torch.relu(H) + leaves["b2"]
        torch.nn.functional.cross_entropy(H.T, Y[0]).backward()
        _, mine = hand.cost_and_gradients(X, Y)
        grads_ok = all(torch.allclose(mine[k], leaves[k].grad, rtol=0, atol=1e-12) for k in mine)
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in hand.params.items())
        name = "softmax regression" if hidden == 0 else f"{hidden} hidden units"
        lines.append(f"{name}: {shapes}\n  dZ = ŷ − y equals autograd's m·∂J/∂Z: {dZ_ok}; "
                     f"dW and db equal autograd's: {grads_ok}")
    return "\n".join(lines)


# ---------------------------------------------------------------- training on the digits


class SoftmaxTraining:
    """A `lab.training.Trainable`: each `step()` is one mini-batch gradient-descent update of `network`.

    The training columns are reshuffled from `seed` at the start of every epoch (⌈m / batch_size⌉ steps). The
    cost a step reports is its own mini-batch's before the update. Every `evaluate()` is also kept in
    `evaluations` as (epoch, metrics), for train/dev curves.
    """

    def __init__(self, network: SoftmaxNetwork | TorchSoftmaxNetwork, data: ThreeWaySplit, *, lr: float,
                 batch_size: int, seed: int = 0):
        self.network, self.data = network, data
        self.lr = validate("lr", lr)
        m = data.X_train.shape[1]
        self.batch_size = check_batch_size(batch_size, m)
        self.steps_per_epoch = num_mini_batches(m, self.batch_size)
        self.generator = make_generator(seed)
        self.steps_done = 0
        self.evaluations: list[tuple[float, dict[str, float]]] = []
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if not self._batches:  # a new epoch, a new order
            self._batches = random_mini_batches(self.data.X_train, self.data.Y_train, self.batch_size,
                                                self.generator)[::-1]  # popped from the end
        X_t, Y_t = self._batches.pop()  # (n_x, b), (1, b)
        cost, grads = self.network.cost_and_gradients(X_t, Y_t)
        self.network.update(grads, self.lr)
        self.steps_done += 1
        return cost, grads

    def evaluate(self) -> dict[str, float]:
        d, net = self.data, self.network
        metrics = {"train_accuracy": accuracy(net, d.X_train, d.Y_train),
                   "dev_accuracy": accuracy(net, d.X_dev, d.Y_dev),
                   "train_cost": cross_entropy(net.scores(d.X_train), d.Y_train).item(),
                   "dev_cost": cross_entropy(net.scores(d.X_dev), d.Y_dev).item()}
        self.evaluations.append((self.steps_done / self.steps_per_epoch, metrics))
        return metrics


# ---------------------------------------------------------------- what the errors look like


def confusion_matrix(Y: torch.Tensor, predicted: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (C, C), int64: entry [i, j] is how many examples of class i were predicted as class j.

    Y and `predicted` hold class indices, both (1, m) or both (m,). The diagonal holds the correct answers.
    """
    truth, guess = Y.reshape(-1), predicted.reshape(-1)
    if truth.shape != guess.shape:
        raise ValueError(f"Y and 'predicted' must hold the same number of labels. Got {truth.numel()} and "
                         f"{guess.numel()} instead.")
    counts = torch.bincount(truth * num_classes + guess, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).cpu()


def most_confused(matrix: torch.Tensor) -> tuple[int, int, int]:
    """(true class, predicted class, count) of the largest entry off the diagonal of a confusion matrix."""
    off = matrix.clone()
    off.fill_diagonal_(-1)
    flat = int(off.argmax())
    true, guess = divmod(flat, matrix.shape[1])
    return true, guess, int(matrix[true, guess])


@dataclass(frozen=True)
class Mistake:
    index: int  # column of X
    label: int  # the true class
    predicted: int  # the class the model chose
    confidence: float  # ŷ of the chosen class


def confident_mistakes(P: torch.Tensor, Y: torch.Tensor, k: int = 8) -> list[Mistake]:
    """The k examples the model gets wrong with the highest ŷ for its wrong answer, most confident first.

    P (C, m) holds the probabilities (columns sum to 1), Y (1, m) the true classes.
    """
    confidence, predicted = P.max(dim=0)  # (m,), (m,)
    wrong = (predicted != Y[0]).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:k].tolist()
    conf, pred, label = confidence.tolist(), predicted.tolist(), Y[0].tolist()
    return [Mistake(i, label[i], pred[i], conf[i]) for i in order]
