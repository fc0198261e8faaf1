"""lab.softmax: softmax against torch.softmax, the gradient dZ = ŷ − y against autograd in float64, the torch.nn
twin against the hand-written network, training on the ten digits, and every validation message."""

import math

import pytest
import torch

from lab.data.digits import load_digits_multiclass
from lab.seeding import make_generator
from lab.softmax import (
    SoftmaxNetwork,
    SoftmaxTraining,
    TorchSoftmaxNetwork,
    accuracy,
    compare_softmax,
    confident_mistakes,
    confusion_matrix,
    cross_entropy,
    dead_units,
    gradient_check_report,
    log_softmax,
    make_network,
    most_confused,
    naive_softmax,
    one_hot,
    overflow_example,
    parse_logits,
    softmax,
    softmax_with_temperature,
    worked_example,
)
from lab.training import DivergedEvent, DoneEvent, train

F64 = torch.float64
COURSE = [5.0, 2.0, -1.0, 3.0]


@pytest.fixture(scope="module")
def digits():
    return load_digits_multiclass()


# ---------------------------------------------------------------- softmax


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_softmax_equals_torch_softmax_along_any_dim(dim, dtype):
    z = torch.randn(7, 5, 3, generator=make_generator(0), dtype=dtype) * 20
    torch.testing.assert_close(softmax(z, dim), torch.softmax(z, dim))
    torch.testing.assert_close(log_softmax(z, dim), torch.log_softmax(z, dim))
    assert softmax(z, dim).sum(dim=dim).sub(1).abs().max() < 1e-5


def test_the_course_example_by_hand():
    t = [math.exp(v) for v in COURSE]  # 148.41, 7.39, 0.37, 20.09
    expected = [v / sum(t) for v in t]
    a = softmax(torch.tensor(COURSE, dtype=F64))
    assert a.tolist() == pytest.approx(expected, rel=1e-12)
    assert a.tolist() == pytest.approx([0.8420, 0.0419, 0.0021, 0.1140], abs=5e-5)
    text = worked_example()
    assert "t = e^z    = [148.41, 7.39, 0.37, 20.09]" in text and "sum of t   = 176.26" in text
    assert "a = t / Σt = [0.8420, 0.0419, 0.0021, 0.1140]" in text and "sum of a   = 1.0000" in text


def test_large_logits_overflow_the_naive_formula_but_not_the_labs():
    """ERRATA 11: e^1000 is inf, inf / inf is NaN; subtracting max(z) first gives the same answer as for z − 995."""
    z = torch.tensor([1000.0, 997.0, 994.0, 998.0])
    assert torch.isnan(naive_softmax(z)).all()
    torch.testing.assert_close(softmax(z), softmax(torch.tensor(COURSE)))
    torch.testing.assert_close(softmax(z), torch.softmax(z, 0))
    assert naive_softmax(torch.tensor(COURSE)).tolist() == pytest.approx(softmax(torch.tensor(COURSE)).tolist())
    assert torch.isnan(naive_softmax(torch.tensor([89.0, 0.0]))).any()  # float32's limit is e^88.7
    assert not torch.isnan(naive_softmax(torch.tensor([88.0, 0.0]))).any()
    text = overflow_example()
    assert "naive e^z / sum     = [nan, nan, nan, nan]" in text
    assert "softmax (max first) = [0.8420, 0.0419, 0.0021, 0.1140]" in text


@pytest.mark.parametrize("z, expected", [([1e6, 0.0, -1e6], [1.0, 0.0, 0.0]), ([-1e6, -1e6], [0.5, 0.5]),
                                         ([1e6, 1e6 - 1], [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))])])
def test_logits_of_a_million_give_sensible_probabilities(z, expected):
    for dtype in (torch.float32, F64):
        a = softmax(torch.tensor(z, dtype=dtype))
        assert torch.isfinite(a).all() and a.tolist() == pytest.approx(expected, abs=1e-6)
    assert compare_softmax(z).probabilities == pytest.approx(expected, abs=1e-6)


def test_a_minus_infinity_logit_gets_probability_zero_like_torch():
    z = torch.tensor([2.0, -math.inf, 0.0])
    torch.testing.assert_close(softmax(z), torch.softmax(z, 0))
    assert softmax(z)[1] == 0


