"""The notes' open question — "can the learning rate be a vector?" — answered by experiment.

On two features of very different scale, one shared α must be small enough for the large feature,
so the small feature's weight crawls. Giving each feature its own rate fixes that; RMSprop (and Adam)
*learn* such per-parameter rates from the gradients' running size.
"""

from __future__ import annotations

import torch

from lab.data.planar import make_badly_scaled
from lab.data.split import Split, split_columns
from lab.logistic import LogisticRegression, propagate
from lab.params import Param, register, validate

register(
    Param("feature_scale", "Feature scale ratio",
          "How many times larger one input feature is than the other.",
          100.0, low=1.0, high=1000.0, log=True),
)


class RMSpropLogisticRegression(LogisticRegression):
    """Logistic regression whose step divides each gradient entry by the root of its running mean square:

    s := β·s + (1 − β)·dw², w := w − α·dw / (√s + ε) — an effective rate α/(√s + ε) per parameter.
    """

    def __init__(self, data: Split, lr: float, beta: float = 0.9, eps: float = 1e-8):
        super().__init__(data, lr)
        self.beta, self.eps = validate("beta", beta), eps
        self.s_w, self.s_b = torch.zeros_like(self.w), torch.zeros_like(self.b)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        grads, cost = propagate(self.w, self.b, self.data.X_train, self.data.Y_train, self.loss)
        dw, db = grads["dw"], grads["db"]
        self.s_w = self.beta * self.s_w + (1 - self.beta) * dw**2
        self.s_b = self.beta * self.s_b + (1 - self.beta) * db**2
        self.w = self.w - self.lr * dw / (torch.sqrt(self.s_w) + self.eps)
        self.b = self.b - self.lr * db / (torch.sqrt(self.s_b) + self.eps)
        return cost, {"w": dw, "b": db}


def badly_scaled_split(feature_scale: float, seed: int = 0, device: torch.device | str = "cpu") -> Split:
    """The two-feature set of `lab.data.planar.make_badly_scaled`, split 75/25 and moved to `device`."""
    X, Y = make_badly_scaled(m=400, scale=validate("feature_scale", feature_scale), seed=seed)
    return split_columns(X, Y, 0.25, seed, class_names=("0", "1")).to(device)


def learning_rate_contenders(data: Split, lr: float, adaptive_lr: float = 0.01,
                             ) -> dict[str, LogisticRegression]:
    """Three learners on `data` (2 features of scales 1 and S), keyed by a label for plots.

    - one α for every weight;
    - a hand-set vector: feature i gets α·(S / scaleᵢ)², the largest rate its own scale tolerates;
    - RMSprop, which finds per-parameter rates by itself, at its own step size `adaptive_lr`.
    """
    lr = validate("lr", lr)
    scales = data.X_train.std(dim=1, keepdim=True)  # (2, 1): the features' spread
    per_feature = lr * (scales.max() / scales) ** 2  # (2, 1)
    return {
        f"one α = {lr:.2g}": LogisticRegression(data, lr),
        "α per feature (hand-set)": LogisticRegression(data, per_feature, lr_bias=lr),
        f"RMSprop (α = {adaptive_lr:g})": RMSpropLogisticRegression(data, adaptive_lr),
    }
