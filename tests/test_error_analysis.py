"""lab.error_analysis: ceilings by hand, the answer key from the recorded distortions, mistakes really wrong."""

import pytest
import torch

from lab.data.shifted_digits import load_mismatched_digits
from lab.error_analysis import TAGS, ceilings, dev_mistakes, tags_from_distortions
from lab.softmax import Mistake, make_network


def test_ceiling_is_the_error_left_when_every_tagged_mistake_is_fixed():
    tags = {3: {"blur"}, 5: {"blur", "noise"}, 9: set()}
    by_tag = {c.tag: c for c in ceilings(tags, mistakes=60, m_dev=450)}
    assert list(by_tag) == list(TAGS)
    assert by_tag["blur"].count == 2 and by_tag["blur"].share == pytest.approx(2 / 60)
    assert by_tag["blur"].error_now == pytest.approx(60 / 450)
    assert by_tag["blur"].best_error == pytest.approx(58 / 450)
    assert by_tag["shift"].best_error == pytest.approx(60 / 450)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="mistakes"):
        ceilings({}, mistakes=10, m_dev=5)


def test_dev_mistakes_are_exactly_the_wrong_columns():
    data = load_mismatched_digits(0.3, 0.5, 1)
    network = make_network("torch_autograd", 64, 8, 10, seed=0)
    mistakes = dev_mistakes(network, data.X_dev, data.Y_dev)
    wrong = (network.scores(data.X_dev).argmax(dim=0) != data.Y_dev[0]).nonzero().flatten().tolist()
    assert sorted(m.index for m in mistakes) == wrong
    assert all(a.confidence >= b.confidence for a, b in zip(mistakes, mistakes[1:], strict=False))


def test_answer_key_tags_what_was_applied():
    distortions = torch.tensor([[True, False, True], [False, False, False]])
    tags = tags_from_distortions([Mistake(0, 1, 2, 0.9), Mistake(1, 3, 5, 0.8)], distortions)
    assert tags == {0: {"noise", "shift"}, 1: set()}