def test_temperature_divides_the_logits():
    z = torch.tensor(COURSE, dtype=F64)
    torch.testing.assert_close(softmax_with_temperature(z, 2.0), torch.softmax(z / 2, 0))
    flat, sharp = softmax_with_temperature(z, 100.0), softmax_with_temperature(z, 0.1)
    assert flat.max() - flat.min() < 0.03  # nearly ¼ each
    assert sharp[0] > 0.9999  # all on the largest logit
    with pytest.raises(ValueError, match=r"The 'softmax_temperature' parameter must be in the range \[0.01, 100.0\]\. "
                                         r"Got 0 instead\."):
        softmax_with_temperature(z, 0)


def test_compare_softmax_reports_both_formulas_and_the_shift_changes_nothing():
    plain = compare_softmax(COURSE)
    assert not plain.overflowed and plain.naive == pytest.approx(plain.probabilities)
    assert plain.exps == pytest.approx([math.exp(v) for v in COURSE], rel=1e-6)
    shifted = compare_softmax(COURSE, shift=1000.0)
    assert shifted.overflowed and all(math.isnan(v) for v in shifted.naive)
    assert shifted.probabilities == pytest.approx(plain.probabilities, abs=1e-6)
    assert shifted.shifted_exps == pytest.approx([math.exp(v - 5) for v in COURSE], rel=1e-5)
    hot = compare_softmax(COURSE, temperature=0.05)  # 5 / 0.05 = 100: e^100 overflows float32
    assert hot.overflowed and hot.probabilities[0] == pytest.approx(1.0)
    assert compare_softmax(COURSE, temperature=0.05, dtype=F64).overflowed is False
    with pytest.raises(ValueError, match=r"The 'logit_shift' parameter must be in the range .* Got 2000000.0"):
        compare_softmax(COURSE, shift=2e6)
    with pytest.raises(ValueError, match=r"The 'logit' parameter must be finite\. Got inf instead\."):
        compare_softmax([1.0, math.inf])


@pytest.mark.parametrize("text, expected", [("5, 2, -1, 3", (5.0, 2.0, -1.0, 3.0)), ("5 2 −1 3", (5.0, 2.0, -1.0, 3.0)),
                                            (" 1e6;0 ", (1e6, 0.0)), ("-1000000", (-1e6,))])
def test_parse_logits_reads_what_a_learner_types(text, expected):
    assert parse_logits(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", r"Type at least one logit, e\.g\. 5, 2, −1, 3\."),
    ("5, two", r"'two' is not a number\. Type numbers separated by commas"),
    ("1e7, 0", r"The 'logit' parameter must be in the range \[-1000000.0, 1000000.0\]\. Got 10000000.0 instead\."),
    ("nan", r"The 'logit' parameter must be finite\. Got nan instead\."),
    ("1e400", r"The 'logit' parameter must be finite\. Got inf instead\."),
    (", ".join(["1"] * 21), r"Type at most 20 logits\. Got 21 instead\."),
])
def test_parse_logits_refuses_bad_input_in_words(text, message):
    with pytest.raises(ValueError, match=message):
        parse_logits(text)


# ---------------------------------------------------------------- cost and gradients


def problem(seed=0, n_x=6, m=11, n_y=4):
    generator = make_generator(seed)
    X = torch.randn(n_x, m, generator=generator, dtype=F64)
    Y = torch.randint(0, n_y, (1, m), generator=generator)
    return X, Y


def test_cross_entropy_equals_torch_and_the_textbook_form():
    Z = torch.randn(4, 9, generator=make_generator(1), dtype=F64) * 5
    Y = torch.randint(0, 4, (1, 9), generator=make_generator(2))
    torch.testing.assert_close(cross_entropy(Z, Y), torch.nn.functional.cross_entropy(Z.T, Y[0]))
    textbook = -(one_hot(Y, 4, F64) * torch.log(softmax(Z))).sum(dim=0).mean()  # −Σ_k y_k log ŷ_k, averaged
    torch.testing.assert_close(cross_entropy(Z, Y), textbook)
    assert one_hot(torch.tensor([[2, 0]]), 3).tolist() == [[0, 1], [0, 0], [1, 0]]
    huge = torch.tensor([[1e6], [0.0]])
    assert cross_entropy(huge, torch.tensor([[1]])).item() == pytest.approx(1e6)  # finite, where log 0 = −inf


