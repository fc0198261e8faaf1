"""Face verification with a learned similarity: an embedding network trained with the triplet loss.

Verification (1:1) asks "is this the person they claim to be?": compare one image with one stored image.
Recognition (1:K) asks "which of my K people is this, if any?": compare it with every stored image. With one
stored image per person (one-shot learning) neither can be trained as a classifier; instead a network f maps
an image to a vector, and two images show the same identity when their squared distance ‖f(x₁) − f(x₂)‖² is at
most a threshold τ. f is trained on triplets (anchor A, positive P of the same identity, negative N of another):

    L(A, P, N) = max(‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, 0)      J = Σ over the triplets of L

The margin α asks for more than d(A, P) ≤ d(A, N): without it, f(x) = 0 for every x gives L = 0. Here f ends by
scaling its output to length 1 (as FaceNet does), so every squared distance lies in [0, 4]: α and τ live on that
scale, and the "collapse" is every image mapped to one point rather than to 0.

The identities are scikit-learn's digit classes (`lab.data.identities`): the network trains on digits 0–4 and
is judged on 5–9, which it never sees.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from lab.data.identities import load_digit_identities
from lab.embeddings import one_thread
from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("triplet_margin", "Margin α", "How much farther than the positive the negative must be before a triplet "
          "stops counting; 0 lets every image collapse onto one point.", 0.2, low=0.0, high=4.0, step=0.05,
          ui_high=2.0),
    Param("verify_threshold", "Threshold τ", "Two images are called the same identity when the squared distance of "
          "their embeddings is at most τ.", 0.8, low=0.0, high=4.0, step=0.02),
    Param("triplet_mode", "Triplets", "random: any image of another identity as the negative; hard: the closest "
          "one among 128 candidates that is still farther than the positive.", "random", options=("random", "hard")),
    Param("face_embedding_dim", "Embedding size d", "Length of the vector f(x) each image is mapped to.",
          16, low=2, high=128, step=1, integer=True, ui_high=64),
    Param("triplet_steps", "Training steps", "Mini-batches of 64 triplets to train on.",
          400, low=1, high=5000, step=50, integer=True, ui_low=50, ui_high=2000),
)

DISTANCE_LIMIT = 4.0  # the largest squared distance between two unit vectors
TRIPLETS_PER_STEP = 64
HARD_CANDIDATES = 128  # images a hard negative is chosen from
HIDDEN_UNITS = 128
NUM_PAIRS = 1000  # same-identity pairs (and as many different-identity pairs) of unseen digits for the ROC curve
NUM_REFERENCE_DRAWS = 10  # one-shot accuracy is averaged over this many choices of the one stored image
NUM_SHOWN_TRIPLETS = 40  # triplets of unseen digits a learner can pick from


# ---- the loss, its gradient by hand, and PyTorch's version --------------------------------------------------

def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖x_i − y_i‖² for each row: x, y (N, d) → (N,)."""
    return ((x - y) ** 2).sum(dim=-1)


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, triplet_margin: float = 0.2,
                 *, squared: bool = True, reduction: str = "sum") -> torch.Tensor:
    """The triplet loss of N triplets: anchor, positive, negative (N, d) → a scalar.

    Per triplet max(d(A, P) − d(A, N) + α, 0), with d the squared distance (the course's form) or, with
    `squared=False`, the plain Euclidean distance; "sum" adds the N terms (the course's J), "mean" averages them.
    `squared=False, reduction="mean"` is `torch.nn.functional.triplet_margin_loss` with eps=0.
    """
    triplet_margin = validate("triplet_margin", triplet_margin)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"The 'reduction' parameter must be 'sum' or 'mean'. Got {reduction!r} instead.")
    if not anchor.shape == positive.shape == negative.shape or anchor.dim() != 2:
        raise ValueError(f"anchor, positive and negative must share one shape (N, d). Got {tuple(anchor.shape)}, "
                         f"{tuple(positive.shape)} and {tuple(negative.shape)} instead.")
    d_pos, d_neg = squared_distances(anchor, positive), squared_distances(anchor, negative)  # (N,), (N,)
    if not squared:
        d_pos, d_neg = d_pos.sqrt(), d_neg.sqrt()
    losses = (d_pos - d_neg + triplet_margin).clamp_min(0)  # (N,)
    return losses.sum() if reduction == "sum" else losses.mean()


