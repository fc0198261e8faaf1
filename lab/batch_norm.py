"""Batch normalization of one layer, by hand, checked against `torch.nn.BatchNorm1d`.

Batch norm acts on the pre-activations Z (n, m) of a layer: one row per unit, one column per example of the
mini-batch. For every unit (row) separately, over the m examples of the mini-batch:

    μ  = (1/m) Σᵢ z⁽ⁱ⁾                 the unit's mean over the mini-batch, (n, 1)
    σ² = (1/m) Σᵢ (z⁽ⁱ⁾ − μ)²          its variance, divided by m ("biased"), (n, 1)
    ẑ  = (z − μ) / √(σ² + ε)           mean 0 and variance (almost) 1 over the mini-batch, (n, m)
    z̃  = γ ẑ + β                        γ (n, 1) and β (n, 1) are learnt like W; z̃ goes into g(·)

It normalizes each unit's z over the examples, not the weights W (ERRATA 10: the notes call it "normalizing layer
weights"; `what_gets_normalized` shows the difference). Since μ is subtracted, a bias b added to z would cancel:
a batch-norm layer has no b, β takes its place. γ and β let the network undo the normalization where that helps
(γ = √(σ² + ε), β = μ gives z back), so nothing is lost.

At test time there may be a single example, and an example's answer must not depend on which others share its
batch, so μ and σ² are replaced by running averages kept during training. PyTorch's convention, which this module
follows (and the tests check against BatchNorm1d):

    running_mean := (1 − momentum)·running_mean + momentum·μ
    running_var  := (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)

momentum = 0.1 by default is the weight of the *newest* batch: the course's exponentially weighted average
v := β·v + (1 − β)·θ with β = 1 − momentum = 0.9. The running variance uses the unbiased estimate (divided by
m − 1), while ẑ during training uses the biased σ² (divided by m). Running averages start at mean 0, variance 1.

Backward, for dZ̃ = ∂J/∂Z̃ (n, m), with every sum over the m columns:

    dβ = Σᵢ dz̃⁽ⁱ⁾,   dγ = Σᵢ dz̃⁽ⁱ⁾ ẑ⁽ⁱ⁾,   dẑ = γ dz̃
    dz = (1/m) · 1/√(σ² + ε) · (m·dẑ − Σᵢ dẑ⁽ⁱ⁾ − ẑ · Σᵢ dẑ⁽ⁱ⁾ ẑ⁽ⁱ⁾)

The two sums are there because every example's z moves μ and σ² and so every other example's ẑ.

The network that uses it, and its training, are in `lab.batch_norm_network`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("bn_momentum", "Running-average momentum", "Weight of the newest mini-batch in the running averages used "
          "at test time: running = (1 − momentum)·running + momentum·batch (PyTorch's convention).", 0.1,
          low=0.0, high=1.0, low_inclusive=False, step=0.01, ui_low=0.01),
    Param("bn_eps", "ε (batch norm)", "Added to σ² under the square root, so a unit whose z is the same for the "
          "whole mini-batch is divided by √ε, not by 0.", 1e-5, low=0.0, high=1.0, low_inclusive=False, log=True,
          ui_low=1e-8, ui_high=1e-1),
    Param("watch_layer", "Hidden layer l", "Which hidden layer the histograms watch (a network with fewer hidden "
          "layers shows its last one).", 1, low=1, high=49, step=1, integer=True, ui_high=19),
    Param("watch_unit", "Unit j", "Which unit of that layer the histograms watch.", 1, low=1, high=1024, step=1,
          integer=True, ui_high=32),
)

STATISTICS = ("running", "batch")  # what normalizes z outside training: the running averages, or the batch's own


# ---------------------------------------------------------------- the layer, as functions


@dataclass(frozen=True)
class BatchNormCache:
    """What the backward pass needs from the forward pass."""

    Z_hat: torch.Tensor  # (n, m) normalized z
    inv_std: torch.Tensor  # (n, 1) 1 / √(σ² + ε)
    gamma: torch.Tensor  # (n, 1)


def _column(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-unit (n, 1) tensor shaped to broadcast against `like` (n, m) or (n, G, b)."""
    return value.reshape(value.shape[0], *([1] * (like.ndim - 1)))