def test_softmax_regression_starts_at_w_zero_with_cost_log_c():
    X, Y = problem(3, n_y=10)
    net = SoftmaxNetwork(6, 0, 10, generator=make_generator(0), dtype=F64)
    assert set(net.params) == {"W1", "b1"} and not net.params["W1"].any()
    cost, _ = net.cost_and_gradients(X, Y)
    assert cost.item() == pytest.approx(math.log(10))


@pytest.mark.parametrize("n_h", [0, 5])
def test_dz_is_y_hat_minus_y_and_every_gradient_equals_autograd(n_h):
    X, Y = problem(4)
    net = SoftmaxNetwork(6, n_h, 4, generator=make_generator(5), dtype=F64)
    net.params = {k: v + 0.3 * torch.randn(v.shape, generator=make_generator(6), dtype=F64)
                  for k, v in net.params.items()}
    cache = net.forward(X)
    Z = cache.Z.clone().requires_grad_()
    cross_entropy(Z, Y).backward()
    torch.testing.assert_close(Z.grad * X.shape[1], cache.A - one_hot(Y, 4, F64))  # dZ = ŷ − y (per example)
    leaves = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    H = leaves["W1"] @ X + leaves["b1"]
    if n_h:
        H = leaves["W2"] @ torch.relu(H) + leaves["b2"]
    reference = torch.nn.functional.cross_entropy(H.T, Y[0])
    reference.backward()
    cost, grads = net.cost_and_gradients(X, Y)
    torch.testing.assert_close(cost, reference.detach())
    assert list(grads) == list(net.params)
    for name in net.params:
        assert grads[name].shape == net.params[name].shape
        torch.testing.assert_close(grads[name], leaves[name].grad, rtol=0, atol=1e-12)


def test_gradient_check_report_says_true_for_both_networks():
    report = gradient_check_report()
    assert report.count("dZ = ŷ − y equals autograd's m·∂J/∂Z: True; dW and db equal autograd's: True") == 2
    assert "softmax regression: W1 (10, 64), b1 (10, 1)" in report
    assert "16 hidden units: W1 (16, 64), b1 (16, 1), W2 (10, 16), b2 (10, 1)" in report


@pytest.mark.parametrize("n_h", [0, 7])
def test_torch_twin_starts_from_the_same_weights_and_stays_equal(n_h):
    X, Y = problem(7, m=20)
    hand = SoftmaxNetwork(6, n_h, 4, generator=make_generator(8), dtype=F64)
    twin = TorchSoftmaxNetwork(6, n_h, 4, generator=make_generator(8), dtype=F64)
    for name in hand.params:
        torch.testing.assert_close(twin.params[name], hand.params[name])
    for _ in range(5):  # the same steps keep them together
        a, b = hand.cost_and_gradients(X, Y), twin.cost_and_gradients(X, Y)
        torch.testing.assert_close(a[0], b[0])
        for name in hand.params:
            torch.testing.assert_close(a[1][name], b[1][name])
        hand.update(a[1], 0.5)
        twin.update(b[1], 0.5)
    torch.testing.assert_close(twin.predict_proba(X), hand.predict_proba(X))
    torch.testing.assert_close(twin.scores(X), hand.scores(X))
    assert hand.predict_proba(X).sum(dim=0).tolist() == pytest.approx([1.0] * 20)
    assert accuracy(hand, X, Y) == accuracy(twin, X, Y)


