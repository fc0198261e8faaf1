"""Logistic regression from scratch, in the course's notation, on any device.

ŷ = a = σ(wᵀx + b); X is (n, m) with one example per column, Y is (1, m).
The gradients are written out by hand; tests check them against autograd.
"""

from __future__ import annotations

import torch

from lab.data.split import Split
from lab.params import Param, register, validate

register(
    Param("loss", "Loss", "Cross-entropy (the course) or squared error (the notes' ½(ŷ−y)²).",
          "cross_entropy", options=("cross_entropy", "squared_error")),
    Param("z", "z = wᵀx + b", "The linear score before the sigmoid.", 0.0, low=-50.0, high=50.0, step=0.1,
          ui_low=-10.0, ui_high=10.0),
    Param("line_span", "Distance from w = 0", "How far along the chosen direction the cost is drawn.",
          3.0, low=0.01, high=1000.0, log=True, ui_low=0.1, ui_high=100.0),
)

LOSSES = ("cross_entropy", "squared_error")


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """σ(z) = 1 / (1 + e^(−z)), elementwise; any shape."""
    return 1.0 / (1.0 + torch.exp(-z))


def initialize_with_zeros(n: int, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """w of shape (n, 1) and b of shape () — zeros are fine here: one unit has no symmetry to break."""
    return torch.zeros(n, 1, dtype=dtype, device=device), torch.zeros((), dtype=dtype, device=device)


def forward(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Activations A = σ(wᵀX + b) of shape (1, m) for w (n, 1), b (), X (n, m)."""
    return sigmoid(w.T @ X + b)  # (1, m)


def cross_entropy_cost(A: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """J = −(1/m) Σ [y log a + (1 − y) log(1 − a)] for A, Y of shape (1, m); returns a 0-d tensor."""
    return -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A)).mean()


def stable_cross_entropy_cost(Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The same J computed from the pre-activations Z (1, m): mean of softplus(z) − y·z.

    Equal to `cross_entropy_cost(sigmoid(Z), Y)`, but stays finite where σ(z) rounds to exactly 0 or 1
    (z beyond ±17 in float32), where the textbook form gives 0·log 0 = NaN for a run that is fine.
    """
    return (torch.nn.functional.softplus(Z) - Y * Z).mean()


def squared_error_cost(A: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """J = (1/m) Σ ½(a − y)², the loss the notes use; non-convex in w once composed with σ."""
    return (0.5 * (A - Y) ** 2).mean()


def propagate(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, Y: torch.Tensor, loss: str = "cross_entropy",
              ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One forward and backward pass: returns ({"dw": (n, 1), "db": ()}, cost ()).

    Cross-entropy: dz = a − y. Squared error: dz = (a − y)·a(1 − a), the extra factor that makes
    learning stall when σ saturates. Then dw = X dzᵀ / m and db = mean(dz).
    """
    loss = validate("loss", loss)
    m = X.shape[1]
    Z = w.T @ X + b  # (1, m)
    A = sigmoid(Z)  # (1, m)
    if loss == "cross_entropy":
        cost = stable_cross_entropy_cost(Z, Y)
        dZ = A - Y  # (1, m)
    else:
        cost = squared_error_cost(A, Y)
        dZ = (A - Y) * A * (1 - A)  # (1, m)
    dw = X @ dZ.T / m  # (n, 1)
    db = dZ.mean()  # ()
    return {"dw": dw, "db": db}, cost


def predict(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Labels 0. or 1. of shape (1, m): 1 where σ(wᵀx + b) > 0.5."""
    return (forward(w, b, X) > 0.5).to(X.dtype)


def accuracy(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Fraction of the m columns of X that `predict` labels correctly."""
    return (predict(w, b, X) == Y).to(torch.float64).mean().item()


def misclassified(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Column indices (k,) of X that `predict` gets wrong, most confidently wrong first."""
    A = forward(w, b, X)[0]
    wrong = ((A > 0.5).to(Y.dtype) != Y[0]).nonzero().flatten()
    confidence = (A[wrong] - 0.5).abs()
    return wrong[confidence.argsort(descending=True)]


def cost_along_line(X: torch.Tensor, Y: torch.Tensor, direction: torch.Tensor, ts: torch.Tensor, loss: str,
                    ) -> torch.Tensor:
    """J(t·direction, b=0) for each t in `ts` (k,): the cost surface cut along one line through w = 0."""
    Z = ts.reshape(-1, 1) * (direction.reshape(1, -1) @ X)  # (k, m): w = t·d gives z = t·(dᵀx), one product
    if validate("loss", loss) == "cross_entropy":
        return (torch.nn.functional.softplus(Z) - Y * Z).mean(dim=1)  # (k,)
    return (0.5 * (sigmoid(Z) - Y) ** 2).mean(dim=1)  # (k,)


class LogisticRegression:
    """Gradient descent on a Split: w := w − α·∂J/∂w, b := b − α·∂J/∂b, with w and b starting at 0.

    `lr` is one number α, or a tensor (n, 1) of per-feature rates for the notes' "vector learning rate"
    (the bias then uses `lr_bias`, by default the mean rate). Implements the `lab.training.Trainable`
    protocol, so `lab.training.train` can run it.
    """

    def __init__(self, data: Split, lr: float | torch.Tensor, loss: str = "cross_entropy",
                 lr_bias: float | None = None):
        self.data = data
        self.loss = validate("loss", loss)
        if isinstance(lr, torch.Tensor):
            if lr.shape != (data.X_train.shape[0], 1):
                raise ValueError(f"The 'lr' parameter as a vector must have shape ({data.X_train.shape[0]}, 1). "
                                 f"Got {tuple(lr.shape)} instead.")
            if not (torch.isfinite(lr).all() and (lr > 0).all()):  # the slider's cap is for one shared α
                raise ValueError(f"The 'lr' parameter as a vector must be finite and > 0. Got {lr.flatten().tolist()}.")
            self.lr = lr.to(data.X_train)
            self.lr_bias = validate("lr", lr_bias if lr_bias is not None else lr.mean().item())
        else:
            self.lr = validate("lr", lr)
            self.lr_bias = validate("lr", lr_bias if lr_bias is not None else lr)
        self.w, self.b = initialize_with_zeros(data.X_train.shape[0], data.X_train.dtype, data.X_train.device)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        grads, cost = propagate(self.w, self.b, self.data.X_train, self.data.Y_train, self.loss)
        self.w = self.w - self.lr * grads["dw"]
        self.b = self.b - self.lr_bias * grads["db"]
        return cost, {"w": grads["dw"], "b": grads["db"]}

    def evaluate(self) -> dict[str, float]:
        d = self.data
        return {"train_accuracy": accuracy(self.w, self.b, d.X_train, d.Y_train),
                "test_accuracy": accuracy(self.w, self.b, d.X_test, d.Y_test)}


def negative_curvature_fraction(costs: torch.Tensor) -> float:
    """Share of interior points (k − 2 of them) where the sampled curve J(t) bends down (J'' < 0).

    A convex function never bends down; a clearly positive share proves a cost is not convex.
    Tiny negative second differences (rounding) are ignored.
    """
    second = costs[2:] - 2 * costs[1:-1] + costs[:-2]  # (k − 2,)
    tolerance = 1e-9 * costs.abs().max().clamp(min=1.0)
    return (second < -tolerance).to(torch.float64).mean().item()
