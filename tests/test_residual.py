"""Plain and residual networks of the same depth: the skip connection written out by hand against the module, the
initialization, the gradient each layer gets, and the training comparison the lab shows."""

import math

import pytest
import torch
import torch.nn.functional as F

from lab.data.digits import load_digits_multiclass
from lab.residual import (
    DeepMLP,
    DeepMLPTraining,
    check_layers,
    describe_blocks,
    initial_gradients_text,
    layer_gradients,
    layer_norms,
    make_pair,
    num_blocks,
    signal_sizes,
)
from lab.seeding import make_generator
from lab.training import DoneEvent, side_by_side, train


@pytest.fixture(scope="module")
def digits():
    return load_digits_multiclass()


@pytest.fixture(scope="module")
def probe(digits):
    return digits.X_train[:, :256].T, digits.Y_train[0, :256]  # (256, 64), (256,)


@pytest.mark.parametrize("residual", [False, True])
def test_the_forward_pass_is_the_course_formula(residual):
    model = DeepMLP(8, 5, residual, generator=make_generator(0), n_x=3, n_y=2).double()
    X = torch.randn(4, 3, generator=make_generator(1), dtype=torch.float64)
    W = [layer.weight for layer in model.layers]
    b = [layer.bias for layer in model.layers]
    a = torch.relu(X @ W[0].T + b[0])  # a^[1]
    for first in (2, 4, 6):  # blocks of layers (2, 3), (4, 5), (6, 7)
        a_in = a
        a = torch.relu(a_in @ W[first - 1].T + b[first - 1])
        z = a @ W[first].T + b[first]
        a = torch.relu(z + a_in) if residual else torch.relu(z)  # a^[l+2] = ReLU(z^[l+2] + a^[l])
    assert torch.allclose(model(X), a @ W[7].T + b[7], atol=1e-12)
    assert len(model.activations(X)) == 7  # a^[1] … a^[L−1]


def test_with_silent_blocks_the_skips_carry_the_signal_and_the_plain_net_loses_it():
    X = torch.rand(5, 64, generator=make_generator(2))
    pair = make_pair(10, 8)
    for model in pair.values():
        with torch.no_grad():
            for layer in model.layers[1:-1]:  # every layer inside the blocks outputs 0
                layer.weight.zero_()
                layer.bias.zero_()
    first = torch.relu(pair["residual"].layers[0](X))
    with torch.no_grad():
        assert torch.equal(pair["residual"].activations(X)[-1], first)  # four blocks, each passes a^[l] through
        assert torch.equal(pair["plain"].activations(X)[-1], torch.zeros(5, 8))  # nothing gets through


def test_both_networks_draw_the_same_weights_except_the_scaled_second_layers():
    pair = make_pair(30, 32, seed=4)
    B = num_blocks(30)
    assert B == 14
    for k, (plain, residual) in enumerate(zip(pair["plain"].layers, pair["residual"].layers, strict=True), start=1):
        scale = 1 / math.sqrt(B) if 3 <= k <= 29 and k % 2 == 1 else 1.0
        assert torch.allclose(residual.weight, plain.weight * scale, rtol=1e-6, atol=0), k
    he = math.sqrt(2 / 32)
    assert pair["plain"].layers[10].weight.std().item() == pytest.approx(he, rel=0.1)
    assert pair["plain"].layers[0].weight.shape == (32, 64) and pair["plain"].layers[-1].weight.shape == (10, 32)


def test_the_number_of_layers_must_be_even_from_4_to_60():
    assert check_layers(4) == 4 and num_blocks(50) == 24 and num_blocks(60) == 29
    for bad, words in ((5, "even"), (7, "even"), (2, r"in the range \[4, 60\]"), (62, "in the range"),
                       (2.5, "a whole number")):
        with pytest.raises(ValueError, match=f"The 'num_layers' parameter must be {words}"):
            check_layers(bad)
    with pytest.raises(ValueError, match="The 'hidden_units' parameter"):
        DeepMLP(6, 0, True, generator=make_generator(0))