def test_the_twin_loaded_with_other_weights_still_matches_by_state_dict():
    """A different start (another seed), then torch's own state dict: the same numbers must come out."""
    X, Y = problem(9)
    hand = SoftmaxNetwork(6, 3, 4, generator=make_generator(1), dtype=F64)
    twin = TorchSoftmaxNetwork(6, 3, 4, generator=make_generator(2), dtype=F64)
    assert not torch.allclose(twin.params["W1"], hand.params["W1"])
    twin.load_state_dict({"layers.0.weight": hand.params["W1"], "layers.0.bias": hand.params["b1"].flatten(),
                          "layers.1.weight": hand.params["W2"], "layers.1.bias": hand.params["b2"].flatten()})
    torch.testing.assert_close(twin.cost_and_gradients(X, Y)[0], hand.cost_and_gradients(X, Y)[0])


def test_the_hidden_layer_starts_with_he_weights():
    net = SoftmaxNetwork(400, 300, 10, generator=make_generator(0), dtype=F64)
    assert net.params["W1"].std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert net.params["W2"].shape == (10, 300) and not net.params["b1"].any()


def test_bad_network_settings_are_value_errors():
    with pytest.raises(ValueError, match=r"The 'softmax_hidden_units' parameter must be in the range \[0, 1024\]\. "
                                         r"Got -1 instead\."):
        SoftmaxNetwork(6, -1, 4, generator=make_generator(0))
    with pytest.raises(ValueError, match=r"The 'softmax_hidden_units' parameter must be a whole number\. Got 2.5"):
        TorchSoftmaxNetwork(6, 2.5, 4, generator=make_generator(0))
    with pytest.raises(ValueError, match=r"The 'n_y' parameter \(number of classes\) must be at least 2\. Got 1"):
        SoftmaxNetwork(6, 0, 1, generator=make_generator(0))
    with pytest.raises(ValueError, match=r"The 'softmax_implementation' parameter must be one of \['by_hand', "
                                         r"'torch_autograd'\]\. Got 'keras' instead\."):
        make_network("keras", 6, 0, 4)
    net = SoftmaxNetwork(6, 0, 4, generator=make_generator(0))
    with pytest.raises(ValueError, match=r"The 'lr' parameter must be in the range \(1e-05, 10.0\]\. Got 0 instead"):
        net.update(net.params, 0)


# ---------------------------------------------------------------- training on the digits


@pytest.mark.parametrize("implementation", ["by_hand", "torch_autograd"])
@pytest.mark.parametrize("n_h", [0, 32])
def test_both_networks_learn_the_ten_digits(digits, implementation, n_h):
    network = make_network(implementation, 64, n_h, 10)
    task = SoftmaxTraining(network, digits, lr=0.5, batch_size=64)
    assert task.steps_per_epoch == 17  # ⌈1079 / 64⌉
    events = list(train(task, 10 * task.steps_per_epoch, eval_every=task.steps_per_epoch))
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.steps == 170
    assert done.metrics["train_accuracy"] > 0.93 and done.metrics["dev_accuracy"] > 0.9
    assert [round(epoch, 6) for epoch, _ in task.evaluations] == list(range(1, 11))
    assert task.evaluations[-1][1] == done.metrics
    assert set(events[0].grad_norms) == ({"W1", "b1"} if n_h == 0 else {"W1", "b1", "W2", "b2"})


def test_by_hand_and_autograd_give_the_same_run(digits):
    costs = {}
    for implementation in ("by_hand", "torch_autograd"):
        task = SoftmaxTraining(make_network(implementation, 64, 16, 10), digits, lr=0.3, batch_size=100)
        costs[implementation] = [e.cost for e in train(task, 40) if hasattr(e, "cost")]
    assert costs["by_hand"] == pytest.approx(costs["torch_autograd"], rel=1e-4)


def test_a_huge_learning_rate_diverges(digits):
    task = SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=10.0, batch_size=64)
    events = list(train(task, 200))
    assert any(isinstance(e, DivergedEvent) for e in events)


def test_mini_batches_follow_the_batch_size_and_the_seed(digits):
    a = SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=0.1, batch_size=1079)
    assert a.steps_per_epoch == 1
    b, c = (SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=0.1, batch_size=8, seed=s)
            for s in (0, 1))
    assert [b.step()[0].item() for _ in range(3)] != [c.step()[0].item() for _ in range(3)]
    with pytest.raises(ValueError, match=r"The 'batch_size' parameter must be at most the number of examples "
                                         r"m = 1079\. Got 2000 instead\."):
        SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=0.1, batch_size=2000)
    with pytest.raises(ValueError, match=r"The 'batch_size' parameter must be in the range .* Got 0 instead"):
        SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=0.1, batch_size=0)
    with pytest.raises(ValueError, match=r"The 'lr' parameter .* Got -1 instead"):
        SoftmaxTraining(make_network("by_hand", 64, 0, 10), digits, lr=-1, batch_size=8)


