"""A generated corpus whose structure we planted, for learning word embeddings (`lab.skipgram`).

The sentences come from a small grammar: people who differ by gender (he/she) and by status and age
(king, prince, man, boy …), and places that are a country or its capital and share a language and a
currency (france/paris/french/euro …). The planted pairs and analogies come with the corpus, so a test
can check what a model learned from nothing but which words occur near which. Reproducible by seed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from lab.seeding import make_generator

# (male, female) words for each (status, age): the gender direction is shared by all four pairs.
PEOPLE = {("royal", "adult"): ("king", "queen"), ("royal", "young"): ("prince", "princess"),
          ("common", "adult"): ("man", "woman"), ("common", "young"): ("boy", "girl")}
PRONOUNS = {"male": ("he", "his"), "female": ("she", "her")}  # (subject, possessive)
STATUS_VERBS = {"royal": ("reigns", "rules", "commands", "judges"), "common": ("farms", "trades", "sells", "sews")}
STATUS_NOUNS = {"royal": ("palace", "castle", "crown", "throne"), "common": ("village", "farm", "street", "market")}
AGE_VERBS = {"adult": ("works", "drives", "votes", "cooks"), "young": ("plays", "studies", "laughs", "grows")}
AGE_ADJECTIVES = {"adult": ("grown", "busy", "married", "tall"), "young": ("little", "small", "playful", "tiny")}
# country, capital, language, currency: a country and its capital share the last two.
PLACES = (("france", "paris", "french", "euro"), ("italy", "rome", "italian", "lira"),
          ("japan", "tokyo", "japanese", "yen"), ("egypt", "cairo", "arabic", "pound"),
          ("russia", "moscow", "russian", "ruble"), ("china", "beijing", "chinese", "yuan"))
KIND_NOUNS = {"country": ("country", "nation", "land", "state"), "city": ("city", "capital", "town", "metropolis")}
KIND_ROLES = {"country": ("president", "army", "government", "border"),
              "city": ("mayor", "subway", "airport", "downtown")}


@dataclass(frozen=True)
class Corpus:
    sentences: list[list[str]]  # tokenised sentences
    vocab: list[str]  # every word, most frequent first
    relations: dict[str, list[tuple[str, str]]]  # planted pairs by relation, e.g. "gender": [("king", "queen"), …]
    analogies: list[tuple[str, str, str, str]]  # planted a : b :: c : d quadruples
    groups: dict[str, str]  # word → group for colouring ("royals", "countries", …); function words absent

    @property
    def num_tokens(self) -> int:
        return sum(len(s) for s in self.sentences)


def _person_sentence(pick) -> list[str]:
    (status, age), pair = pick(list(PEOPLE.items()))
    gender = pick(["male", "female"])
    word = pair[0] if gender == "male" else pair[1]
    subject, possessive = PRONOUNS[gender]
    template = pick([0, 1, 2])
    if template == 0:  # "the king reigns and he works"
        return ["the", word, pick(STATUS_VERBS[status]), "and", subject, pick(AGE_VERBS[age])]
    if template == 1:  # "she is the queen of the castle"
        return [subject, "is", "the", word, "of", "the", pick(STATUS_NOUNS[status])]
    # "the little prince lost his crown"
    return ["the", pick(AGE_ADJECTIVES[age]), word, "lost", possessive, pick(STATUS_NOUNS[status])]


def _place_sentence(pick) -> list[str]:
    country, capital, language, currency = pick(list(PLACES))
    kind = pick(["country", "city"])
    place = country if kind == "country" else capital
    template = pick([0, 1, 2])
    if template == 0:  # "in japan people speak japanese and pay in yen"
        return ["in", place, "people", "speak", language, "and", "pay", "in", currency]
    if template == 1:  # "paris is a city where people speak french"
        return [place, "is", "a", pick(KIND_NOUNS[kind]), "where", "people", "speak", language]
    # "the mayor of rome uses the lira"
    return ["the", pick(KIND_ROLES[kind]), "of", place, "uses", "the", currency]


def make_corpus(num_sentences: int = 4000, seed: int = 0) -> Corpus:
    """Sentences from the grammar above, half about people and half about places, reproducible by seed."""
    if num_sentences < 10:
        raise ValueError(f"The 'num_sentences' parameter must be ≥ 10. Got {num_sentences!r} instead.")
    generator = make_generator(seed)
    draws = iter(torch.rand(num_sentences * 8, generator=generator, dtype=torch.float64).tolist())
    pick = lambda options: options[int(next(draws) * len(options))]
    sentences = [(_person_sentence if i % 2 == 0 else _place_sentence)(pick) for i in range(num_sentences)]
    counts: dict[str, int] = {}
    for word in itertools.chain.from_iterable(sentences):
        counts[word] = counts.get(word, 0) + 1
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    plural = {"royal": "royals", "common": "commoners"}
    groups = {w: plural[status] for (status, _), pair in PEOPLE.items() for w in pair}
    groups |= {p[0]: "countries" for p in PLACES} | {p[1]: "capitals" for p in PLACES}
    people = list(PEOPLE.values())
    relations = {"gender": people, "capital": [(p[0], p[1]) for p in PLACES]}
    analogies = [(m1, f1, m2, f2) for (m1, f1), (m2, f2) in itertools.permutations(people, 2)]
    analogies += [(a[0], a[1], b[0], b[1]) for a, b in itertools.permutations(PLACES, 2)]
    return Corpus(sentences, vocab, relations, analogies, groups)