def triplet_loss_grads(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                       triplet_margin: float = 0.2) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The summed (squared-distance) triplet loss and its gradients, by hand.

    Only triplets with a positive loss (active ones) pass a gradient; for those, from
    d(A, P) − d(A, N) = ‖A − P‖² − ‖A − N‖²:  ∂/∂A = 2(N − P),  ∂/∂P = 2(P − A),  ∂/∂N = 2(A − N).
    Returns (J (), {"anchor": (N, d), "positive": (N, d), "negative": (N, d)}).
    """
    cost = triplet_loss(anchor, positive, negative, triplet_margin)
    active = ((squared_distances(anchor, positive) - squared_distances(anchor, negative) + triplet_margin) > 0)
    on = active.to(anchor.dtype)[:, None]  # (N, 1) 1 for an active triplet, else 0
    return cost, {"anchor": 2 * (negative - positive) * on, "positive": 2 * (positive - anchor) * on,
                  "negative": 2 * (anchor - negative) * on}


def torch_comparison(seed: int = 0, triplet_margin: float = 0.2) -> dict[str, float]:
    """The course's loss beside PyTorch's `triplet_margin_loss` on the same 8 random triplets (d = 4).

    PyTorch measures plain distances ‖A − P‖ (adding eps = 1e-6 to every coordinate of A − P first) and averages
    over the triplets; the course squares the distances and sums. PyTorch also refuses a margin of 0, so for α = 0
    its two entries are left out. Returns each form's value.
    """
    triplet_margin = validate("triplet_margin", triplet_margin)
    g = make_generator(seed)
    a, p, n = (torch.randn(8, 4, generator=g, dtype=torch.float64) for _ in range(3))
    values = {"course (squared, sum)": float(triplet_loss(a, p, n, triplet_margin)),
              "squared, mean": float(triplet_loss(a, p, n, triplet_margin, reduction="mean")),
              "plain distance, mean": float(triplet_loss(a, p, n, triplet_margin, squared=False, reduction="mean"))}
    if triplet_margin > 0:
        values["torch triplet_margin_loss"] = float(F.triplet_margin_loss(a, p, n, margin=triplet_margin))
        values["torch, eps=0"] = float(F.triplet_margin_loss(a, p, n, margin=triplet_margin, eps=0.0))
    return values


# ---- the embedding network ----------------------------------------------------------------------------------

class EmbeddingNet(torch.nn.Module):
    """f: an 8×8 image (64 pixels) → a unit vector of length `face_embedding_dim`: Linear, ReLU, Linear, scale to 1."""

    def __init__(self, face_embedding_dim: int = 16, hidden: int = HIDDEN_UNITS):
        super().__init__()
        self.hidden = torch.nn.Linear(64, hidden)
        self.out = torch.nn.Linear(hidden, validate("face_embedding_dim", face_embedding_dim))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.out(torch.relu(self.hidden(X))), dim=-1)  # (m, 64) → (m, d), each row length 1


# ---- choosing triplets --------------------------------------------------------------------------------------

def random_triplets(labels: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` random triplets of row indices (anchor, positive, negative), shape (count, 3): the positive is
    another image of the anchor's identity, the negative an image of any other identity."""
    same = labels[:, None] == labels[None, :]  # (m, m)
    anchors = torch.randint(len(labels), (count,), generator=generator)
    positive_ok = same[anchors].clone()
    positive_ok[torch.arange(count), anchors] = False  # not the anchor itself
    positives = torch.multinomial(positive_ok.float(), 1, generator=generator)[:, 0]
    negatives = torch.multinomial((~same[anchors]).float(), 1, generator=generator)[:, 0]
    return torch.stack([anchors, positives, negatives], dim=1)  # (count, 3)