def _check_eps(eps: float, dtype: torch.dtype) -> float:
    """`eps` validated, and large enough not to round to 0 in `dtype` (σ² + ε would then be 0 for a constant z)."""
    eps = validate("bn_eps", eps)
    if dtype.is_floating_point and eps < torch.finfo(dtype).tiny:
        raise ValueError(f"The 'eps' parameter must be at least {torch.finfo(dtype).tiny:.4g} for {dtype} values: a "
                         f"smaller one rounds to 0. Got {eps!r} instead.")
    return eps


def batch_statistics(Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """μ and the biased σ² (divided by m) of each unit over the last dimension: Z (n, m) → (n, 1), (n, 1).

    Z may also be (n, G, b): then each of the G groups of b columns is a mini-batch of its own, (n, G, 1) each.
    """
    mu = Z.mean(dim=-1, keepdim=True)
    var = ((Z - mu) ** 2).mean(dim=-1, keepdim=True)
    return mu, var


def batch_norm_forward(Z: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5,
                       ) -> tuple[torch.Tensor, BatchNormCache, torch.Tensor, torch.Tensor]:
    """Z̃ = γ ẑ + β with ẑ = (Z − μ)/√(σ² + ε), μ and σ² over the mini-batch (the m columns of Z (n, m)).

    Returns Z̃ (n, m), the cache for `batch_norm_backward`, μ (n, 1) and the biased σ² (n, 1). γ, β: (n, 1).
    A mini-batch of one example gives ẑ = 0 for every unit (z − μ = 0): allowed here, to show why it is useless.
    """
    eps = _check_eps(validate("bn_eps", eps), Z.dtype)
    mu, var = batch_statistics(Z)
    inv_std = 1.0 / torch.sqrt(var + eps)
    Z_hat = (Z - mu) * inv_std
    return _column(gamma, Z) * Z_hat + _column(beta, Z), BatchNormCache(Z_hat, inv_std, gamma), mu, var


def batch_norm_backward(dZ_tilde: torch.Tensor, cache: BatchNormCache,
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dZ (n, m), dγ (n, 1), dβ (n, 1) from dZ̃ = ∂J/∂Z̃ (n, m); see the module docstring for the formula."""
    Z_hat, inv_std, m = cache.Z_hat, cache.inv_std, dZ_tilde.shape[1]
    dbeta = dZ_tilde.sum(dim=1, keepdim=True)  # (n, 1)
    dgamma = (dZ_tilde * Z_hat).sum(dim=1, keepdim=True)  # (n, 1)
    dZ_hat = dZ_tilde * cache.gamma  # (n, m)
    dZ = inv_std / m * (m * dZ_hat - dZ_hat.sum(dim=1, keepdim=True)
                        - Z_hat * (dZ_hat * Z_hat).sum(dim=1, keepdim=True))  # (n, m)
    return dZ, dgamma, dbeta


def batch_norm_inference(Z: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, running_mean: torch.Tensor,
                         running_var: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Test time: γ (Z − running μ)/√(running σ² + ε) + β for Z (n, m); each column on its own, whatever m is."""
    eps = _check_eps(validate("bn_eps", eps), Z.dtype)
    return gamma * (Z - running_mean) / torch.sqrt(running_var + eps) + beta


def update_running_averages(running_mean: torch.Tensor, running_var: torch.Tensor, mu: torch.Tensor,
                            var: torch.Tensor, m: int, momentum: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """New running mean and variance (n, 1) after a mini-batch of m ≥ 2 examples with mean μ and biased σ² (n, 1).

    running := (1 − momentum)·running + momentum·batch, the variance's batch value made unbiased: σ²·m/(m − 1).
    """
    momentum = validate("bn_momentum", momentum)
    if m < 2:
        raise ValueError(f"The 'm' parameter (examples in the mini-batch) must be at least 2 to estimate a variance. "
                         f"Got {m!r} instead.")
    return ((1 - momentum) * running_mean + momentum * mu,
            (1 - momentum) * running_var + momentum * var * m / (m - 1))


class BatchNorm:
    """One batch-norm layer by hand, in the course's layout (Z (n, m), one column per example), with the running
    averages torch.nn.BatchNorm1d keeps. `forward` in training mode normalizes with the mini-batch's statistics and
    updates the running averages; after `eval()` it uses the running averages. `backward` returns dZ and leaves
    dγ, dβ in `grads`."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"The 'num_features' parameter must be a whole number ≥ 1. Got {num_features!r} instead.")
        self.eps, self.momentum = validate("bn_eps", eps), validate("bn_momentum", momentum)
        self.gamma = torch.ones(num_features, 1, dtype=dtype, device=device)  # (n, 1): starts as "no rescaling"
        self.beta = torch.zeros(num_features, 1, dtype=dtype, device=device)  # (n, 1)
        self.running_mean = torch.zeros(num_features, 1, dtype=dtype, device=device)  # (n, 1)
        self.running_var = torch.ones(num_features, 1, dtype=dtype, device=device)  # (n, 1)
        self.training = True
        self.grads: dict[str, torch.Tensor] = {}
        self._cache: BatchNormCache | None = None

    def train(self, mode: bool = True) -> BatchNorm:
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm:
        return self.train(False)

    def forward(self, Z: torch.Tensor, statistics: str | None = None) -> torch.Tensor:
        """Z̃ (n, m) for Z (n, m). `statistics` "batch" or "running" overrides the mode: "batch" outside training
        normalizes with the batch's own μ and σ² and leaves the running averages alone (for showing what that does).
        """
        statistics = statistics or ("batch" if self.training else "running")
        if statistics not in STATISTICS:
            raise ValueError(f"The 'statistics' parameter must be one of {list(STATISTICS)}. Got {statistics!r}.")
        if statistics == "running":
            return batch_norm_inference(Z, self.gamma, self.beta, self.running_mean, self.running_var, self.eps)
        if self.training and Z.shape[1] < 2:  # torch refuses it too: σ² of one example is 0, ẑ is 0
            raise ValueError(f"Training batch norm needs at least 2 examples per mini-batch. Got {Z.shape[1]}.")
        Z_tilde, self._cache, mu, var = batch_norm_forward(Z, self.gamma, self.beta, self.eps)
        if self.training:
            self.running_mean, self.running_var = update_running_averages(
                self.running_mean, self.running_var, mu, var, Z.shape[1], self.momentum)
        return Z_tilde

    def backward(self, dZ_tilde: torch.Tensor) -> torch.Tensor:
        """dZ (n, m) from dZ̃ (n, m) of the last forward pass in batch mode; dγ and dβ go to `grads`."""
        if self._cache is None:
            raise ValueError("backward() needs a forward pass with batch statistics first.")
        dZ, self.grads["gamma"], self.grads["beta"] = batch_norm_backward(dZ_tilde, self._cache)
        return dZ


# ---------------------------------------------------------------- worked examples for the notebook


def _number(value: float, digits: int = 3) -> str:
    """`value` with `digits` decimals, and never "-0.000" for a value that only rounding keeps below zero."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def _numbers(values: torch.Tensor, digits: int = 3) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values.flatten().tolist()) + "]"


def worked_example(z: list[float] | tuple[float, ...] = (4.0, 6.0, 2.0, 8.0), bn_gamma: float = 2.0,
                   bn_beta: float = 0.5, eps: float = 1e-5) -> str:
    """The four steps for one unit's z over a mini-batch, as text, with γ = `bn_gamma` and β = `bn_beta` (batch
    norm's β, which has nothing to do with momentum's β)."""
    Z = torch.tensor([list(z)], dtype=torch.float64)  # (1, m)
    if Z.shape[1] < 1 or not torch.isfinite(Z).all():
        raise ValueError(f"The 'z' parameter must hold at least one finite number. Got {list(z)!r} instead.")
    g, b = (torch.tensor([[float(v)]], dtype=torch.float64) for v in (bn_gamma, bn_beta))
    Z_tilde, cache, mu, var = batch_norm_forward(Z, g, b, eps)
    return "\n".join([f"z over the mini-batch  = {_numbers(Z, 1)}   (m = {Z.shape[1]})",
                      f"μ  = mean of z         = {mu.item():.3f}",
                      f"σ² = mean of (z − μ)²  = {var.item():.3f}",
                      f"ẑ  = (z − μ)/√(σ² + ε) = {_numbers(cache.Z_hat)}",
                      f"     mean {_number(cache.Z_hat.mean().item())}, "
                      f"variance {_number(cache.Z_hat.var(unbiased=False).item())}",
                      f"z̃  = γ·ẑ + β           = {_numbers(Z_tilde)}   (γ = {bn_gamma:g}, β = {bn_beta:g})"])


def torch_check_report(n: int = 5, m: int = 16, steps: int = 3, momentum: float = 0.1, seed: int = 0) -> str:
    """This module's batch norm against torch.nn.BatchNorm1d in float64, as text: the training-mode output,
    the running averages after `steps` mini-batches, the eval-mode output, and the hand-written backward
    against autograd."""
    generator = make_generator(seed)
    mine = BatchNorm(n, momentum=momentum, dtype=torch.float64)
    theirs = torch.nn.BatchNorm1d(n, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(1 + torch.rand(n, generator=generator, dtype=torch.float64))
        theirs.bias.copy_(torch.randn(n, generator=generator, dtype=torch.float64))
    mine.gamma, mine.beta = theirs.weight.detach().reshape(n, 1).clone(), theirs.bias.detach().reshape(n, 1).clone()
    train_ok = True
    for _ in range(steps):
        Z = 3 + 2 * torch.randn(n, m, generator=generator, dtype=torch.float64)  # (n, m), mean 3, spread 2
        train_ok &= torch.allclose(mine.forward(Z), theirs(Z.T).T.detach(), rtol=0, atol=1e-12)
    running_ok = (torch.allclose(mine.running_mean.flatten(), theirs.running_mean, rtol=0, atol=1e-12)
                  and torch.allclose(mine.running_var.flatten(), theirs.running_var, rtol=0, atol=1e-12))
    Z = 3 + 2 * torch.randn(n, 7, generator=generator, dtype=torch.float64)
    eval_ok = torch.allclose(mine.eval().forward(Z), theirs.eval()(Z.T).T.detach(), rtol=0, atol=1e-12)
    # backward: a cost J = Σ C ∗ Z̃ with random C, so ∂J/∂Z̃ = C
    theirs.train()
    Z = (3 + 2 * torch.randn(n, m, generator=generator, dtype=torch.float64)).requires_grad_()
    C = torch.randn(n, m, generator=generator, dtype=torch.float64)
    (theirs(Z.T).T * C).sum().backward()
    mine.train().forward(Z.detach())
    dZ = mine.backward(C)
    backward_ok = (torch.allclose(dZ, Z.grad, rtol=0, atol=1e-12)
                   and torch.allclose(mine.grads["gamma"].flatten(), theirs.weight.grad, rtol=0, atol=1e-12)
                   and torch.allclose(mine.grads["beta"].flatten(), theirs.bias.grad, rtol=0, atol=1e-12))
    return "\n".join([
        f"{n} units, mini-batches of {m}, float64, momentum {momentum:g}, against torch.nn.BatchNorm1d:",
        f"  training-mode output (batch statistics) equal:        {train_ok}",
        f"  running mean and variance after {steps} mini-batches equal: {running_ok}",
        f"  eval-mode output (running averages) equal:            {eval_ok}",
        f"  hand-written dZ, dγ, dβ equal autograd's:             {backward_ok}"])


def running_average_report(m: int = 4, momentum: float = 0.1) -> str:
    """One unit, three mini-batches of m ≤ 4: the running averages as torch keeps them, checked against
    torch.nn.BatchNorm1d on the same numbers, and what the running variance would be with σ² divided by m, as a
    table."""
    if m not in (2, 3, 4):
        raise ValueError(f"The 'm' parameter must be 2, 3 or 4. Got {m!r} instead.")
    batches = [[2.0, 4.0, 6.0, 8.0][:m], [1.0, 2.0, 3.0, 4.0][:m], [10.0, 12.0, 14.0, 16.0][:m]]
    layer = BatchNorm(1, momentum=momentum, dtype=torch.float64)
    twin = torch.nn.BatchNorm1d(1, momentum=momentum, dtype=torch.float64)
    lines = [f"momentum = {momentum:g}, the course's β = 1 − momentum = {1 - momentum:g}; running averages start at "
             "mean 0, variance 1",
             "mini-batch            μ  σ² ÷m  σ² ÷(m−1) │ running mean  running var │ BatchNorm1d │ running var if ÷m"]
    biased = 1.0
    for values in batches:
        Z = torch.tensor([values], dtype=torch.float64)  # (1, m)
        layer.forward(Z)
        twin(Z.T)
        mu, var = (v.item() for v in batch_statistics(Z))
        biased = (1 - momentum) * biased + momentum * var
        same = (math.isclose(layer.running_mean.item(), twin.running_mean.item(), abs_tol=1e-12)
                and math.isclose(layer.running_var.item(), twin.running_var.item(), abs_tol=1e-12))
        running_mean, running_var = layer.running_mean.item(), layer.running_var.item()
        lines.append(f"{_numbers(Z, 0):<16} {mu:6.3f}  {var:5.3f}  {var * m / (m - 1):9.3f} │ {running_mean:12.4f}  "
                     f"{running_var:11.4f} │ {'equal' if same else 'DIFFERENT':<11} │ {biased:17.4f}")
    return "\n".join(lines)


@dataclass(frozen=True)
class WhatGetsNormalized:
    """One unit of a first hidden layer over one mini-batch of digits: batch norm's version and the notes'."""

    z: list[float]  # (m,) the unit's z = w·x + b for each example
    z_hat: list[float]  # (m,) batch norm's ẑ = (z − μ)/√(σ² + ε): what actually gets normalized
    weights: list[float]  # (n_x,) the unit's weights w, which batch norm leaves as they are
    notes_weights: list[float]  # (n_x,) the notes' reading: the same weights normalized to mean 0, spread 1
    notes_z: list[float]  # (m,) the unit's z computed with those normalized weights


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and spread (÷m) of a list of numbers, in float64."""
    t = torch.tensor(values, dtype=torch.float64)
    return t.mean().item(), t.std(unbiased=False).item()


def what_gets_normalized(X: torch.Tensor, batch_size: int = 64, watch_unit: int = 1, seed: int = 0,
                         hidden_units: int = 32) -> WhatGetsNormalized:
    """Draw a mini-batch of `batch_size` columns of X (n_x, m) and He weights for a layer of `hidden_units` units
    (both from `seed`); for unit `watch_unit` (1-based) return z, batch norm's ẑ, and what normalizing the
    weights instead (the notes' words) would give. All in float64."""
    batch_size, seed = validate("batch_size", batch_size), validate("seed", seed)
    hidden_units, watch_unit = validate("hidden_units", hidden_units), validate("watch_unit", watch_unit)
    if batch_size > X.shape[1]:
        raise ValueError(f"The 'batch_size' parameter must be at most m = {X.shape[1]}. Got {batch_size!r} instead.")
    if watch_unit > hidden_units:
        raise ValueError(f"The 'watch_unit' parameter must be at most the {hidden_units} hidden units. "
                         f"Got {watch_unit!r} instead.")
    generator = make_generator(seed)
    columns = torch.randperm(X.shape[1], generator=generator)[:batch_size]
    X_t = X[:, columns].to(torch.float64).cpu()  # (n_x, b)
    W = torch.randn(hidden_units, X.shape[0], generator=generator, dtype=torch.float64) * math.sqrt(2 / X.shape[0])
    w = W[watch_unit - 1:watch_unit]  # (1, n_x)
    Z = w @ X_t  # (1, b); b = 0 at the start, as in every network of the lab
    one, zero = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    _, cache, _, _ = batch_norm_forward(Z, one, zero)  # γ = 1, β = 0: ẑ itself
    w_notes = (w - w.mean()) / w.std(unbiased=False)  # mean 0, spread 1 over the unit's weights
    return WhatGetsNormalized(Z[0].tolist(), cache.Z_hat[0].tolist(), w[0].tolist(), w_notes[0].tolist(),
                              (w_notes @ X_t)[0].tolist())


def describe_what_gets_normalized(result: WhatGetsNormalized) -> str:
    """The numbers a learner should compare, as one sentence per version."""
    (zm, zs), (hm, hs) = mean_std(result.z), mean_std(result.z_hat)
    (wm, ws), (nm, ns) = mean_std(result.weights), mean_std(result.notes_z)
    n = _number
    return (f"Batch norm: this unit's z over the {len(result.z)} digits has mean {n(zm)} and spread {n(zs)}; "
            f"ẑ has mean {n(hm)} and spread {n(hs)}. Its {len(result.weights)} weights (mean {n(wm)}, spread "
            f"{n(ws)}) are not touched. The notes' version, weights rescaled to mean 0 and spread 1: z then has "
            f"mean {n(nm)} and spread {n(ns)}, not normalized at all.")