# ---------------------------------------------------------------- errors


def test_confusion_matrix_equals_scikit_learns():
    from sklearn.metrics import confusion_matrix as sklearn_confusion

    truth = torch.randint(0, 10, (1, 500), generator=make_generator(0))
    guess = torch.where(torch.rand(1, 500, generator=make_generator(1)) < 0.8, truth,
                        torch.randint(0, 10, (1, 500), generator=make_generator(2)))
    matrix = confusion_matrix(truth, guess, 10)
    assert matrix.dtype == torch.int64 and matrix.sum() == 500
    assert matrix.tolist() == sklearn_confusion(truth[0].numpy(), guess[0].numpy(), labels=list(range(10))).tolist()
    with pytest.raises(ValueError, match=r"Y and 'predicted' must hold the same number of labels\. Got 500 and 3"):
        confusion_matrix(truth, torch.tensor([1, 2, 3]), 10)


def test_most_confused_finds_the_largest_mistake():
    matrix = torch.tensor([[50, 1, 0], [7, 40, 2], [0, 3, 30]])
    assert most_confused(matrix) == (1, 0, 7)
    assert most_confused(torch.diag(torch.tensor([5, 5])))[2] == 0


def test_confident_mistakes_are_the_wrong_answers_with_the_highest_probability():
    P = torch.tensor([[0.9, 0.2, 0.6, 0.1, 0.3],
                      [0.1, 0.7, 0.3, 0.85, 0.3],
                      [0.0, 0.1, 0.1, 0.05, 0.4]])  # (C=3, m=5); columns sum to 1
    Y = torch.tensor([[0, 0, 1, 1, 0]])
    wrong = confident_mistakes(P, Y, k=8)
    assert [(w.index, w.label, w.predicted) for w in wrong] == [(1, 0, 1), (2, 1, 0), (4, 0, 2)]
    assert [w.confidence for w in wrong] == pytest.approx([0.7, 0.6, 0.4])
    assert [w.index for w in confident_mistakes(P, Y, k=1)] == [1]


def test_dead_units_are_the_hidden_units_silent_on_every_example():
    X, _ = problem(10, m=30)
    for network in (SoftmaxNetwork, TorchSoftmaxNetwork):
        net = network(6, 5, 4, generator=make_generator(0), dtype=F64)
        assert dead_units(net, X) == 0
        W1 = net.params["W1"].clone()
        W1[:2] = 0  # two units with W = 0 and b = 0: z = 0 for every example, ReLU′ = 0
        if network is SoftmaxNetwork:
            net.params["W1"] = W1
        else:
            net.layers[0].weight.data.copy_(W1)
        assert dead_units(net, X) == 2
    assert dead_units(SoftmaxNetwork(6, 0, 4, generator=make_generator(0)), X.float()) == 0


def test_too_big_a_step_kills_the_hidden_units(digits):
    """α = 2 with 64 hidden units: the first steps push almost every unit below zero for all digits, while α = 0.5
    keeps nearly all of them. How well the few survivors still classify is chaotic at α = 2 (0.10–0.45 across seeds
    and thread counts, because summation order changes the path), so the accuracy check is a wide margin."""
    def trained(lr):
        task = SoftmaxTraining(make_network("by_hand", 64, 64, 10), digits, lr=lr, batch_size=64)
        return task, list(train(task, 10 * task.steps_per_epoch))[-1]

    too_big, too_big_done = trained(2.0)
    fine, fine_done = trained(0.5)
    assert dead_units(too_big.network, digits.X_train) > 50
    assert dead_units(fine.network, digits.X_train) <= 5
    assert too_big_done.metrics["dev_accuracy"] < fine_done.metrics["dev_accuracy"] - 0.4