def hard_negatives(d_pos: torch.Tensor, d_candidates: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
    """For each anchor, the candidate of another identity closest to it but still farther than its positive
    (FaceNet's "semi-hard" choice: the nearest wrong identity outright can freeze training in a collapsed state);
    where no candidate is farther, simply the closest. d_pos (B,), d_candidates (B, C), same (B, C) → indices (B,)."""
    wrong = torch.where(same, torch.inf, d_candidates)  # (B, C) distances to other identities only
    beyond = torch.where(wrong > d_pos[:, None], wrong, torch.inf)
    closest_beyond, pick = beyond.min(dim=1)
    return torch.where(torch.isfinite(closest_beyond), pick, wrong.argmin(dim=1))


# ---- judging an embedding -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Roc:
    fpr: torch.Tensor  # (P + 1,) share of different-identity pairs called "same", threshold by threshold
    tpr: torch.Tensor  # (P + 1,) share of same-identity pairs called "same"
    auc: float  # area under the curve: the chance a random same pair is closer than a random different pair


def roc_curve(distances: torch.Tensor, same: torch.Tensor) -> Roc:
    """The ROC curve of "same identity when d ≤ τ" as τ grows from below every distance to above them all.
    distances (P,), same (P,) bool, both classes present."""
    order = torch.argsort(distances, stable=True)
    hits = same[order].double()
    tpr = torch.cat([torch.zeros(1, dtype=torch.float64), hits.cumsum(0) / hits.sum()])
    fpr = torch.cat([torch.zeros(1, dtype=torch.float64), (1 - hits).cumsum(0) / (1 - hits).sum()])
    # tied distances: keep only the last point of each run of equal values, so ties make a diagonal step
    d = distances[order]
    keep = torch.cat([torch.ones(1, dtype=torch.bool), torch.cat([d[1:] != d[:-1], torch.ones(1, dtype=torch.bool)])])
    fpr, tpr = fpr[keep], tpr[keep]
    auc = float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2).sum())
    return Roc(fpr, tpr, auc)


@dataclass(frozen=True)
class Verdicts:
    threshold: float  # τ
    tpr: float  # same-identity pairs accepted (true accepts)
    fpr: float  # different-identity pairs accepted (false accepts)
    accuracy: float  # right calls on the balanced set of pairs
    all_same: bool  # every pair accepted: τ is at or above the largest distance
    all_different: bool  # every pair rejected


def verify_pairs(distances: torch.Tensor, same: torch.Tensor, verify_threshold: float) -> Verdicts:
    """Call every pair with d ≤ τ "same identity" and score the calls. distances (P,), same (P,) bool."""
    tau = validate("verify_threshold", verify_threshold)
    accept = distances <= tau
    tpr, fpr = float(accept[same].float().mean()), float(accept[~same].float().mean())
    return Verdicts(tau, tpr, fpr, float((accept == same).float().mean()), bool(accept.all()),
                    not bool(accept.any()))


def one_shot_accuracy(embeddings: torch.Tensor, labels: torch.Tensor, references: torch.Tensor) -> float:
    """Recognition from one stored image per identity: each image gets the identity of the nearest reference.

    embeddings (m, d); labels (m,); references (R, K): R draws of one row index per identity. The references
    themselves are not scored. Returns the accuracy averaged over the R draws (chance is 1/K).
    """
    ref = embeddings[references]  # (R, K, d)
    d = ((embeddings[None, :, None, :] - ref[:, None, :, :]) ** 2).sum(-1)  # (R, m, K)
    guess = labels[references].gather(1, d.argmin(dim=2))  # (R, m) the nearest reference's identity
    scored = torch.ones_like(guess, dtype=torch.bool)
    scored.scatter_(1, references, False)
    return float(((guess == labels[None, :]) & scored).sum() / scored.sum())


def pick_references(labels: torch.Tensor, draws: int, generator: torch.Generator) -> torch.Tensor:
    """`draws` random choices of one row per identity: (draws, K) indices into `labels`."""
    identities = labels.unique()
    member = (labels[None, :] == identities[:, None]).float()  # (K, m)
    return torch.stack([torch.multinomial(member, 1, generator=generator)[:, 0] for _ in range(draws)])


