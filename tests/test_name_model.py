"""The character model of names: encoding, the cost, sampling, the next-letter probabilities, and its figures."""

import math

import pytest
import torch
from torch import nn

from lab.name_model import ALPHABET, CharModel, NameTraining, check_prefix, encode, pronounceable
from lab.training import train


def test_encoding_shifts_the_name_by_one_letter():
    inputs, targets = encode(["emma", "al"])
    assert inputs[:, 0].tolist() == [0, 5, 13, 13, 1] and targets[:, 0].tolist() == [5, 13, 13, 1, 0]
    assert inputs[:, 1].tolist()[:3] == [0, 1, 12] and targets[:, 1].tolist() == [1, 12, 0, -1, -1]


def test_the_cost_is_the_mean_cross_entropy_over_real_letters_only():
    task = NameTraining("rnn", names="first_names", hidden_size=8)
    inputs, targets = encode(["emma", "al"])
    logits, _ = task.model(inputs)
    picked = [(t, j) for j in range(2) for t in range(5) if targets[t, j] >= 0]  # 5 + 3 letters, no padding
    expected = sum(-torch.log_softmax(logits[t, j], 0)[targets[t, j]] for t, j in picked) / len(picked)
    assert float(task.cost(inputs, targets).detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


def test_an_untrained_model_costs_about_log_27_and_training_lowers_it():
    task = NameTraining("gru", hidden_size=32, lr=0.01)
    before = task.evaluate()["dev_cost"]
    assert before == pytest.approx(math.log(27), rel=0.05)
    *_, done = train(task, 300, blowup_ratio=None)
    assert done.metrics["dev_cost"] < 2.5 < before


def test_next_letter_probabilities_are_the_softmax_of_the_last_logits():
    model = CharModel("lstm", 16)
    p = model.next_letter_probabilities("Mar")
    logits, _ = model(torch.tensor([[0, 13, 1, 18]]).T)
    torch.testing.assert_close(p, torch.softmax(logits[-1, 0], 0))
    assert p.shape == (27,) and float(p.sum()) == pytest.approx(1.0)
    cold = model.next_letter_probabilities("mar", temperature=0.2)
    assert cold.max() > p.max()  # a low temperature sharpens


@pytest.mark.parametrize("prefix", ["jo3", "anne-marie", "zoë", "a b", "ma."])
def test_characters_the_model_never_saw_are_named_in_words(prefix):
    with pytest.raises(ValueError, match="never seen") as error:
        check_prefix(prefix)
    assert "26 letters" in str(error.value)


def test_samples_are_reproducible_letters_and_follow_the_temperature():
    model = CharModel("gru", 16)
    names = model.sample(50, 1.0, seed=2)
    assert names == model.sample(50, 1.0, seed=2) and len(names) == 50
    assert all(set(n) <= set(ALPHABET[1:]) for n in names)


def test_pronounceable():
    assert pronounceable("kanter") and pronounceable("lynn")
    assert not pronounceable("x") and not pronounceable("brrt") and not pronounceable("strcks")
    assert not pronounceable("aaab")


def test_a_trained_model_composes_names():
    """After 1,500 steps on the surnames: most samples read as names, and names it trained on come up no more
    often than the list's density explains (about 9 × its hits on the dev names, which it never saw)."""
    task = NameTraining("gru", hidden_size=64, lr=0.01)
    for _ in train(task, 1500, blowup_ratio=None):
        pass
    report = task.sample_report(task.model.sample(1000, 1.0, seed=1))
    assert report["pronounceable"] > 0.9
    assert report["copies"] < 0.12 and report["copies"] < 2 * 9 * report["dev_hits"] + 0.02, report


def test_torch_twin_of_the_cost():
    task = NameTraining("rnn", names="first_names", hidden_size=8)
    inputs, targets = task.dev
    logits, _ = task.model(inputs)
    longest = int((targets >= 0).sum(0).max())
    expected = nn.CrossEntropyLoss(ignore_index=-1)(logits[:longest].reshape(-1, 27), targets[:longest].reshape(-1))
    assert float(task.cost(inputs, targets).detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
