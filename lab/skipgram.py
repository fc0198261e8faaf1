"""Learning word embeddings: skip-gram with negative sampling, on a corpus whose structure we planted.

The corpus comes from a small grammar (`lab.data.corpus.make_corpus`): people who differ by gender
(he/she) and by status and age (king, prince, man, boy …), and places that are a country or its capital
and share a language and a currency (france/paris/french/euro …). Nothing tells the model these relations; it only
sees which words occur near which. A test can then check what it learned: the planted pairs end up with
more similar vectors than random pairs, and analogies such as man : woman :: king : ? come out right.

Skip-gram, in the course's words: pick a *context* word c, pick a *target* word t within `window`
words of it, and learn to tell this real pair (y = 1) from k pairs (c, random word) (y = 0):

    P(y = 1 | c, t) = σ(θ_tᵀ e_c)
    L = −log σ(θ_tᵀ e_c) − Σ_{j=1..k} log σ(−θ_{n_j}ᵀ e_c)

e_c is row c of the embedding matrix E (V, d) — the course writes E as (d, V), one column per word; rows
are used here so E[c] is word c's vector. θ_t is row t of Θ (V, d). The negatives n_j are drawn from the
unigram frequencies raised to ¾. The gradients are written out by hand (`loss_and_grads`) and tested
against autograd. One training step is one mini-batch of `batch_size` (c, t) pairs drawn at random.
"""

from __future__ import annotations

import itertools

import torch

from lab.data.corpus import Corpus
from lab.embeddings import cosine_similarity, one_thread, pca_2d
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("context_window", "Context window", "How many words on each side count as context.",
          2, low=1, high=20, step=1, integer=True, ui_high=10),
    Param("num_negatives", "Negative samples k", "Random words contrasted with each true context word.",
          5, low=1, high=50, step=1, integer=True, ui_high=20),
    Param("embedding_dim", "Embedding size", "Length of each learned word vector.",
          16, low=2, high=512, step=1, integer=True, ui_high=128),
)


# ---- the training pairs -------------------------------------------------------------------------------

def context_target_pairs(ids: torch.Tensor, sentence: torch.Tensor, window: int) -> torch.Tensor:
    """Every (context, target) pair of word ids at most `window` apart within one sentence: shape (P, 2).

    ids (N,) is the corpus as one row of word ids, sentence (N,) the sentence each word belongs to.
    """
    window = validate("context_window", window)
    pairs = []
    for offset in range(1, window + 1):
        same = sentence[offset:] == sentence[:-offset]  # both words in one sentence
        left, right = ids[:-offset][same], ids[offset:][same]
        pairs += [torch.stack([left, right], 1), torch.stack([right, left], 1)]
    return torch.cat(pairs)  # (P, 2)


# ---- the model ----------------------------------------------------------------------------------------

