"""The course's update rules written out, in the shape of `torch.optim` optimizers.

Each class is built on an iterable of tensors (or of param-group dicts) whose `.grad` backward filled in,
and is used exactly like `torch.optim.SGD`: `optimizer.zero_grad()`, `cost.backward()`, `optimizer.step()`.
So a test — or a dashboard — can swap one of these for its `torch.optim` counterpart. The bookkeeping
(param groups, state, `zero_grad`, `state_dict`) is inherited from `torch.optim.Optimizer`; the math in
each `step` is the course's, line by line, with dW standing for a parameter's gradient:

- GradientDescent:  W := W − α·dW
- Momentum:         v := β·v + (1 − β)·dW,                      W := W − α·v
- RMSprop:          s := β·s + (1 − β)·dW²,                     W := W − α·dW / (√s + ε)
- Adam:             v := β₁v + (1 − β₁)dW,  s := β₂s + (1 − β₂)dW²,
                    v̂ = v / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ),       W := W − α·v̂ / (√ŝ + ε)

dW² is elementwise, so RMSprop and Adam give every single weight its own step size α / (√s + ε): the
"vector learning rate" the notes ask about, learned from the gradients instead of set by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch.optim.adam import adam as torch_adam  # the update function torch.optim.Adam.step runs

from lab.params import validate

Params = Iterable[torch.Tensor] | Iterable[dict]

# torch wraps `add_param_group` and `zero_grad` in `torch._disable_dynamo`, whose first call imports torch._dynamo:
# 1.2 s on these machines, paid by the first training run of a dashboard (its first point came after ~1 s). The
# course's optimizers are never compiled, so they call the plain functions underneath (functools.wraps keeps them
# as `__wrapped__`; where a torch version has none, the wrapped ones are used as before).
_ADD_PARAM_GROUP = getattr(torch.optim.Optimizer.add_param_group, "__wrapped__", torch.optim.Optimizer.add_param_group)
_ZERO_GRAD = getattr(torch.optim.Optimizer.zero_grad, "__wrapped__", torch.optim.Optimizer.zero_grad)


class _CourseOptimizer(torch.optim.Optimizer):
    """Shared bookkeeping: every hyperparameter of every param group is validated against `lab.params`."""

    checks: dict[str, str] = {"lr": "lr"}  # param-group key → name of its declaration in lab.params

    def __init__(self, params: Params, defaults: dict):
        self._check(defaults)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        self._check(param_group)  # a group may override the defaults: check its own values too
        _ADD_PARAM_GROUP(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        _ZERO_GRAD(self, set_to_none)

    def _check(self, group: dict) -> None:
        for key, name in self.checks.items():
            if key in group:
                validate(name, group[key])
        if "betas" in group:
            betas = group["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"The 'betas' parameter must be a pair (β₁, β₂). Got {betas!r} instead.")
            validate("beta1", betas[0])
            validate("beta2", betas[1])

    def _with_grad(self, group: dict):
        return [p for p in group["params"] if p.grad is not None]


class GradientDescent(_CourseOptimizer):
    """W := W − α·dW for every parameter: plain (mini-batch) gradient descent."""

    def __init__(self, params: Params, lr: float):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in self._with_grad(group):
                p -= group["lr"] * p.grad


class Momentum(_CourseOptimizer):
    """Gradient descent on an exponentially weighted average of the gradients.

    v := β·v + (1 − β)·dW (v starts at 0), W := W − α·v. With β = 0.9, v averages roughly the last
    1/(1 − β) = 10 gradients: components that flip sign cancel out, steady ones add up.

    `torch.optim.SGD(momentum=β)` keeps b := β·b + dW instead (no 1 − β factor; b starts at the first
    gradient). Unrolled, b_t = Σ β^(t−k)·dW_k and v_t = (1 − β)·b_t, so this optimizer with rate α takes
    exactly the steps of `torch.optim.SGD(lr=α·(1 − β), momentum=β)`.
    """

    checks = {"lr": "lr", "beta": "beta"}

    def __init__(self, params: Params, lr: float, beta: float = 0.9):
        super().__init__(params, {"lr": lr, "beta": beta})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta = group["beta"]
            for p in self._with_grad(group):
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)  # v = 0 before the first step
                v = state["v"]
                v.mul_(beta).add_(p.grad, alpha=1 - beta)  # v := β·v + (1 − β)·dW
                p -= group["lr"] * v


class RMSprop(_CourseOptimizer):
    """Divide each gradient entry by the root of its running mean square.

    s := β·s + (1 − β)·dW² (elementwise; s starts at 0), W := W − α·dW / (√s + ε). A weight whose
    gradient is large (or swings wildly) gets a small effective rate α / (√s + ε), a weight with small
    gradients a large one. Same steps as `torch.optim.RMSprop(lr=α, alpha=β, eps=ε)`.
    """

    checks = {"lr": "lr", "beta": "beta", "eps": "epsilon"}

    def __init__(self, params: Params, lr: float = 0.01, beta: float = 0.9, eps: float = 1e-8):
        super().__init__(params, {"lr": lr, "beta": beta, "eps": eps})

    def _update_square_average(self, s: torch.Tensor, grad: torch.Tensor, beta: float) -> None:
        s.mul_(beta).addcmul_(grad, grad, value=1 - beta)  # s := β·s + (1 − β)·dW²

    def _denominator(self, s: torch.Tensor, eps: float) -> torch.Tensor:
        return s.sqrt() + eps  # √s + ε

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in self._with_grad(group):
                state = self.state[p]
                if "s" not in state:
                    state["s"] = torch.zeros_like(p)
                self._update_square_average(state["s"], p.grad, group["beta"])
                p -= group["lr"] * p.grad / self._denominator(state["s"], group["eps"])

    def effective_lr(self, p: torch.Tensor) -> torch.Tensor:
        """α / (√s + ε) per entry of parameter `p` (same shape as p): the rate each weight really gets."""
        group = next(g for g in self.param_groups if any(q is p for q in g["params"]))
        s = self.state[p].get("s", torch.zeros_like(p))
        return group["lr"] / self._denominator(s, group["eps"])


class NotesRMSprop(RMSprop):
    """The notes' version, kept only to show that it fails (ERRATA 8): do not train with it.

    The notes write s := β·s − (1 − β)·dW² and W := W − α·dW / √(s + ε). From s = 0 the first update
    makes s = −(1 − β)·dW², negative wherever the gradient is not tiny, so √(s + ε) is NaN and the very
    first step turns those weights into NaN.
    """

    def _update_square_average(self, s: torch.Tensor, grad: torch.Tensor, beta: float) -> None:
        s.mul_(beta).addcmul_(grad, grad, value=-(1 - beta))  # the notes' minus sign

    def _denominator(self, s: torch.Tensor, eps: float) -> torch.Tensor:
        return (s + eps).sqrt()  # the notes put ε under the root


class Adam(_CourseOptimizer):
    """Momentum and RMSprop together, each average corrected for starting at 0.

    v := β₁v + (1 − β₁)dW and s := β₂s + (1 − β₂)dW²; at step t, v̂ = v / (1 − β₁ᵗ) and ŝ = s / (1 − β₂ᵗ)
    undo the pull towards 0 of the first few steps; W := W − α·v̂ / (√ŝ + ε).
    Same steps as `torch.optim.Adam(lr=α, betas=(β₁, β₂), eps=ε)`.
    """

    checks = {"lr": "lr", "eps": "epsilon"}

    def __init__(self, params: Params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in self._with_grad(group):
                state = self.state[p]
                if not state:
                    state.update(t=0, v=torch.zeros_like(p), s=torch.zeros_like(p))
                state["t"] += 1
                t, v, s = state["t"], state["v"], state["s"]
                v.mul_(beta1).add_(p.grad, alpha=1 - beta1)  # v := β₁v + (1 − β₁)dW
                s.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)  # s := β₂s + (1 − β₂)dW²
                v_hat = v / (1 - beta1**t)  # bias correction
                s_hat = s / (1 - beta2**t)
                p -= group["lr"] * v_hat / (s_hat.sqrt() + group["eps"])

    def effective_lr(self, p: torch.Tensor) -> torch.Tensor:
        """α / (√ŝ + ε) per entry of parameter `p`: the rate that multiplies the averaged gradient v̂."""
        group = next(g for g in self.param_groups if any(q is p for q in g["params"]))
        state = self.state[p]
        if not state:
            return torch.full_like(p, group["lr"] / group["eps"])
        s_hat = state["s"] / (1 - group["betas"][1] ** state["t"])
        return group["lr"] / (s_hat.sqrt() + group["eps"])


class TorchAdamUpdate:
    """PyTorch's own Adam update, `torch.optim.adam.adam` (the function `torch.optim.Adam.step` runs), with the
    same state, for a notebook to compare the course's Adam with, step by step, at page load.

    `torch.optim.Adam` itself wraps its methods so that their first call imports torch._dynamo: 1.1–1.4 s of CPU on
    these machines, and +70 MB in the kernel, for a page that only compares two update rules. The tests compare
    the course's Adam with the `torch.optim.Adam` class too.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps = validate("lr", lr), tuple(betas), validate("epsilon", eps)
        self.v = [torch.zeros_like(p) for p in self.params]  # torch's exp_avg
        self.s = [torch.zeros_like(p) for p in self.params]  # torch's exp_avg_sq
        self.t = [torch.tensor(0.0) for _ in self.params]  # torch's state_steps

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        torch_adam(self.params, [p.grad for p in self.params], self.v, self.s, [], self.t, foreach=False,
                   amsgrad=False, beta1=self.betas[0], beta2=self.betas[1], lr=self.lr, weight_decay=0.0,
                   eps=self.eps, maximize=False)


