"""lab.shallow_network: the hand-written 2-layer network against its torch.nn twin (float64), against values worked
out by hand, and what dead ReLU units do under gradient descent."""

import math

import pytest
import torch

from lab.data.drawn import make_preset
from lab.seeding import make_generator
from lab.shallow_network import (
    ShallowNetwork,
    ShallowNetworkTask,
    TorchShallowNetwork,
    accuracy,
    gradient_check_report,
    inactive_units,
    line_in_square,
    plane_grid,
    unit_maps,
)
from lab.training import DoneEvent, train

F64 = torch.float64
CASES = [("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01), ("leaky_relu", 0.01), ("leaky_relu", 0.3),
         ("leaky_relu", 0.0), ("leaky_relu", 1.0)]


def problem(seed=0, n_x=2, m=15):
    gen = make_generator(seed)
    X = torch.randn(n_x, m, generator=gen, dtype=F64)
    Y = (torch.rand(1, m, generator=gen, dtype=F64) > 0.5).to(F64)
    return X, Y


def pair(n_x, n_h, activation, slope, seed=1, init_factor=1.0):
    """The hand-written network and its twin, from the same generator seed: the same start."""
    kinds = {"leaky_slope": slope, "dtype": F64}
    return (ShallowNetwork(n_x, n_h, activation, init_factor, generator=make_generator(seed), **kinds),
            TorchShallowNetwork(n_x, n_h, activation, init_factor, generator=make_generator(seed), **kinds))


@pytest.mark.parametrize("activation, slope", CASES)
def test_hand_written_forward_cost_and_gradients_equal_the_torch_twin(activation, slope):
    X, Y = problem(0, n_x=3, m=17)
    hand, twin = pair(3, 5, activation, slope)
    for name in hand.params:
        torch.testing.assert_close(hand.params[name], twin.params[name])
    torch.testing.assert_close(hand.predict_proba(X), twin.predict_proba(X))
    for mine, theirs in zip(hand.hidden(X), twin.hidden(X), strict=True):
        torch.testing.assert_close(mine, theirs)
    cost, grads = hand.cost_and_gradients(X, Y)
    twin_cost, twin_grads = twin.cost_and_gradients(X, Y)
    torch.testing.assert_close(cost, twin_cost)
    torch.testing.assert_close(cost, torch.nn.functional.binary_cross_entropy(hand.predict_proba(X), Y))
    assert {name: g.shape for name, g in grads.items()} == {"W1": (5, 3), "b1": (5, 1), "W2": (1, 5), "b2": (1, 1)}
    for name in grads:
        torch.testing.assert_close(grads[name], twin_grads[name], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation, slope", [("tanh", 0.01), ("relu", 0.01), ("leaky_relu", 0.2)])
def test_the_two_stay_equal_through_training(activation, slope):
    X, Y = make_preset("moons", m=60, dtype=F64)
    hand, twin = pair(2, 6, activation, slope, init_factor=0.5)
    for _ in range(25):
        for network in (hand, twin):
            network.update(network.cost_and_gradients(X, Y)[1], 0.5)
    for name in hand.params:
        torch.testing.assert_close(hand.params[name], twin.params[name], rtol=1e-10, atol=1e-10)


def test_one_example_worked_by_hand():
    """W1 = [[1, −1]], b1 = 0, W2 = [[2]], b2 = 0, ReLU, x = (1, 0), y = 1: z1 = 1, a1 = 1, z2 = 2, ŷ = σ(2)."""
    net = ShallowNetwork(2, 1, "relu", generator=make_generator(0), dtype=F64)
    net.params = {"W1": torch.tensor([[1.0, -1.0]], dtype=F64), "b1": torch.zeros(1, 1, dtype=F64),
                  "W2": torch.tensor([[2.0]], dtype=F64), "b2": torch.zeros(1, 1, dtype=F64)}
    X, Y = torch.tensor([[1.0], [0.0]], dtype=F64), torch.ones(1, 1, dtype=F64)
    y_hat = 1 / (1 + math.exp(-2))  # 0.8808
    cost, grads = net.cost_and_gradients(X, Y)
    assert cost.item() == pytest.approx(-math.log(y_hat))  # 0.1269
    dz2 = y_hat - 1  # −0.1192
    assert grads["W2"].item() == pytest.approx(dz2 * 1.0) and grads["b2"].item() == pytest.approx(dz2)
    assert grads["W1"][0].tolist() == pytest.approx([2 * dz2 * 1.0, 0.0])  # dz1 = w2·dz2·relu′(1) = 2·dz2
    assert grads["b1"].item() == pytest.approx(2 * dz2)


def test_the_weights_start_small_random_and_different_per_unit():
    net = ShallowNetwork(2, 50, "tanh", 0.01, generator=make_generator(3))
    W1 = net.params["W1"]
    assert W1.std().item() == pytest.approx(0.01, rel=0.25)
    assert torch.unique(W1[:, 0]).numel() == 50  # every unit starts elsewhere: the symmetry is broken
    assert net.params["b1"].abs().max().item() == 0 and net.params["b2"].item() == 0


def dead_unit_network(activation):
    """3 tanh-sized units on the flower; unit 1's bias is so negative that z < 0 on every point."""
    X, Y = make_preset("flower", m=100, dtype=F64)
    net = ShallowNetwork(2, 3, activation, 0.5, generator=make_generator(0), dtype=F64)
    net.params["b1"] = torch.tensor([[0.0], [-100.0], [0.0]], dtype=F64)
    return net, X, Y


def test_a_dead_relu_unit_gets_gradient_exactly_zero_and_never_moves():
    net, X, Y = dead_unit_network("relu")
    assert inactive_units(net.hidden(X)[0]) == [1]
    start = {k: v.clone() for k, v in net.params.items()}
    events = list(train(ShallowNetworkTask(net, X, Y, 0.5), 50))
    assert isinstance(events[-1], DoneEvent) and events[-1].steps == 50
    assert torch.equal(net.params["W1"][1], start["W1"][1]) and net.params["b1"][1].item() == -100.0
    assert not torch.equal(net.params["W1"][0], start["W1"][0])  # the live units learn
    assert inactive_units(net.hidden(X)[0]) == [1]


def test_a_leaky_relu_unit_in_the_same_spot_still_learns():
    net, X, Y = dead_unit_network("leaky_relu")
    start = net.params["W1"][1].clone()
    _, grads = net.cost_and_gradients(X, Y)
    assert grads["W1"][1].abs().max().item() > 0 and grads["b1"][1].item() != 0
    for _ in range(50):
        net.update(net.cost_and_gradients(X, Y)[1], 0.5)
    assert not torch.equal(net.params["W1"][1], start)


def test_inactive_units_are_the_rows_negative_or_zero_on_every_example():
    Z1 = torch.tensor([[-1.0, -2.0], [1.0, -1.0], [0.0, -3.0], [2.0, 2.0]])
    assert inactive_units(Z1) == [0, 2]


def test_the_task_learns_the_flower_that_logistic_regression_cannot():
    X, Y = make_preset("flower")
    net = ShallowNetwork(2, 8, "tanh", 0.01, generator=make_generator(0))
    events = list(train(ShallowNetworkTask(net, X, Y, 1.0), 1000))
    assert events[-1].metrics["train_accuracy"] == accuracy(net, X, Y) > 0.85
    assert events[0].cost == pytest.approx(math.log(2), abs=1e-3)  # tiny weights: ŷ ≈ ½ for every point


def test_plane_grid_orders_points_row_by_row_and_unit_maps_match_the_hidden_layer():
    coordinates, points = plane_grid(-5.0, 5.0, 7, dtype=F64)
    assert coordinates.tolist() == pytest.approx([-5 + 10 * i / 6 for i in range(7)])
    r, c = 2, 5
    assert points[:, r * 7 + c].tolist() == pytest.approx([coordinates[c].item(), coordinates[r].item()])
    net = ShallowNetwork(2, 4, "tanh", 1.0, generator=make_generator(2), dtype=F64)
    maps = unit_maps(net, points, 7)
    assert maps.shape == (4, 7, 7)
    torch.testing.assert_close(maps[:, r, c], net.hidden(points[:, r * 7 + c:r * 7 + c + 1])[1][:, 0])


@pytest.mark.parametrize("w, b, ends", [
    ((1.0, 0.0), -1.0, ([1.0, 1.0], [-5.0, 5.0])),  # x₁ = 1
    ((0.0, 2.0), 4.0, ([-5.0, 5.0], [-2.0, -2.0])),  # x₂ = −2
    ((1.0, -1.0), 0.0, ([-5.0, 5.0], [-5.0, 5.0])),  # the diagonal, through two corners
])
def test_line_in_square_finds_both_ends(w, b, ends):
    x1, x2 = line_in_square(torch.tensor([w]), b, -5.0, 5.0)
    assert (x1, x2) == (pytest.approx(ends[0]), pytest.approx(ends[1]))
    for p, q in zip(x1, x2, strict=True):
        assert w[0] * p + w[1] * q + b == pytest.approx(0.0)


def test_line_in_square_is_empty_without_a_line_in_the_square():
    assert line_in_square(torch.tensor([[0.0, 0.0]]), 1.0, -5.0, 5.0) == ([], [])  # w = 0: no boundary
    assert line_in_square(torch.tensor([[1.0, 0.0]]), -9.0, -5.0, 5.0) == ([], [])  # x₁ = 9, outside
    assert line_in_square(torch.tensor([[float("nan"), 1.0]]), 0.0, -5.0, 5.0) == ([], [])  # a diverged run


def test_gradient_check_report_says_true():
    text = gradient_check_report(n_h=3, activation="leaky_relu", leaky_slope=0.2)
    assert text.startswith("W1 (3, 2), b1 (3, 1), W2 (1, 3), b2 (1, 1)\n")
    assert text.endswith("to within 1e-12: True")


@pytest.mark.parametrize("network", [ShallowNetwork, TorchShallowNetwork])
@pytest.mark.parametrize("kwargs, message", [
    ({"n_h": 0}, r"The 'hidden_units' parameter must be in the range \[1, 1024\]\. Got 0 instead\."),
    ({"n_h": 2.5}, r"The 'hidden_units' parameter must be a whole number\. Got 2.5 instead\."),
    ({"n_x": 0}, r"The 'n_x' parameter must be a whole number ≥ 1\. Got 0 instead\."),
    ({"activation": "softsign"}, r"The 'activation' parameter must be one of .* Got 'softsign' instead\."),
    ({"leaky_slope": 1.5}, r"The 'leaky_slope' parameter must be in the range \[0\.0, 1\.0\]\. Got 1\.5 instead\."),
    ({"init_factor": -1.0}, r"The 'init_factor' parameter must be in the range .* Got -1\.0 instead\."),
])
def test_bad_settings_are_value_errors_naming_the_parameter(network, kwargs, message):
    settings = {"n_x": 2, "n_h": 3, "activation": "tanh", "init_factor": 0.01, **kwargs}
    with pytest.raises(ValueError, match=message):
        network(settings.pop("n_x"), settings.pop("n_h"), generator=make_generator(0), **settings)


def test_bad_learning_rate_and_grid_are_value_errors():
    net = ShallowNetwork(2, 3, generator=make_generator(0))
    X, Y = problem()
    with pytest.raises(ValueError, match=r"The 'lr' parameter must be in the range \(1e-05, 10\.0\]\. Got 0 instead"):
        ShallowNetworkTask(net, X.float(), Y.float(), 0)
    with pytest.raises(ValueError, match=r"The 'lr' parameter .* Got -1 instead"):
        net.update(net.cost_and_gradients(X.float(), Y.float())[1], -1)
    with pytest.raises(ValueError, match=r"A grid needs steps ≥ 2 and low < high\. Got steps=1"):
        plane_grid(-1.0, 1.0, 1)
