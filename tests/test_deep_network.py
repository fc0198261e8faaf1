import pytest
import torch

from lab.data.digits import load_digits_parity
from lab.deep_network import (
    DeepNetwork,
    DeepNetworkTask,
    TorchDeepNetwork,
    accuracy,
    backward_propagation,
    compute_cost,
    cross_entropy,
    distinct_units,
    forward_propagation,
)
from lab.seeding import make_generator
from lab.training import DoneEvent, train

F64 = torch.float64
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]


def problem(seed=0, n=6, m=9):
    gen = make_generator(seed)
    X = torch.randn(n, m, generator=gen, dtype=F64)
    Y = (torch.rand(1, m, generator=gen, dtype=F64) > 0.5).to(F64)
    return X, Y


def autograd_reference(params, X, Y, activation, lambd, masks, keep_prob):
    """The forward pass written with torch ops on leaf tensors, differentiated by autograd."""
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    g = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
         "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01)}[activation]
    L, A = len(params) // 2, X
    for k in range(1, L):
        A = g(leaves[f"W{k}"] @ A + leaves[f"b{k}"])
        if masks[k - 1] is not None:
            A = A * masks[k - 1] / keep_prob
    Z = leaves[f"W{L}"] @ A + leaves[f"b{L}"]
    cost = torch.nn.functional.binary_cross_entropy(torch.sigmoid(Z), Y)
    cost = cost + lambd / (2 * Y.shape[1]) * sum((leaves[f"W{k}"] ** 2).sum() for k in range(1, L + 1))
    cost.backward()
    return cost.detach(), {k: v.grad for k, v in leaves.items()}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("lambd, keep_prob", [(0.0, 1.0), (0.7, 1.0), (0.0, 0.6), (1.3, 0.8)])
def test_hand_written_gradients_equal_autograd(activation, lambd, keep_prob):
    X, Y = problem(1)
    net = DeepNetwork([6, 5, 4, 3, 1], activation, "he", generator=make_generator(2), dtype=F64)
    cost, grads = net.cost_and_gradients(X, Y, lambd=lambd, keep_prob=keep_prob, generator=make_generator(5))
    _, caches = forward_propagation(net.params, X, activation, keep_prob, make_generator(5))
    masks = [c.D for c in caches]
    assert (masks[0] is None) == (keep_prob == 1.0) and masks[-1] is None  # never on the output
    ref_cost, ref_grads = autograd_reference(net.params, X, Y, activation, lambd, masks, keep_prob)
    torch.testing.assert_close(cost, ref_cost)
    for name in net.params:
        assert grads[name].shape == net.params[name].shape
        torch.testing.assert_close(grads[name], ref_grads[name])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_torch_twin_loaded_with_the_hand_written_weights_gives_the_same_cost_and_gradients(activation):
    """The twin starts elsewhere (another seed, another scheme); given the hand-written net's W and b through
    torch's own state dict, its autograd forward and backward must reproduce the hand-written ones."""
    X, Y = problem(3, n=8, m=20)
    hand = DeepNetwork([8, 7, 5, 1], activation, "glorot", generator=make_generator(4), dtype=F64)
    twin = TorchDeepNetwork([8, 7, 5, 1], activation, "he", generator=make_generator(5), dtype=F64)
    assert not torch.allclose(hand.params["W1"], twin.params["W1"])  # two different starts
    twin.load_state_dict({f"layers.{k - 1}.{kind}": hand.params[f"{name}{k}"].reshape(shape)
                          for k, layer in enumerate(twin.layers, start=1)
                          for kind, name, shape in (("weight", "W", layer.weight.shape), ("bias", "b", (-1,)))})
    for name in hand.params:  # the course's (n^[l], n^[l−1]) and (n^[l], 1) views of torch's weight and bias
        torch.testing.assert_close(twin.params[name], hand.params[name])
    torch.testing.assert_close(twin.predict_proba(X), hand.predict_proba(X))
    torch.testing.assert_close(twin.scores(X), hand.scores(X))
    a = hand.cost_and_gradients(X, Y, lambd=0.9, keep_prob=0.7, generator=make_generator(9))
    b = twin.cost_and_gradients(X, Y, lambd=0.9, keep_prob=0.7, generator=make_generator(9))
    torch.testing.assert_close(a[0], b[0])
    for name in hand.params:
        torch.testing.assert_close(a[1][name], b[1][name])
    hand.update(a[1], 0.1)
    twin.update(b[1], 0.1)
    torch.testing.assert_close(hand.predict_proba(X), twin.predict_proba(X))
    ra, rb = hand.layer_report(X, Y), twin.layer_report(X, Y)
    for key in ra:
        assert ra[key] == pytest.approx(rb[key])


