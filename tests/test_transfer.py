"""lab.transfer: the pre-trained layer is what fine-tuning starts from, a frozen layer stays put, data are right."""

import pytest
import torch

from lab.training import train
from lab.transfer import FROZEN, digits_of, fine_tuning, pretrained_hidden, start_network, target_split


def test_target_digits_are_5_to_9_relabelled_and_split_without_overlap():
    X_few, Y_few, X_eval, Y_eval = target_split(30, seed=1)
    X, Y = digits_of(range(5, 10))
    assert X_few.shape == (64, 30) and X_eval.shape[1] == X.shape[1] - 30
    assert set(Y.flatten().tolist()) == {0, 1, 2, 3, 4}


def test_transfer_starts_from_the_pretrained_hidden_layer_and_scratch_does_not():
    hidden = pretrained_hidden(16)
    transfer, scratch = start_network("last_layer", 16), start_network("scratch", 16)
    assert torch.equal(transfer.layers[0].weight.detach(), hidden["W1"])
    assert not torch.equal(scratch.layers[0].weight.detach(), hidden["W1"])
    assert torch.equal(transfer.layers[1].weight, scratch.layers[1].weight)  # the same fresh output layer


def test_pretraining_learned_the_source_task():
    from lab.softmax import accuracy, make_network
    network = make_network("torch_autograd", 64, 16, 5)
    hidden = pretrained_hidden(16)
    with torch.no_grad():
        network.layers[0].weight.copy_(hidden["W1"])
        network.layers[0].bias.copy_(hidden["b1"])
    X, Y = digits_of(range(0, 5))
    # with a random output layer the accuracy is low; the hidden features alone must make 0–4 separable
    for _ in range(200):
        _, grads = network.cost_and_gradients(X, Y)
        network.update({k: g if k.endswith("2") else torch.zeros_like(g) for k, g in grads.items()}, 0.5)
    assert accuracy(network, X, Y) > 0.95


def test_last_layer_only_leaves_the_hidden_layer_untouched_and_all_layers_moves_it():
    frozen = fine_tuning("last_layer", 40, n_h=16)
    free = fine_tuning("all_layers", 40, n_h=16)
    before = frozen.network.layers[0].weight.detach().clone()
    list(train(frozen, 20)), list(train(free, 20))
    assert torch.equal(frozen.network.layers[0].weight.detach(), before)
    assert not torch.equal(free.network.layers[0].weight.detach(), before)
    assert FROZEN["last_layer"] == ("W1", "b1")
    assert frozen.evaluate()["accuracy"] > 0.5  # far above chance (20%)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="'transfer_examples'"):
        target_split(2)
    with pytest.raises(ValueError, match="'mode'"):
        start_network("half", 16)