def loss_and_grads(E: torch.Tensor, Theta: torch.Tensor, c: torch.Tensor, t: torch.Tensor, n: torch.Tensor,
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean negative-sampling loss over B pairs and its gradients, by hand.

    E, Theta (V, d); c, t (B,) context and target ids; n (B, k) negative ids. With s = θᵀe and σ' = σ(1 − σ):
    dL/ds_pos = σ(s_pos) − 1 and dL/ds_neg = σ(s_neg), so
    de_c = (σ(s_pos) − 1) θ_t + Σ_j σ(s_neg_j) θ_n_j, dθ_t = (σ(s_pos) − 1) e_c, dθ_n_j = σ(s_neg_j) e_c.
    Returns (cost (), {"E": (V, d), "Theta": (V, d)}), rows of words not in the batch being zero.
    """
    B = c.shape[0]
    e = E[c]  # (B, d)
    theta_t, theta_n = Theta[t], Theta[n]  # (B, d), (B, k, d)
    s_pos = (e * theta_t).sum(-1)  # (B,)
    s_neg = (theta_n * e[:, None, :]).sum(-1)  # (B, k)
    # −log σ(s) = softplus(−s), −log σ(−s) = softplus(s): finite for any score
    cost = (torch.nn.functional.softplus(-s_pos) + torch.nn.functional.softplus(s_neg).sum(-1)).mean()
    g_pos = (torch.sigmoid(s_pos) - 1) / B  # (B,) dJ/ds_pos
    g_neg = torch.sigmoid(s_neg) / B  # (B, k) dJ/ds_neg
    d_e = g_pos[:, None] * theta_t + (g_neg[:, :, None] * theta_n).sum(1)  # (B, d)
    d_theta_t = g_pos[:, None] * e  # (B, d)
    d_theta_n = g_neg[:, :, None] * e[:, None, :]  # (B, k, d)
    dE = torch.zeros_like(E).index_add_(0, c, d_e)  # (V, d): a word seen twice adds both parts
    dTheta = torch.zeros_like(Theta).index_add_(0, t, d_theta_t).index_add_(0, n.reshape(-1),
                                                                           d_theta_n.reshape(-1, E.shape[1]))
    return cost, {"E": dE, "Theta": dTheta}


class SkipGram:
    """A skip-gram task for `lab.training.train`: each step is one SGD step on a random mini-batch.

    As in word2vec, E starts uniform in ±0.5/d and Θ at zero, and frequent words are thinned before the
    pairs are made: a word of frequency f is kept with probability (√(f/s) + 1)·s/f (s = `subsample`;
    0 keeps every word), so "the" and "of" stop dominating every window.
    """

    def __init__(self, corpus: Corpus, *, window: int = 2, num_negatives: int = 5, dim: int = 16,
                 lr: float = 5.0, batch_size: int = 512, subsample: float = 0.005, seed: int = 0):
        self.corpus = corpus
        self.window = validate("context_window", window)
        self.num_negatives = validate("num_negatives", num_negatives)
        self.dim = validate("embedding_dim", dim)
        self.lr, self.batch_size = validate("lr", lr), validate("batch_size", batch_size)
        self.generator = make_generator(seed)
        self.word_id = {w: i for i, w in enumerate(corpus.vocab)}
        ids = torch.tensor([self.word_id[w] for s in corpus.sentences for w in s])  # (N,) the corpus in one row
        sentence = torch.repeat_interleave(torch.arange(len(corpus.sentences)),
                                           torch.tensor([len(s) for s in corpus.sentences]))  # (N,)
        counts = torch.bincount(ids, minlength=len(corpus.vocab))  # (V,)
        self.noise = counts.double() ** 0.75 / (counts.double() ** 0.75).sum()  # (V,) negative-sampling P(w)
        if subsample > 0:
            f = counts.double() / counts.sum()  # (V,) word frequencies
            keep = ((f / subsample).sqrt() + 1) * subsample / f  # (V,) probability of keeping each word
            kept = torch.rand(len(ids), generator=self.generator, dtype=torch.float64) < keep[ids]  # (N,)
            ids, sentence = ids[kept], sentence[kept]
        self.pairs = context_target_pairs(ids, sentence, self.window)  # (P, 2)
        V, d = len(corpus.vocab), self.dim
        self.E = (torch.rand(V, d, generator=self.generator) - 0.5) / d  # (V, d)
        self.Theta = torch.zeros(V, d)  # (V, d)

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with one_thread():
            return self._step()

    def _step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        rows = torch.randint(len(self.pairs), (self.batch_size,), generator=self.generator)
        c, t = self.pairs[rows, 0], self.pairs[rows, 1]  # (B,), (B,)
        n = torch.multinomial(self.noise, self.batch_size * self.num_negatives, replacement=True,
                              generator=self.generator).reshape(self.batch_size, self.num_negatives)  # (B, k)
        cost, grads = loss_and_grads(self.E, self.Theta, c, t, n)
        self.E -= self.lr * grads["E"]
        self.Theta -= self.lr * grads["Theta"]
        return cost, grads

    def vector(self, word: str) -> torch.Tensor:
        """The learned e_word, shape (d,)."""
        return self.E[self.word_id[word]]

    def similarity(self, w1: str, w2: str) -> float:
        return float(cosine_similarity(self.vector(w1), self.vector(w2)))

    def analogy(self, a: str, b: str, c: str) -> str:
        """The word d, other than a, b, c, whose vector is most like e_b − e_a + e_c (cosine, unit vectors)."""
        unit = self.E / self.E.norm(dim=1, keepdim=True).clamp_min(1e-8)  # (V, d)
        ia, ib, ic = (self.word_id[w] for w in (a, b, c))
        scores = unit @ (unit[ib] - unit[ia] + unit[ic])  # (V,)
        scores[[ia, ib, ic]] = -torch.inf
        return self.corpus.vocab[int(scores.argmax())]

    def evaluate(self) -> dict[str, float]:
        with one_thread():
            return self._evaluate()

    def _evaluate(self) -> dict[str, float]:
        """Mean cosine of the planted pairs vs of all pairs of the words involved, and analogy accuracy."""
        planted = [p for pairs in self.corpus.relations.values() for p in pairs]
        words = sorted(self.corpus.groups)
        others = [(a, b) for a, b in itertools.combinations(words, 2)]
        mean = lambda pairs: sum(self.similarity(a, b) for a, b in pairs) / len(pairs)
        correct = sum(self.analogy(a, b, c) == d for a, b, c, d in self.corpus.analogies)
        return {"planted_pair_cosine": mean(planted), "all_pair_cosine": mean(others),
                "analogy_accuracy": correct / len(self.corpus.analogies)}

    def project(self, words: list[str], reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """2-D PCA of the learned vectors of `words`: (points (m, 2), components (2, d)); see `pca_2d`."""
        return pca_2d(self.E[[self.word_id[w] for w in words]].double(), reference)