@pytest.mark.parametrize("network", [DeepNetwork, TorchDeepNetwork])
@pytest.mark.parametrize(("scheme", "std"), [("he", (2 / 400) ** 0.5), ("xavier", (1 / 400) ** 0.5),
                                             ("glorot", (2 / (400 + 300)) ** 0.5), ("random", 0.05)])
def test_initial_weights_have_the_course_spread_not_torchs_default(network, scheme, std):
    """torch.nn.Linear starts at U(±1/√fan_in), a std of √(1/(3·400)) ≈ 0.029 here: both nets must use the
    course's formula instead, with zero biases."""
    net = network([400, 300, 1], "relu", scheme, 0.05, generator=make_generator(0), dtype=F64)
    W1, b1 = net.params["W1"], net.params["b1"]
    assert W1.shape == (300, 400) and b1.shape == (300, 1) and not b1.any()
    assert W1.std().item() == pytest.approx(std, rel=0.02)
    assert W1.mean().item() == pytest.approx(0.0, abs=std / 50)


def test_l2_gradient_adds_lambda_over_m_times_w_not_half_of_it():
    """ERRATA 4: the step is W := (1 − αλ/m)W − α dW."""
    X, Y = problem(4, m=10)
    net = DeepNetwork([6, 4, 1], "tanh", "he", generator=make_generator(0), dtype=F64)
    _, plain = net.cost_and_gradients(X, Y)
    _, reg = net.cost_and_gradients(X, Y, lambd=2.0)
    torch.testing.assert_close(reg["W1"] - plain["W1"], 2.0 / 10 * net.params["W1"])
    torch.testing.assert_close(reg["b1"], plain["b1"])  # biases are not penalized


def test_dropout_is_on_units_scaled_and_off_at_evaluation():
    X, Y = problem(5, m=4000)
    net = DeepNetwork([6, 50, 1], "relu", "he", generator=make_generator(0), dtype=F64)
    A_full = forward_propagation(net.params, X, "relu")[1][0].A
    _, caches = forward_propagation(net.params, X, "relu", 0.5, make_generator(1))
    D = caches[0].D
    assert set(D.unique().tolist()) == {0.0, 1.0} and D.mean().item() == pytest.approx(0.5, abs=0.01)
    torch.testing.assert_close(caches[0].A, A_full * D / 0.5)  # whole activations dropped, survivors doubled
    assert caches[0].A.mean().item() == pytest.approx(A_full.mean().item(), rel=0.02)  # expectation kept
    torch.testing.assert_close(net.predict_proba(X), forward_propagation(net.params, X, "relu")[0])


def test_keep_prob_one_is_exactly_no_dropout():
    X, Y = problem(6)
    net = DeepNetwork([6, 5, 1], "relu", "he", generator=make_generator(0), dtype=F64)
    a = net.cost_and_gradients(X, Y, keep_prob=1.0, generator=make_generator(1))
    b = net.cost_and_gradients(X, Y)
    torch.testing.assert_close(a[0], b[0])
    assert all(torch.equal(a[1][k], b[1][k]) for k in a[1])


@pytest.mark.parametrize("network", [DeepNetwork, TorchDeepNetwork])
def test_bad_regularization_values_are_value_errors(network):
    X, Y = problem(7)
    net = network([6, 3, 1], "relu", "he", generator=make_generator(0), dtype=F64)
    with pytest.raises(ValueError, match=r"The 'lambd' parameter must be in the range \[0.0, 100.0\]\. Got -0.1"):
        net.cost_and_gradients(X, Y, lambd=-0.1)
    with pytest.raises(ValueError, match=r"The 'keep_prob' parameter must be in the range \(0.0, 1.0\]\. Got 0 "):
        net.cost_and_gradients(X, Y, keep_prob=0)
    with pytest.raises(ValueError, match=r"The 'keep_prob' parameter .* Got 1.5 instead"):
        net.cost_and_gradients(X, Y, keep_prob=1.5)
    with pytest.raises(ValueError, match="needs a 'generator'"):
        net.cost_and_gradients(X, Y, keep_prob=0.5)
    with pytest.raises(ValueError, match="output layer must have 1 unit"):
        network([6, 3, 2], generator=make_generator(0))