def test_the_layout_says_every_block_has_a_skip():
    assert describe_blocks(30) == (
        "L = 30: layer 1, then 14 residual blocks (layers 2–3, 4–5, 6–7, …, 28–29), then layer 30.\nEvery block "
        "has a skip connection that carries its input around both of its layers:\n14 skip connections for the 28 "
        "layers between the first and the last.")
    assert "1 residual block (layers 2–3)" in describe_blocks(4) and "1 skip connection for the 2 layers" in \
        describe_blocks(4)


def test_layer_gradients_are_autograds(probe):
    X, Y = probe
    model = make_pair(10, 16)["residual"]
    norms = layer_gradients(model, X, Y)
    F.cross_entropy(model(X), Y).backward()
    assert norms == pytest.approx([layer.weight.grad.norm().item() for layer in model.layers], rel=1e-6)
    assert len(norms) == 10


def test_at_depth_30_the_plain_net_loses_signal_and_gradient_and_the_residual_one_keeps_them(probe):
    X, Y = probe
    pair = make_pair(30, 32)
    plain, residual = (layer_gradients(pair[k], X, Y) for k in ("plain", "residual"))
    assert all(r > 5 * p for p, r in zip(plain, residual, strict=True))  # every layer, plain ≥ 5× smaller
    sizes = {kind: signal_sizes(model, X) for kind, model in pair.items()}
    assert sizes["plain"][0] == pytest.approx(sizes["residual"][0])  # the same first layer
    assert sizes["plain"][-1] < sizes["plain"][0] / 3  # the plain net's signal fades
    assert sizes["residual"][0] <= sizes["residual"][-1] <= math.e * sizes["residual"][0]  # bounded growth
    text = initial_gradients_text()
    assert text.startswith("At initialization, L = 30, 32 units per layer, 256 training digits:")
    assert f"‖dW^[1]‖ {plain[0]:.3f}" in text.splitlines()[1] and f"‖dW^[1]‖ {residual[0]:.3f}" in text


def test_a_step_and_an_evaluation(digits):
    task = DeepMLPTraining(make_pair(6, 8)["plain"], digits, batch_size=64)
    cost, grads = task.step()
    assert list(grads)[:4] == ["W1", "b1", "W2", "b2"] and len(grads) == 12 and grads["W6"].shape == (10, 8)
    assert task.steps_per_epoch == 17 and cost.item() > 0
    metrics = task.evaluate()
    assert set(metrics) == {"train_accuracy", "dev_accuracy", "train_cost"} and 0 <= metrics["dev_accuracy"] <= 1
    with pytest.raises(ValueError, match="The 'batch_size' parameter"):
        DeepMLPTraining(make_pair(6, 8)["plain"], digits, batch_size=0)


def test_layer_norms_average_the_last_steps_of_each_layer():
    norms = {"W1": [1.0, 2.0, 3.0], "W2": [4.0], "b1": [9.0]}
    assert layer_norms(norms, 4, last=2) == [2.5, 4.0, None, None]
    assert layer_norms(norms, 4, last=0)[0] == 3.0


def compare(digits, depth: int, epochs: int = 20) -> dict[str, dict[str, float]]:
    tasks = {kind: DeepMLPTraining(model, digits, lr=0.001) for kind, model in make_pair(depth, 32).items()}
    steps = epochs * tasks["plain"].steps_per_epoch
    ends = {}
    for kind, event in side_by_side({k: train(t, steps) for k, t in tasks.items()}):
        if isinstance(event, DoneEvent):
            ends[kind] = event.metrics
    return ends


def test_at_the_default_depth_the_plain_net_trains_worse_and_the_residual_one_does_not(digits):
    ends = compare(digits, 30)
    assert ends["plain"]["train_cost"] > 10 * ends["residual"]["train_cost"]
    assert ends["residual"]["train_accuracy"] > 0.99 and ends["plain"]["train_accuracy"] < 0.95
    assert ends["residual"]["dev_accuracy"] > ends["plain"]["dev_accuracy"] + 0.05


def test_four_layers_train_alike_with_or_without_the_skip(digits):
    ends = compare(digits, 4)
    ratio = ends["plain"]["train_cost"] / ends["residual"]["train_cost"]
    assert 1 / 3 < ratio < 3 and ends["plain"]["train_accuracy"] > 0.97
