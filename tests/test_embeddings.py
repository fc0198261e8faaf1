"""GloVe word vectors: cosine similarity against PyTorch, analogies GloVe 50-d gets right, unknown words."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.embeddings import WordVectors, cosine_similarity, normalize_word, pca_2d


@pytest.fixture(scope="module")
def glove() -> WordVectors:
    return WordVectors.load()


@pytest.mark.parametrize("shape", [(50,), (7, 50), (3, 4, 5)])
def test_cosine_similarity_matches_torch(shape):
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(shape, generator=g, dtype=torch.float64), torch.randn(shape, generator=g, dtype=torch.float64)
    torch.testing.assert_close(cosine_similarity(u, v), F.cosine_similarity(u, v, dim=-1))


def test_cosine_similarity_reads_1_for_same_direction_0_orthogonal_minus_1_opposite():
    u = torch.tensor([3.0, 4.0])
    assert cosine_similarity(u, 2 * u).item() == pytest.approx(1.0)
    assert cosine_similarity(u, torch.tensor([-4.0, 3.0])).item() == pytest.approx(0.0, abs=1e-7)
    assert cosine_similarity(u, -u).item() == pytest.approx(-1.0)
    assert cosine_similarity(u, torch.zeros(2)).item() == 0.0  # a zero vector: no NaN, as in torch


@pytest.mark.parametrize(("u", "v", "expected"), [
    ([3.0, 4.0], [4.0, 3.0], 24 / 25),  # (12 + 12) / (5 · 5)
    ([1.0, 0.0], [1.0, 1.0], 2 ** -0.5),  # 1 / (1 · √2)
    ([1.0, 2.0, 2.0], [2.0, 1.0, -2.0], 0.0),  # (2 + 2 − 4) / (3 · 3)
    ([1.0, 2.0, 2.0], [-2.0, -4.0, 1.0], -8 / 3 / 21 ** 0.5),  # (−2 − 8 + 2) / (3 · √21)
])
def test_cosine_similarity_by_hand(u, v, expected):
    u, v = torch.tensor(u, dtype=torch.float64), torch.tensor(v, dtype=torch.float64)
    assert cosine_similarity(u, v).item() == pytest.approx(expected, abs=1e-12)
    assert cosine_similarity(torch.stack([u, v]), u).tolist() == pytest.approx([1.0, expected], abs=1e-12)


def test_glove_has_400000_words_of_50_dimensions_loaded_once(glove):
    assert len(glove) == 400_000 and glove.dim == 50 and glove.unit.shape == (400_000, 50)
    assert glove.words[:3] == ["the", ",", "."]  # most frequent first
    assert WordVectors.load() is glove
    assert isinstance(glove.raw, np.memmap)  # the raw matrix is memory-mapped, not copied
    torch.testing.assert_close(glove.unit.norm(dim=1), torch.ones(400_000), atol=1e-5, rtol=0)
    # the first row of glove.6B.50d.txt: "the 0.418 0.24968 -0.41242 …"
    torch.testing.assert_close(glove.vector("the")[:3], torch.tensor([0.418, 0.24968, -0.41242]))


def test_similarity_is_the_cosine_of_the_raw_vectors(glove):
    expected = F.cosine_similarity(glove.vector("king"), glove.vector("queen"), dim=0).item()
    assert glove.similarity("king", "queen") == pytest.approx(expected, abs=1e-6)
    assert glove.similarity("King ", "QUEEN") == pytest.approx(expected, abs=1e-6)  # GloVe 6B is lower case
    # similar words near 1, unrelated ones near 0 (the notes say similar words are near 0)
    assert glove.similarity("king", "queen") > 0.75 > 0.1 > glove.similarity("king", "carburetor")


@pytest.mark.parametrize("a, b, c, d", [
    ("man", "woman", "king", "queen"),
    ("france", "paris", "italy", "rome"),
    ("france", "paris", "japan", "tokyo"),
    ("germany", "berlin", "france", "paris"),
    ("brother", "sister", "uncle", "aunt"),
    ("good", "better", "bad", "worse"),
    ("walk", "walked", "swim", "swam"),
])
def test_analogies_glove_50d_gets_right(glove, a, b, c, d):
    answers = glove.analogy(a, b, c, k=5)
    assert answers[0][0] == d
    assert {a, b, c}.isdisjoint(w for w, _ in answers)
    scores = [s for _, s in answers]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1


def test_analogy_score_is_the_cosine_with_b_minus_a_plus_c(glove):
    query = glove.unit[glove.id("woman")] - glove.unit[glove.id("man")] + glove.unit[glove.id("king")]
    word, score = glove.analogy("man", "woman", "king", k=1)[0]
    assert score == pytest.approx(F.cosine_similarity(query, glove.unit[glove.id(word)], dim=0).item(), abs=1e-5)


def test_analogy_excludes_the_query_words_which_would_otherwise_win(glove):
    """king itself is nearer to e_woman − e_man + e_king than queen is; analogy() leaves it out and answers queen."""
    query = glove.unit[glove.id("woman")] - glove.unit[glove.id("man")] + glove.unit[glove.id("king")]
    king, queen = (cosine_similarity(query, glove.vector(w)).item() for w in ("king", "queen"))
    assert king > queen  # why the three query words must be left out
    (answer, score), = glove.analogy("man", "woman", "king", k=1)
    assert answer == "queen" and score == pytest.approx(queen, abs=1e-5)


def test_nearest_neighbours_exclude_the_word_and_are_ranked(glove):
    neighbours = glove.nearest("frog", 5)
    assert len(neighbours) == 5 and "frog" not in [w for w, _ in neighbours]
    assert neighbours[0][0] in {"toad", "snake", "frogs"}
    assert neighbours[0][1] == pytest.approx(glove.similarity("frog", neighbours[0][0]), abs=1e-5)


def test_unknown_word_raises_a_value_error_naming_it_with_suggestions(glove):
    with pytest.raises(ValueError, match=r'"kign" is not among the 400,000 words.*Did you mean: king'):
        glove.analogy("man", "woman", "kign")
    with pytest.raises(ValueError, match='"qeen"'):
        glove.similarity("king", "qeen")
    with pytest.raises(ValueError, match="No word of the vocabulary is spelled like it"):
        glove.vector("xqzptlw")


def test_check_returns_a_message_instead_of_raising(glove):
    assert glove.check("man", "woman", "king") is None
    assert glove.check("man", "womann", "kign").startswith('"womann" is not among')  # the first unknown word
    assert glove.check("man", "  ") == "Type a word in each box."
    assert glove.suggestions("fracne")[0] == "france"
    assert glove.suggestions("kign")[0] == "king"  # a swapped pair of letters
    assert "paris" in glove.suggestions("pariss")


def test_k_is_validated(glove):
    with pytest.raises(ValueError, match="The 'top_k' parameter must be in the range"):
        glove.nearest("king", 0)


def test_word_vectors_from_any_matrix_and_shape_check():
    vectors = WordVectors(["a", "b", "c"], torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.1]]))
    assert vectors.nearest("a", 1)[0][0] == "b"  # cos(a, b) = 0 beats cos(a, c) < 0
    assert vectors.similarity("a", "c") == pytest.approx(-1 / np.hypot(1, 0.1), abs=1e-6)
    with pytest.raises(ValueError, match="The 'matrix' parameter must have one row per word"):
        WordVectors(["a"], np.zeros((2, 3), dtype=np.float32))
    assert normalize_word("  Paris ") == "paris"


def test_pca_2d_matches_svd_and_keeps_its_sign():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(10, 5, generator=g, dtype=torch.float64) * torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])
    points, components = pca_2d(X)
    centred = X - X.mean(0)
    _, S, Vh = torch.linalg.svd(centred, full_matrices=False)
    torch.testing.assert_close(points.abs(), (centred @ Vh[:2].T).abs())
    torch.testing.assert_close(points.norm(dim=0), S[:2])
    assert (components.gather(1, components.abs().argmax(1, keepdim=True)) > 0).all()
    _, flipped = pca_2d(X, reference=-components)
    torch.testing.assert_close(flipped, -components)  # follows the previous frame
    points, _ = pca_2d(X[:1])
    assert points.shape == (1, 2) and torch.equal(points, torch.zeros(1, 2, dtype=X.dtype))


def test_project_places_words_by_their_unit_vectors(glove):
    points, components = glove.project(["man", "woman", "king", "queen"])
    assert points.shape == (4, 2) and components.shape == (2, 50)
    # man→woman and king→queen point about the same way: the analogy as parallel arrows
    assert cosine_similarity(points[1] - points[0], points[3] - points[2]) > 0.8


def test_things_to_try_in_the_notebook(glove):
    assert glove.analogy("man", "doctor", "woman", 1)[0][0] == "nurse"  # the bias of the text
    assert glove.similarity("hot", "cold") > 0.75  # opposites share contexts
    assert glove.similarity("tuesday", "wednesday") > 0.99
    assert glove.similarity("piano", "volcano") == pytest.approx(0.0, abs=0.1)
    assert [w for w, _ in glove.nearest("frog", 4)] == ["snake", "ape", "toad", "monkey"]
    assert glove.suggestions("qeen")[0] == "queen"
    # among frequent words, cosines with "king" stay above −0.3; far lower only for rare tokens
    cosines = cosine_similarity(torch.tensor(np.asarray(glove.raw)), glove.vector("king"))  # (400000,), a copy
    assert cosines[:20_000].min() > -0.3 and cosines.min() < -0.7
    assert cosines[glove.id("queen")].item() == pytest.approx(glove.similarity("king", "queen"), abs=1e-5)