OPTIMIZER_NAMES = {"gd": "gradient descent", "momentum": "momentum", "rmsprop": "RMSprop", "adam": "Adam"}


def make_optimizer(name: str, params: Params, *, lr: float, beta: float = 0.9, beta1: float = 0.9,
                   beta2: float = 0.999, eps: float = 1e-8) -> _CourseOptimizer:
    """The optimizer called `name` (gd, momentum, rmsprop, adam), given only the settings it uses.

    `beta` is momentum's β and RMSprop's β (the course calls the latter β₂); `beta1`, `beta2` are Adam's.
    Every setting is validated, used or not: a config with a bad β is refused whichever optimizer it names.
    """
    name = validate("optimizer", name)
    lr, beta, eps = validate("lr", lr), validate("beta", beta), validate("epsilon", eps)
    beta1, beta2 = validate("beta1", beta1), validate("beta2", beta2)
    if name == "gd":
        return GradientDescent(params, lr)
    if name == "momentum":
        return Momentum(params, lr, beta)
    if name == "rmsprop":
        return RMSprop(params, lr, beta, eps)
    return Adam(params, lr, (beta1, beta2), eps)


def trajectory(build: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
               cost: Callable[[torch.Tensor], torch.Tensor], start: list[float], steps: int) -> list[list[float]]:
    """Where w goes: the position after each of `steps` updates of `build([w])` on `cost(w)`, from `start`.

    `build` is any torch.optim-style constructor, ours or PyTorch's, so two rules can be compared directly.
    Runs in float64; returns `steps` lists of len(start) numbers.
    """
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)  # (k,)
    optimizer = build([w])
    positions = []
    for _ in range(steps):
        optimizer.zero_grad()
        cost(w).backward()
        optimizer.step()
        positions.append(w.detach().tolist())
    return positions
