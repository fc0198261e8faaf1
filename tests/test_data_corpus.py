"""lab.data.corpus: the generated corpus and the relations planted in it."""

import pytest

from lab.data.corpus import PLACES, make_corpus


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


def test_corpus_is_reproducible_and_holds_the_planted_words(corpus):
    assert make_corpus(seed=0).sentences == corpus.sentences
    assert make_corpus(seed=1).sentences != corpus.sentences
    assert {"king", "queen", "paris", "france", "he", "she", "euro"} <= set(corpus.vocab)
    assert ("king", "queen") in corpus.relations["gender"] and ("france", "paris") in corpus.relations["capital"]
    assert ("man", "woman", "king", "queen") in corpus.analogies
    assert len(corpus.sentences) == 4000 and corpus.num_tokens > 20_000
    assert corpus.sentences[:2] == [["she", "is", "the", "girl", "of", "the", "market"],
                                    ["in", "cairo", "people", "speak", "arabic", "and", "pay", "in", "pound"]]
    with pytest.raises(ValueError, match="The 'num_sentences' parameter must be ≥ 10. Got 3 instead."):
        make_corpus(3)


def test_every_planted_word_occurs_and_groups_name_people_and_places(corpus):
    words = set(corpus.vocab)
    assert all(w in words for pair in corpus.relations["gender"] for w in pair)
    assert all(w in words for place in PLACES for w in place)
    assert corpus.groups["paris"] == "capitals" and corpus.groups["france"] == "countries"
    assert corpus.groups["king"] == "royals" and corpus.groups["boy"] == "commoners"
    assert len(corpus.analogies) == 4 * 3 + 6 * 5  # ordered pairs of the 4 gender pairs and of the 6 places
    assert make_corpus(10, seed=2).sentences == make_corpus(10, seed=2).sentences
