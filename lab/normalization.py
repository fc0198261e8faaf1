"""Input normalization: x := (x − μ)/σ per feature, with μ and σ measured on the training set and reused,
unchanged, on the dev and test sets.

For X of shape (n, m), one example per column (the course's recipe):

    μ  = (1/m) Σᵢ x⁽ⁱ⁾              the mean of each feature, shape (n, 1)
    σ² = (1/m) Σᵢ (x⁽ⁱ⁾ − μ)²       its variance (divided by m, as the course and torch's batch norm do), (n, 1)
    x := (x − μ) / σ                every feature of the training set now has mean 0 and spread 1

Why it helps gradient descent: the curvature of the cost along a weight grows with the square of its feature's
size. Features S times apart make J a valley S² times steeper across than along; one learning rate must be
small enough for the steep direction, so the flat one crawls. `curvature_ratio` (κ) measures that, and
`ScaleComparison` walks gradient descent down the raw and the normalized cost side by side.

The notes divide each feature by its mean instead (ERRATA 6): `notes_normalize` keeps that recipe to show what
it leaves undone. `ShiftExperiment` shows why a dev set must be normalized with the training set's μ and σ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import lab.vector_learning_rate  # noqa: F401  (declares 'feature_scale', the ratio of the features' sizes)
from lab.data.tables import load_table
from lab.data.two_features import make_two_features
from lab.logistic import propagate, stable_cross_entropy_cost
from lab.params import Param, register, validate

register(
    Param("step_fraction", "Step size f (α = f / L)",
          "Each run's learning rate as a fraction of 1/L, L the steepest curvature of its own cost; "
          "below 2 the cost falls at every step.", 1.0, low=0.01, high=2.0, high_inclusive=False, step=0.05,
          ui_low=0.1, ui_high=1.95),
    Param("dev_shift", "Dev-set shift of x₂ (training σ's)",
          "How far the dev set's inputs have moved along x₂, in training standard deviations; the rule "
          "that labels them stays the same.", 1.5, low=-5.0, high=5.0, step=0.1, ui_low=-3.0, ui_high=3.0),
)

TOLERANCE = 0.01  # "converged" means a cost within this of the lowest one
FEATURE_SCALE = 100.0  # the badly scaled set's default ratio (the slider's is declared in lab.vector_learning_rate)


# ---------------------------------------------------------------- the recipe


def _check_matrix(X: torch.Tensor) -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or not X.is_floating_point():
        raise ValueError(f"The 'X' parameter must be a 2-D float tensor of shape (n, m). Got {_describe(X)} instead.")
    if not torch.isfinite(X).all():
        raise ValueError("The 'X' parameter must hold only finite values. Got NaN or ±inf instead.")


def _describe(value) -> str:
    return f"shape {tuple(value.shape)}, {value.dtype}" if isinstance(value, torch.Tensor) else repr(value)


def fit_normalizer(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """μ (n, 1) and σ (n, 1) of the training inputs X (n, m): each feature's mean and standard deviation over m.

    σ divides by m (the course's σ² = (1/m) Σ (x − μ)²). A constant feature (σ = 0) is a ValueError, not an ε:
    it carries no information, and with σ = ε a dev example that differs from it by 0.01 would become 0.01/ε.
    """
    _check_matrix(X)
    if X.shape[1] < 2:
        raise ValueError(f"The 'X' parameter needs m ≥ 2 examples (columns) to measure a spread. "
                         f"Got shape {tuple(X.shape)} instead.")
    constant = (X.amax(dim=1) == X.amin(dim=1)).nonzero().flatten().tolist()
    if constant:
        raise ValueError(f"The 'X' parameter has constant features (rows {constant}): σ = 0 there, so (x − μ)/σ "
                         "is 0/0. Drop them: a feature that never changes tells the model nothing.")
    mu = X.mean(dim=1, keepdim=True)  # (n, 1)
    sigma = ((X - mu) ** 2).mean(dim=1, keepdim=True).sqrt()  # (n, 1)
    return mu, sigma


def normalize(X: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """(X − μ) / σ for X (n, m) and the training set's μ (n, 1), σ (n, 1): the same shift and scale for every set."""
    _check_matrix(X)
    n = X.shape[0]
    for name, value in (("mu", mu), ("sigma", sigma)):
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != (n, 1):
            raise ValueError(f"The '{name}' parameter must have shape (n, 1) = ({n}, 1) for X of shape "
                             f"{tuple(X.shape)}. Got {_describe(value)} instead.")
        if not torch.isfinite(value).all():
            raise ValueError(f"The '{name}' parameter must be finite. Got {value.flatten().tolist()} instead.")
    if not (sigma > 0).all():
        raise ValueError(f"The 'sigma' parameter must be > 0 for every feature. Got {sigma.flatten().tolist()}.")
    return (X - mu.to(X)) / sigma.to(X)


def notes_normalize(X: torch.Tensor) -> torch.Tensor:
    """The notes' recipe, x := x / (mean of x), per feature of X (n, m). Kept to show its flaws (ERRATA 6):

    the means become 1, not 0, and each spread becomes σ/|μ| — large for a feature that hovers near 0, tiny for
    one far from 0 — so neither the offset nor the differences in scale go away; a feature with a negative mean
    is also flipped. A zero mean is a ValueError.
    """
    _check_matrix(X)
    mean = X.mean(dim=1, keepdim=True)  # (n, 1)
    if (mean == 0).any():
        rows = (mean == 0).nonzero()[:, 0].tolist()
        raise ValueError(f"The 'X' parameter has features with mean 0 (rows {rows}): the notes' x / mean divides "
                         "by zero there.")
    return X / mean


# ---------------------------------------------------------------- the cost gradient descent walks down


def _with_ones(X: torch.Tensor) -> torch.Tensor:
    """X (n, m) with a row of ones below it, (n + 1, m): the input the bias b multiplies."""
    return torch.cat([X, torch.ones(1, X.shape[1], dtype=X.dtype, device=X.device)])


def curvature_ratio(X: torch.Tensor) -> float:
    """κ = steepest / flattest curvature of the logistic cost J(w, b) at the start (w = 0, b = 0), for X (n, m).

    There J's Hessian is X̃X̃ᵀ/(4m), X̃ = X with a row of ones (for b); κ is the ratio of its largest and smallest
    eigenvalues, computed as (s_max / s_min)² of X̃'s singular values, which stays accurate for huge κ.
    Gradient descent needs about κ steps to make progress along the flattest direction.
    """
    _check_matrix(X)
    s = torch.linalg.svdvals(_with_ones(X).T / math.sqrt(X.shape[1]))  # (n + 1,) largest first
    return (s[0] / s[-1]).item() ** 2 if s[-1] > 0 else math.inf


def fit_logistic(X: torch.Tensor, Y: torch.Tensor, max_steps: int = 100) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The lowest point of the logistic cost for X (n, m), Y (1, m): (w (n, 1), b (), J), by Newton's method.

    Each step solves H·d = ∇J with the exact Hessian H = X̃ diag(a(1 − a)) X̃ᵀ / m and halves d until J falls.
    Newton's steps do not care about the scale of the features, so this finds the minimum of even the worst
    scaled cost in a few steps; it is the yardstick, not the lesson.
    """
    Xt = _with_ones(X)  # (n + 1, m)
    m = Xt.shape[1]
    theta = torch.zeros(Xt.shape[0], 1, dtype=X.dtype, device=X.device)  # (n + 1, 1): w, then b
    cost = stable_cross_entropy_cost(theta.T @ Xt, Y)
    for _ in range(max_steps):
        A = torch.sigmoid(theta.T @ Xt)  # (1, m)
        grad = Xt @ (A - Y).T / m  # (n + 1, 1)
        if grad.abs().max() < 1e-12:
            break
        H = (Xt * (A * (1 - A))) @ Xt.T / m  # (n + 1, n + 1)
        d, t = torch.linalg.solve(H, grad), 1.0
        while (new := stable_cross_entropy_cost((theta - t * d).T @ Xt, Y)) > cost and t > 1e-6:
            t /= 2
        theta, cost = theta - t * d, new
    return theta[:-1], theta[-1, 0], cost.item()


@dataclass(frozen=True)
class Bowl:
    """The logistic cost J(w₁, w₂, b) of one two-feature training set, measured for the pictures."""

    X: torch.Tensor  # (2, m) the inputs, raw or normalized
    Y: torch.Tensor  # (1, m)
    w_best: torch.Tensor  # (2, 1) the weights of the lowest cost
    b_best: torch.Tensor  # () its bias
    best_cost: float  # J at the lowest point
    steepest: float  # L: J's largest curvature anywhere (at w = 0, b = 0), λ_max(X̃X̃ᵀ/m)/4
    kappa: float  # curvature_ratio(X): steepest / flattest at the start
    hessian: torch.Tensor  # (3, 3) J's Hessian at the lowest point, in the order (w₁, w₂, b)


def make_bowl(X: torch.Tensor, Y: torch.Tensor) -> Bowl:
    """Measure the logistic cost of X (2, m), Y (1, m): its minimum (Newton) and its curvatures."""
    _check_matrix(X)
    w, b, best = fit_logistic(X, Y)
    Xt = _with_ones(X)  # (3, m)
    m = X.shape[1]
    A = torch.sigmoid(w.T @ X + b)  # (1, m)
    hessian = (Xt * (A * (1 - A))) @ Xt.T / m  # (3, 3)
    steepest = torch.linalg.eigvalsh(Xt @ Xt.T / m)[-1].item() / 4  # σ′ ≤ ¼: nowhere is J steeper
    return Bowl(X, Y, w, b, best, steepest, curvature_ratio(X), hessian)


def cost_grid(bowl: Bowl, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """J(w₁, w₂, b_best) on a grid: w1 (k,), w2 (j,) → (j, k), rows following w₂ as contour plots expect."""
    W2, W1 = torch.meshgrid(w2, w1, indexing="ij")  # (j, k) each
    Xt, Y = _with_ones(bowl.X), bowl.Y  # (3, m), (1, m)
    theta = torch.stack([W1.flatten(), W2.flatten(), torch.full_like(W1.flatten(), bowl.b_best.item())], dim=1).to(Xt)
    # J = mean(softplus(z)) − mean(y·z): the second mean is linear in θ, one small product instead of (j·k, m) ones
    softplus = torch.nn.functional.softplus(theta @ Xt).mean(dim=1)  # (j·k,)
    return (softplus - theta @ (Xt @ Y.T)[:, 0] / Y.shape[1]).reshape(W1.shape)


class GradientWalk:
    """A `lab.training.Trainable`: gradient descent on a Bowl's cost from w = 0, b = 0 with learning rate `alpha`.

    w := w − α·∂J/∂w, b := b − α·∂J/∂b (the course's update, gradients from `lab.logistic.propagate`).
    `path` holds every (w₁, w₂), the start first; `path[k]` is where step k left the weights.
    """

    def __init__(self, bowl: Bowl, alpha: float):
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < math.inf:
            raise ValueError(f"The 'alpha' parameter must be a finite number > 0. Got {alpha!r} instead.")
        self.bowl, self.alpha = bowl, float(alpha)
        self.w = torch.zeros(2, 1, dtype=bowl.X.dtype, device=bowl.X.device)  # (2, 1)
        self.b = torch.zeros((), dtype=bowl.X.dtype, device=bowl.X.device)
        self.path: list[tuple[float, float]] = [(0.0, 0.0)]

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        grads, cost = propagate(self.w, self.b, self.bowl.X, self.bowl.Y)
        self.w = self.w - self.alpha * grads["dw"]
        self.b = self.b - self.alpha * grads["db"]
        self.path.append((self.w[0, 0].item(), self.w[1, 0].item()))
        return cost, {"w": grads["dw"], "b": grads["db"]}

    def cost(self) -> float:
        """J at the current weights."""
        return stable_cross_entropy_cost(self.w.T @ self.bowl.X + self.b, self.bowl.Y).item()

    def evaluate(self) -> dict[str, float]:
        return {"final_cost": self.cost()}

    def estimated_steps(self, target: float) -> float:
        """About how many steps in all this walk needs to bring J down to `target` (> the lowest cost).

        Near the minimum each step multiplies the distance along the slowest direction by ρ = max |1 − αλ|
        over the Hessian's eigenvalues λ, and the excess cost by ρ², so from an excess g the remaining steps are
        ln(g / (target − J_min)) / (−2 ln ρ). An estimate: it tends to run high, by up to about 2×.
        """
        excess, allowed = self.cost() - self.bowl.best_cost, target - self.bowl.best_cost
        done = len(self.path) - 1
        if excess <= allowed:
            return float(done)
        curvatures = torch.linalg.eigvalsh(self.bowl.hessian)
        rho = (1 - self.alpha * curvatures).abs().max().item()
        return done + math.log(excess / allowed) / (-2 * math.log(rho)) if rho < 1 else math.inf


def steps_to_reach(costs: list[float], target: float) -> int | None:
    """The number of steps after which the cost first was ≤ `target`, from the costs before each step
    (costs[k] = J after k steps); None if it never was."""
    return next((k for k, cost in enumerate(costs) if cost <= target), None)


class ScaleComparison:
    """The same two-feature set raw and normalized, with one rule for the learning rate of both.

    Feature x₂ is `feature_scale` times larger than x₁ (`lab.data.two_features`, m examples). Each cost gets
    α = step_fraction / L, L its own steepest curvature: the largest rate that is safe for it, scaled alike.
    `target` is the cost both must reach: TOLERANCE above their common minimum (normalizing only
    reparametrizes the model, so the lowest cost is the same). `walks` holds one GradientWalk per cost, keyed
    by LABELS, ready to step from w = 0.
    """

    LABELS = ("raw features", "normalized features")

    def __init__(self, feature_scale: float = FEATURE_SCALE, step_fraction: float = 1.0, seed: int = 0,
                 m: int = 300):
        self.feature_scale = validate("feature_scale", feature_scale)
        self.step_fraction = validate("step_fraction", step_fraction)
        X, Y = make_two_features(m, self.feature_scale, 0.0, seed)
        self.mu, self.sigma = fit_normalizer(X)
        raw, normalized = make_bowl(X, Y), make_bowl(normalize(X, self.mu, self.sigma), Y)
        self.bowls = dict(zip(self.LABELS, (raw, normalized), strict=True))
        self.alphas = {label: self.step_fraction / bowl.steepest for label, bowl in self.bowls.items()}
        self.target = max(bowl.best_cost for bowl in self.bowls.values()) + TOLERANCE
        self.walks = {label: GradientWalk(bowl, self.alphas[label]) for label, bowl in self.bowls.items()}

    def contours(self, points: int = 61) -> dict[str, tuple[list[float], list[float], torch.Tensor]]:
        """For each cost: w₁ values, w₂ values and log₁₀(J − J_min + 10⁻³) on that grid, (len w₂, len w₁).

        Both share one square window around w = 0 and both minima, so the same distance means the same on
        both plots. The raw cost's valley is about 1/feature_scale wide: its grid gets extra rows along the
        valley floor, or the contours would miss it between two rows.
        """
        corners = torch.tensor([[0.0, 0.0]] + [b.w_best.flatten().tolist() for b in self.bowls.values()])
        centre = (corners.amax(0) + corners.amin(0)) / 2
        half = 0.65 * (corners.amax(0) - corners.amin(0)).max().item()
        low, high = centre - half, centre + half
        w1 = torch.linspace(low[0].item(), high[0].item(), points, dtype=torch.float64)
        result = {}
        for label, bowl in self.bowls.items():
            w2 = torch.linspace(low[1].item(), high[1].item(), points, dtype=torch.float64)
            w2 = torch.cat([w2, _valley_rows(bowl, w1, low[1].item(), high[1].item(), points)]).unique()
            result[label] = (w1.tolist(), w2.tolist(), torch.log10(cost_grid(bowl, w1, w2) - bowl.best_cost + 1e-3))
        return result


def _valley_rows(bowl: Bowl, w1: torch.Tensor, low: float, high: float, points: int) -> torch.Tensor:
    """Rows of w₂ spread over the valley floor of the bowl's cost across the w₁ range, clipped to [low, high].

    From the quadratic picture at the minimum: the floor is w₂ = w₂* − (H₁₂/H₂₂)(w₁ − w₁*), and the valley's
    walls rise within a few 1/√H₂₂ of it.
    """
    H, (w1_best, w2_best) = bowl.hessian, bowl.w_best.flatten().tolist()
    floor = w2_best - (H[0, 1] / H[1, 1]).item() * (torch.stack([w1[0], w1[-1]]) - w1_best)
    margin = 6 / math.sqrt(H[1, 1].item())
    start, end = max(low, floor.min().item() - margin), min(high, floor.max().item() + margin)
    if start >= end:
        return torch.empty(0, dtype=torch.float64)
    return torch.linspace(start, end, points + 20, dtype=torch.float64)


# ---------------------------------------------------------------- dev sets: the training set's μ and σ, always


@dataclass(frozen=True)
class DevScore:
    """The dev set as one normalization shows it to the model, and how the model scores on it."""

    X: torch.Tensor  # (2, m_dev) the normalized dev inputs
    accuracy: float  # share of dev examples the model labels correctly
    cost: float  # the cross-entropy cost J on the dev set
    mean: tuple[float, float]  # of each normalized feature: (0, 0) reads "looks like the training set"


class ShiftExperiment:
    """Logistic regression fitted once on normalized training data, then scored on dev sets whose inputs moved.

    The training set and every dev set come from `lab.data.two_features` (x₂ `scale` times larger than x₁);
    a dev set's inputs are moved along x₂ by `dev_shift` standard deviations, its labelling rule unchanged.
    """

    def __init__(self, scale: float = 10.0, seed: int = 0, m_train: int = 300, m_dev: int = 200):
        self.scale, self.seed, self.m_dev = scale, seed, m_dev
        X, self.Y_train = make_two_features(m_train, scale, 0.0, seed)
        self.mu, self.sigma = fit_normalizer(X)
        self.X_train = normalize(X, self.mu, self.sigma)  # (2, m_train)
        self.w, self.b, self.train_cost = fit_logistic(self.X_train, self.Y_train)
        self.train_accuracy = self._accuracy(self.X_train, self.Y_train)

    def dev_set(self, dev_shift: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The raw dev inputs X (2, m_dev) and labels Y (1, m_dev), moved by `dev_shift` along x₂.

        The same examples for every shift (one seed): the slider slides them and relabels by the same rule.
        """
        shift = validate("dev_shift", dev_shift)
        return make_two_features(self.m_dev, self.scale, shift, self.seed + 1)

    def dev_scores(self, dev_shift: float) -> tuple[torch.Tensor, dict[str, DevScore]]:
        """Y (1, m_dev) and the dev set scored twice: normalized with the training μ, σ ("training") — the
        course's way — and with its own ("own"), which hides the shift and changes the inputs the model sees."""
        X, Y = self.dev_set(dev_shift)
        scores = {"training": normalize(X, self.mu, self.sigma), "own": normalize(X, *fit_normalizer(X))}
        return Y, {name: self._score(Xn, Y) for name, Xn in scores.items()}

    def probabilities(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """ŷ of the fitted model on a grid of normalized inputs: x1 (k,), x2 (j,) → (j, k)."""
        X2, X1 = torch.meshgrid(x2, x1, indexing="ij")
        return torch.sigmoid(self.w[0, 0] * X1 + self.w[1, 0] * X2 + self.b)

    def _accuracy(self, X: torch.Tensor, Y: torch.Tensor) -> float:
        return ((self.w.T @ X + self.b > 0).to(Y.dtype) == Y).to(torch.float64).mean().item()

    def _score(self, X: torch.Tensor, Y: torch.Tensor) -> DevScore:
        cost = stable_cross_entropy_cost(self.w.T @ X + self.b, Y).item()
        mean = X.mean(dim=1).tolist()
        return DevScore(X, self._accuracy(X, Y), cost, (mean[0], mean[1]))


# ---------------------------------------------------------------- the notes' recipe against the course's, real data


@dataclass(frozen=True)
class RecipeStats:
    """What one recipe leaves of a table's features."""

    spreads: list[float]  # (n,) each feature's standard deviation after the recipe
    means: list[float]  # (n,) each feature's mean after it
    kappa: float  # curvature_ratio: steepest / flattest curvature of the logistic cost at the start


RECIPES = {"raw": "raw measurements", "notes": "x / mean (the notes)", "course": "(x − μ) / σ (the course)"}


def recipe_report(feature_table: str = "wine") -> dict[str, RecipeStats]:
    """Each recipe of RECIPES applied to the real table `feature_table` (see `lab.data.tables`)."""
    X = load_table(feature_table).X  # (n, m)
    versions = {"raw": X, "notes": notes_normalize(X), "course": normalize(X, *fit_normalizer(X))}
    return {name: RecipeStats(Xr.std(dim=1, correction=0).tolist(), Xr.mean(dim=1).tolist(), curvature_ratio(Xr))
            for name, Xr in versions.items()}