def test_cost_matches_the_textbook_form_and_stays_finite_when_saturated():
    X, Y = problem(8)
    net = DeepNetwork([6, 3, 1], "tanh", "he", generator=make_generator(0), dtype=F64)
    AL, caches = forward_propagation(net.params, X, "tanh")
    textbook = -(Y * AL.log() + (1 - Y) * (1 - AL).log()).mean()
    torch.testing.assert_close(compute_cost(caches[-1].Z, Y, net.params), textbook)
    assert cross_entropy(net, X, Y) == pytest.approx(textbook.item())
    net32 = DeepNetwork([6, 3, 1], "tanh", "he", generator=make_generator(0))
    net32.params["W2"] = net32.params["W2"] * 1e4  # σ rounds to exactly 0 or 1 in float32
    assert ((net32.predict_proba(X.float()) == 0) | (net32.predict_proba(X.float()) == 1)).any()
    assert torch.isfinite(torch.tensor(cross_entropy(net32, X.float(), Y.float())))


def test_zero_init_keeps_every_hidden_unit_identical():
    X, Y = problem(9, m=40)
    for activation in ("sigmoid", "tanh", "relu"):
        net = DeepNetwork([6, 8, 8, 1], activation, "zeros", generator=make_generator(0), dtype=F64)
        for _ in range(50):
            net.update(net.cost_and_gradients(X, Y)[1], 0.5)
        assert distinct_units(net.params["W1"]) == 1 and distinct_units(net.params["W2"]) == 1
    net = DeepNetwork([6, 8, 8, 1], "tanh", "he", generator=make_generator(0), dtype=F64)
    assert distinct_units(net.params["W1"]) == 8


def test_layer_report_shows_vanishing_and_exploding_signals():
    X, Y = problem(10, n=16, m=200)
    small = DeepNetwork([16] + [16] * 8 + [1], "tanh", "random", 0.05, generator=make_generator(0), dtype=F64)
    big = DeepNetwork([16] + [16] * 8 + [1], "relu", "random", 2.0, generator=make_generator(0), dtype=F64)
    he = DeepNetwork([16] + [16] * 8 + [1], "relu", "he", generator=make_generator(0), dtype=F64)
    s, b, h = small.layer_report(X, Y), big.layer_report(X, Y), he.layer_report(X, Y)
    assert len(s["activation_std"]) == 9 and len(s["dead_fraction"]) == 8
    assert s["activation_std"][7] < 1e-3 * s["activation_std"][0]  # vanishing
    assert b["activation_std"][7] > 1e3 * b["activation_std"][0]  # exploding
    assert 0.2 < h["activation_std"][7] / h["activation_std"][0] < 5  # He keeps the scale
    assert s["gradient_rms"][0] < 1e-3 * h["gradient_rms"][0]


def test_backward_shapes_follow_the_course():
    X, Y = problem(11, n=5, m=3)
    net = DeepNetwork([5, 4, 2, 1], "relu", "he", generator=make_generator(0), dtype=F64)
    AL, caches = forward_propagation(net.params, X, "relu")
    grads = backward_propagation(AL, Y, caches, net.params, "relu")
    assert AL.shape == (1, 3) and [c.Z.shape for c in caches] == [(4, 3), (2, 3), (1, 3)]
    assert {k: tuple(v.shape) for k, v in grads.items()} == {
        "dW3": (1, 2), "db3": (1, 1), "dW2": (2, 4), "db2": (2, 1), "dW1": (4, 5), "db1": (4, 1)}


@pytest.mark.parametrize("network", [DeepNetwork, TorchDeepNetwork])
def test_task_learns_digit_parity_with_the_training_loop(network):
    data = load_digits_parity()
    net = network([64, 16, 16, 1], "relu", "he", generator=make_generator(0))
    task = DeepNetworkTask(net, data.X_train, data.Y_train, 0.1, X_dev=data.X_dev, Y_dev=data.Y_dev)
    events = list(train(task, 200, eval_every=50))
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.steps == 200
    assert done.metrics["train_accuracy"] > 0.9 and done.metrics["dev_accuracy"] > 0.85
    assert set(events[0].grad_norms) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert accuracy(net, data.X_dev, data.Y_dev) == done.metrics["dev_accuracy"]


def test_state_round_trip():
    net = DeepNetwork([3, 2, 1], generator=make_generator(0))
    saved = net.state()
    net.update({k: torch.ones_like(v) for k, v in net.params.items()}, 1.0)
    net.load_state(saved)
    assert all(torch.equal(net.params[k], saved[k]) for k in saved)