def verification_pairs(labels: torch.Tensor, count: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """`count` same-identity and `count` different-identity pairs of distinct rows: (first (2·count,),
    second (2·count,), same (2·count,) bool), the same pairs first."""
    triplets = random_triplets(labels, count, generator)  # (count, 3)
    first = torch.cat([triplets[:, 0], triplets[:, 0]])
    second = torch.cat([triplets[:, 1], triplets[:, 2]])
    return first, second, torch.cat([torch.ones(count, dtype=torch.bool), torch.zeros(count, dtype=torch.bool)])


@dataclass(frozen=True)
class TestSet:
    """Images a network is judged on, with the pairs, one-shot references and triplets fixed once (seed 0), so
    every run, whatever its seed, is judged on the same ones."""

    name: str  # what the images are, e.g. "digits 5–9, never seen in training"
    short: str  # the same in a few words, for legends: "digits 5–9 (never seen)"
    X: torch.Tensor  # (m, 64)
    y: torch.Tensor  # (m,) identities
    first: torch.Tensor  # (2·NUM_PAIRS,) row of each pair's first image
    second: torch.Tensor  # (2·NUM_PAIRS,)
    same: torch.Tensor  # (2·NUM_PAIRS,) bool: the pair shows one identity
    references: torch.Tensor  # (NUM_REFERENCE_DRAWS, K) one stored image per identity, per draw
    triplets: torch.Tensor  # (NUM_SHOWN_TRIPLETS, 3) anchor, positive, negative rows a learner can pick
    pixel_one_shot: float  # one-shot accuracy on raw pixels (scaled to length 1): the baseline without learning

    @property
    def identities(self) -> list[int]:
        return sorted(self.y.unique().tolist())


def make_test_set(name: str, short: str, X: torch.Tensor, y: torch.Tensor) -> TestSet:
    """A TestSet of images X (m, 64) with identities y (m,), at least two identities of two images each."""
    fixed = make_generator(0)
    first, second, same = verification_pairs(y, NUM_PAIRS, fixed)
    references = pick_references(y, NUM_REFERENCE_DRAWS, fixed)
    triplets = random_triplets(y, NUM_SHOWN_TRIPLETS, fixed)
    return TestSet(name, short, X, y, first, second, same, references, triplets,
                   one_shot_accuracy(F.normalize(X, dim=-1), y, references))


def pair_images(test: TestSet, pairs: list[int]) -> torch.Tensor:
    """Pairs `pairs` of the test set as images (k, 8, 17): the two digits side by side, a white column between."""
    first, second = test.X[test.first[pairs]], test.X[test.second[pairs]]  # (k, 64) each
    k = len(pairs)
    return torch.cat([first.reshape(k, 8, 8), torch.ones(k, 8, 1), second.reshape(k, 8, 8)], dim=2)


def rows_per_identity(test: TestSet, count: int) -> torch.Tensor:
    """The first `count` rows of each identity of the test set, identity by identity: (≤ count·K,)."""
    return torch.cat([torch.nonzero(test.y == d)[:count, 0] for d in test.identities])


@lru_cache(maxsize=1)
def digit_test_sets() -> dict[str, TestSet]:
    """The two ways the lab judges an embedding: identities never seen, and new images of the seen ones."""
    data = load_digit_identities()
    unseen, seen = (f"{min(y.tolist())}–{max(y.tolist())}" for y in (data.y_unseen, data.y_train))
    return {"unseen": make_test_set(f"digits {unseen}, never seen in training", f"digits {unseen} (never seen)",
                                    data.X_unseen, data.y_unseen),
            "new_photos": make_test_set(f"held-back images of digits {seen}, the trained identities",
                                        f"new images of digits {seen}", data.X_new_photos, data.y_new_photos)}


@dataclass(frozen=True)
class Judgement:
    """How one embedding of one TestSet verifies and recognises."""

    embeddings: torch.Tensor  # (m, d) on the CPU
    pair_distances: torch.Tensor  # (2·NUM_PAIRS,) squared distances of the test set's pairs
    roc: Roc
    one_shot: float  # one-shot recognition accuracy
    spread: float  # mean squared distance of the different-identity pairs: near 0 when the embedding collapsed


def judge(embeddings: torch.Tensor, test: TestSet) -> Judgement:
    """Score embeddings (m, d) of `test.X`: ROC of its pairs, one-shot accuracy, spread."""
    d = squared_distances(embeddings[test.first], embeddings[test.second])  # (2·NUM_PAIRS,)
    return Judgement(embeddings, d, roc_curve(d, test.same), one_shot_accuracy(embeddings, test.y, test.references),
                     float(d[~test.same].mean()))


@dataclass(frozen=True)
class Snapshot:
    step: int  # training steps taken when the embeddings were computed
    judgements: dict[str, Judgement]  # test-set name (as in `digit_test_sets`) → how it fares


class TripletTraining:
    """Train `EmbeddingNet` with the triplet loss on the seen identities, for `lab.training.train`.

    Each step is one Adam step on 64 triplets; the cost is the loss per triplet, J / 64. `evaluate` embeds every
    test set and keeps a `Snapshot` in `self.snapshot` for the views (step 0: the untrained network).
    """

    def __init__(self, *, triplet_margin: float = 0.2, face_embedding_dim: int = 16, lr: float = 0.003,
                 triplet_mode: str = "random", seed: int = 0, device: torch.device | str = "cpu"):
        self.margin = validate("triplet_margin", triplet_margin)
        self.mode = validate("triplet_mode", triplet_mode)
        self.lr, self.device = validate("lr", lr), torch.device(device)
        self.generator = make_generator(seed)
        data = load_digit_identities()
        self.X, self.y = data.X_train.to(self.device), data.y_train  # (m_train, 64), (m_train,)
        self.same = self.y[:, None] == self.y[None, :]  # (m_train, m_train)
        self.tests = digit_test_sets()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # nn.Linear draws its initial weights from the global generator
            self.network = EmbeddingNet(face_embedding_dim).to(self.device)
        self.optimizer = Adam(self.network.parameters(), lr=self.lr)  # the course's Adam, same steps as torch's
        self.steps_done = 0
        self.snapshot = self._snapshot()

    def _threads(self):
        # a step works on a few thousand numbers: on a busy CPU a thread pool costs more than it saves
        return one_thread() if self.device.type == "cpu" else contextlib.nullcontext()

    def triplets(self) -> torch.Tensor:
        """This step's (anchor, positive, negative) row indices (64, 3)."""
        chosen = random_triplets(self.y, TRIPLETS_PER_STEP, self.generator)
        if self.mode == "hard":
            candidates = torch.randint(len(self.y), (HARD_CANDIDATES,), generator=self.generator)
            with torch.no_grad():
                f_a, f_p = self.network(self.X[chosen[:, 0]]), self.network(self.X[chosen[:, 1]])  # (64, d)
                f_c = self.network(self.X[candidates])  # (128, d)
                d_pos = squared_distances(f_a, f_p).cpu()  # (64,)
                d_cand = ((f_a[:, None, :] - f_c[None, :, :]) ** 2).sum(-1).cpu()  # (64, 128)
            chosen[:, 2] = candidates[hard_negatives(d_pos, d_cand, self.same[chosen[:, 0]][:, candidates])]
        return chosen

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with self._threads():
            chosen = self.triplets().to(self.device)
            f = self.network(self.X[chosen.reshape(-1)]).reshape(TRIPLETS_PER_STEP, 3, -1)  # (64, 3, d)
            cost = triplet_loss(f[:, 0], f[:, 1], f[:, 2], self.margin) / TRIPLETS_PER_STEP
            self.optimizer.zero_grad()
            cost.backward()
            self.optimizer.step()
        self.steps_done += 1
        return cost.detach(), {"W1": self.network.hidden.weight.grad, "W2": self.network.out.weight.grad}

    @torch.no_grad()
    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """f(X) on the CPU: X (m, 64) → (m, d)."""
        with self._threads():
            return self.network(X.to(self.device)).cpu()

    def _snapshot(self) -> Snapshot:
        return Snapshot(self.steps_done, {name: judge(self.embed(test.X), test) for name, test in self.tests.items()})

    def evaluate(self) -> dict[str, float]:
        self.snapshot = snap = self._snapshot()
        metrics = {}
        for name, j in snap.judgements.items():
            metrics.update({f"{name}_one_shot": j.one_shot, f"{name}_auc": j.roc.auc, f"{name}_spread": j.spread})
        return metrics


def triplet_distances(judgement: Judgement, test: TestSet, index: int, triplet_margin: float) -> dict[str, float]:
    """Shown triplet `index` of `test` under `judgement`'s embedding: d(A, P), d(A, N) and its loss at margin α."""
    triplet_margin = validate("triplet_margin", triplet_margin)
    if not 0 <= index < len(test.triplets):
        raise ValueError(f"The 'index' parameter must be in [0, {len(test.triplets) - 1}]. Got {index!r} instead.")
    a, p, n = test.triplets[index].tolist()
    E = judgement.embeddings
    d_ap, d_an = float(squared_distances(E[a], E[p])), float(squared_distances(E[a], E[n]))
    return {"d_ap": d_ap, "d_an": d_an, "loss": max(d_ap - d_an + triplet_margin, 0.0)}


def collapse_text(spread: float, triplet_margin: float) -> str:
    """'' for a healthy embedding; a warning when the embedding put the identities on top of each other."""
    triplet_margin = validate("triplet_margin", triplet_margin)
    if math.isfinite(spread) and spread < 0.05:
        why = ("margin α = 0 asks only for d(A, P) ≤ d(A, N), and one point for every image meets that"
               if triplet_margin == 0 else "every image lands near one point")
        return f"The embedding has collapsed: different identities are only {spread:.3f} apart on average ({why})."
    return ""
