"""lab.backprop: the graph's backward pass, the layer notation's numbers and the gradient check, each against
PyTorch's autograd (or torch.nn) or against values worked out by hand; and every validation message."""

import math

import pytest
import torch

from lab.backprop import (
    ADD,
    BUGS,
    COURSE_GRAPH,
    MULTIPLY,
    CheckNetwork,
    EpsilonSweep,
    Graph,
    Node,
    checked_gradients,
    gradient_check,
    loop_dot,
    numerical_gradient,
    relative_difference,
    relative_differences,
    scale,
    time_dot_products,
    two_layer_example,
    unit_values,
    verdict,
)
from lab.data.digits import digit_images
from lab.deep_network import compute_cost
from lab.seeding import make_generator

F64 = torch.float64
COURSE = {"a": 5.0, "b": 3.0, "c": 2.0}

# ---- the computation graph ------------------------------------------------------------------------------------


def test_the_course_example_by_hand():
    values = COURSE_GRAPH.forward(COURSE)
    assert values == {"a": 5.0, "b": 3.0, "c": 2.0, "u": 6.0, "v": 11.0, "J": 33.0}
    assert COURSE_GRAPH.gradients(COURSE) == {"J": 1.0, "v": 3.0, "a": 3.0, "u": 3.0, "b": 6.0, "c": 9.0}


def test_backprop_visits_every_node_after_its_readers_in_the_course_order():
    assert COURSE_GRAPH.backward_order() == ("J", "v", "a", "u", "b", "c")
    steps = COURSE_GRAPH.backward_steps(COURSE_GRAPH.forward(COURSE))
    assert [s.node for s in steps] == ["J", "v", "a", "u", "b", "c"]
    b = steps[4]
    assert len(b.terms) == 1
    term = b.terms[0]
    assert (term.edge.source, term.edge.target, term.upstream, term.local, term.local_formula) == ("b", "u", 3.0, 2.0,
                                                                                                    "c")


def test_nodes_edges_and_formulas():
    assert COURSE_GRAPH.variables == ("a", "b", "c") and COURSE_GRAPH.output == "J"
    assert [(e.source, e.target) for e in COURSE_GRAPH.edges] == [("b", "u"), ("c", "u"), ("a", "v"), ("u", "v"),
                                                                  ("v", "J")]
    assert [n.formula for n in COURSE_GRAPH.nodes.values()] == ["a", "b", "c", "u = b·c", "v = a + u", "J = 3·v"]


@pytest.mark.parametrize("seed", range(10))
def test_gradients_equal_autograd_for_random_inputs(seed):
    a, b, c = (torch.randn(3, generator=make_generator(seed), dtype=F64) * 4).tolist()
    leaves = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (a, b, c)]
    J = 3 * (leaves[0] + leaves[1] * leaves[2])  # written independently of the graph
    J.backward()
    ours = COURSE_GRAPH.gradients({"a": a, "b": b, "c": c})
    assert ours["J"] == 1.0
    for name, leaf in zip("abc", leaves, strict=True):
        assert ours[name] == pytest.approx(leaf.grad.item(), rel=1e-12, abs=1e-12)
    assert COURSE_GRAPH.forward({"a": a, "b": b, "c": c})["J"] == pytest.approx(J.item(), rel=1e-12)
    assert COURSE_GRAPH.autograd_gradients({"a": a, "b": b, "c": c}) == pytest.approx(
        {name: ours[name] for name in "abc"}, rel=1e-12)


def test_every_local_derivative_equals_autograd():
    inputs = {"a": 1.5, "b": -2.0, "c": 0.75}
    leaves = {k: torch.tensor(v, dtype=F64, requires_grad=True) for k, v in inputs.items()}
    tensors = COURSE_GRAPH.forward(leaves)  # intermediate tensors: autograd can differentiate through them
    values = COURSE_GRAPH.forward(inputs)
    for edge in COURSE_GRAPH.edges:
        (expected,) = torch.autograd.grad(tensors[edge.target], tensors[edge.source], retain_graph=True)
        local, _ = COURSE_GRAPH.local_derivative(edge, values)
        assert local == pytest.approx(expected.item(), rel=1e-12), edge


def test_a_node_read_twice_adds_up_both_paths():
    """J = 2(a·b + a): a feeds two operations, so dJ/da = 2(b + 1) is a sum of two chain-rule terms."""
    graph = Graph([Node("a"), Node("b"), Node("p", ("a", "b"), MULTIPLY), Node("q", ("p", "a"), ADD),
                   Node("J", ("q",), scale(2))])
    assert graph.backward_order() == ("J", "q", "p", "a", "b")  # a only once both p and q are done
    steps = {s.node: s for s in graph.backward_steps(graph.forward({"a": 1.5, "b": -4.0}))}
    assert len(steps["a"].terms) == 2
    assert steps["a"].gradient == pytest.approx(2 * (-4.0 + 1)) and steps["b"].gradient == pytest.approx(3.0)
    a, b = (torch.tensor(v, dtype=F64, requires_grad=True) for v in (1.5, -4.0))
    (2 * (a * b + a)).backward()
    assert graph.autograd_gradients({"a": 1.5, "b": -4.0}) == pytest.approx({"a": a.grad.item(), "b": b.grad.item()})


def test_a_square_uses_the_same_operand_twice():
    graph = Graph([Node("x"), Node("s", ("x", "x"), MULTIPLY)])
    assert graph.gradients({"x": 3.0})["x"] == pytest.approx(6.0)  # d(x·x)/dx = x + x
    assert graph.autograd_gradients({"x": 3.0}) == {"x": pytest.approx(6.0)}


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="needs a value for its input 'c'"):
        COURSE_GRAPH.forward({"a": 1.0, "b": 2.0})
    for bad in (math.nan, math.inf, True, "2", None, torch.tensor([1.0, 2.0])):
        with pytest.raises(ValueError, match="The input 'b' must be a finite number"):
            COURSE_GRAPH.forward({"a": 1.0, "b": bad, "c": 2.0})


def test_bad_graphs_are_refused():
    with pytest.raises(ValueError, match="two nodes named 'a'"):
        Graph([Node("a"), Node("a")])
    with pytest.raises(ValueError, match="Node 'u' reads \\['c'\\], which must be listed before it"):
        Graph([Node("b"), Node("u", ("b", "c"), MULTIPLY), Node("c")])
    with pytest.raises(ValueError, match="Node 'u' must be a variable"):
        Graph([Node("b"), Node("u", ("b",))])


# ---- layer notation -------------------------------------------------------------------------------------------


def test_layer_example_shapes_follow_the_course_convention():
    example = two_layer_example(hidden_units=5, num_examples=7)
    assert example.X.shape == (64, 7)
    assert {k: tuple(v.shape) for k, v in example.params.items()} == {"W1": (5, 64), "b1": (5, 1), "W2": (1, 5),
                                                                       "b2": (1, 1)}
    assert [tuple(z.shape) for z in example.Z] == [(5, 7), (1, 7)]
    assert [tuple(a.shape) for a in example.A] == [(5, 7), (1, 7)]
    assert example.labels == tuple(digit_images()[1][:7].tolist())
    assert example.params["b1"].abs().sum() > 0  # drawn, so that b's part in z shows


def test_layer_example_equals_torch_nn():
    example = two_layer_example(hidden_units=3, num_examples=5, seed=4)
    p = example.params
    net = torch.nn.Sequential(torch.nn.Linear(64, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    net = net.to(F64)
    with torch.no_grad():
        net[0].weight.copy_(p["W1"])
        net[0].bias.copy_(p["b1"].flatten())
        net[2].weight.copy_(p["W2"])
        net[2].bias.copy_(p["b2"].flatten())
        torch.testing.assert_close(net[:2](example.X.T).T, example.A[0])  # torch.nn works on rows: (m, n)
        torch.testing.assert_close(net(example.X.T).T, example.A[1])
        torch.testing.assert_close(net[0](example.X.T).T, example.Z[0])


def test_unit_values_by_hand():
    example = two_layer_example(hidden_units=4, num_examples=6)
    p = example.params
    v = unit_values(example, 1, 2, 3)  # unit 3 of layer 1, example 4 (0-based)
    assert v.dot == pytest.approx((p["W1"][2] * example.X[:, 3]).sum().item(), rel=1e-12)
    assert v.bias == p["b1"][2, 0].item()
    assert v.z_i == pytest.approx(v.dot + v.bias, rel=1e-12) and v.a_i == pytest.approx(math.tanh(v.z_i), rel=1e-12)
    w = unit_values(example, 2, 0, 5)
    hidden = torch.tanh(p["W1"] @ example.X[:, 5] + p["b1"][:, 0])
    assert w.dot == pytest.approx((p["W2"][0] @ hidden).item(), rel=1e-12)
    assert w.a_i == pytest.approx(1 / (1 + math.exp(-w.z_i)), rel=1e-12)


def test_layer_notation_validation():
    with pytest.raises(ValueError, match="'hidden_units'"):
        two_layer_example(hidden_units=0)
    with pytest.raises(ValueError, match="'notation_examples'"):
        two_layer_example(num_examples=0)
    with pytest.raises(ValueError, match="'notation_examples'"):
        two_layer_example(num_examples=1798)
    example = two_layer_example(hidden_units=2, num_examples=3)
    with pytest.raises(ValueError, match="The 'layer' parameter must be 1 or 2. Got 3"):
        unit_values(example, 3, 0, 0)
    with pytest.raises(ValueError, match="The 'unit' parameter must be in \\[0, 1\\] for layer 1. Got 2"):
        unit_values(example, 1, 2, 0)
    with pytest.raises(ValueError, match="The 'unit' parameter must be in \\[0, 0\\] for layer 2"):
        unit_values(example, 2, 1, 0)
    with pytest.raises(ValueError, match="The 'column' parameter must be in \\[0, 2\\]. Got -1"):
        unit_values(example, 1, 0, -1)


# ---- vectorization --------------------------------------------------------------------------------------------


def test_loop_dot_equals_torch_dot():
    x, y = torch.randn(2, 1000, generator=make_generator(1), dtype=F64)
    assert loop_dot(x.tolist(), y.tolist()) == pytest.approx(torch.dot(x, y).item(), rel=1e-12)
    assert loop_dot([], []) == 0.0


def test_a_short_loop_is_timed_whole():
    t = time_dot_products(500, seed=3)
    generator = make_generator(3)
    x, y = torch.rand(500, generator=generator, dtype=F64), torch.rand(500, generator=generator, dtype=F64)
    assert t.n == 500 and t.loop_elements == 500 and not t.extrapolated
    assert t.loop_value == pytest.approx(torch.dot(x, y).item(), rel=1e-12) and t.gap < 1e-12
    assert t.loop_seconds > 0 and t.vector_seconds > 0 and t.speedup == t.loop_seconds / t.vector_seconds


def test_a_long_loop_is_capped_and_extrapolated():
    t = time_dot_products(1e6, max_loop_seconds=1e-6)  # stops after its first chunk
    assert t.n == 1_000_000 and t.extrapolated and t.loop_elements == 65_536
    generator = make_generator(0)
    x, y = torch.rand(1_000_000, generator=generator, dtype=F64), torch.rand(1_000_000, generator=generator, dtype=F64)
    assert t.loop_value == pytest.approx(torch.dot(x[:65_536], y[:65_536]).item(), rel=1e-12)


def test_the_length_is_rounded_from_the_log_slider():
    assert time_dot_products(10 ** 1.05, max_loop_seconds=1.0).n == 11


def test_timing_validation():
    for bad in (0, 0.5, 1e8, math.nan, "10", True):
        with pytest.raises(ValueError, match="'vector_length'"):
            time_dot_products(bad)
    for bad in (0, -1.0, math.inf, math.nan, None, True):
        with pytest.raises(ValueError, match="'max_loop_seconds'"):
            time_dot_products(10, max_loop_seconds=bad)


# ---- gradient checking ----------------------------------------------------------------------------------------


def cubic(params):
    """J = Σ θ³ with its exact gradient 3θ²."""
    theta = params["theta"]
    return (theta ** 3).sum(), {"theta": 3 * theta ** 2}


def test_relative_difference_by_hand():
    one, other = {"w": torch.tensor([1.0, 0.0], dtype=F64)}, {"w": torch.tensor([0.0, 1.0], dtype=F64)}
    assert relative_difference(one, other) == pytest.approx(math.sqrt(2) / 2)
    assert relative_difference(one, one) == 0.0
    zero = {"w": torch.zeros(2, dtype=F64)}
    assert relative_difference(zero, zero) == 0.0  # both zero: they agree, not 0/0
    assert relative_difference({"w": 2 * one["w"]}, one) == pytest.approx(1 / 3)
    two = {"w": torch.tensor([[3.0, 4.0]], dtype=F64), "b": torch.tensor([0.0], dtype=F64)}
    off = {"w": torch.tensor([[3.0, 4.0]], dtype=F64), "b": torch.tensor([5.0], dtype=F64)}
    assert relative_difference(two, off) == pytest.approx(5 / (5 + math.sqrt(50)))
    assert relative_differences(two, off) == {"w": 0.0, "b": 1.0}


def test_numerical_gradient_equals_the_exact_gradient():
    theta = torch.randn(3, 4, generator=make_generator(2), dtype=F64)
    approx = numerical_gradient(cubic, {"theta": theta}, epsilon=1e-5)
    assert approx["theta"].shape == (3, 4) and approx["theta"].dtype == F64
    torch.testing.assert_close(approx["theta"], 3 * theta ** 2, atol=1e-8, rtol=1e-8)


def test_one_sided_error_falls_like_eps_and_two_sided_like_eps_squared():
    theta = {"theta": torch.tensor([0.7, -1.3, 2.1], dtype=F64)}
    exact = cubic(theta)[1]

    def error(epsilon, two_sided):
        return relative_difference(numerical_gradient(cubic, theta, epsilon, two_sided=two_sided), exact)

    assert math.log10(error(1e-2, False) / error(1e-3, False)) == pytest.approx(1.0, abs=0.05)  # slope 1
    assert math.log10(error(1e-2, True) / error(1e-3, True)) == pytest.approx(2.0, abs=0.05)  # slope 2


def test_gradient_check_passes_autograd_gradients():
    """A cost whose gradients come from PyTorch's autograd passes the check."""
    X = torch.randn(3, 10, generator=make_generator(5), dtype=F64)
    Y = (torch.rand(1, 10, generator=make_generator(6), dtype=F64) > 0.5).to(F64)

    def f(params):
        leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
        cost = compute_cost(leaves["W"] @ X + leaves["b"], Y, {})
        grads = torch.autograd.grad(cost, list(leaves.values()))
        return cost.detach(), dict(zip(leaves, grads, strict=True))

    params = {"W": torch.randn(1, 3, generator=make_generator(7), dtype=F64), "b": torch.zeros(1, 1, dtype=F64)}
    assert gradient_check(f, params) < 1e-7


def test_the_check_network_backward_equals_autograd():
    network = CheckNetwork()
    cost, grads = network.cost_and_gradients(network.params)
    leaves = {k: v.clone().requires_grad_() for k, v in network.params.items()}
    A = network.X
    for k in (1, 2):
        A = torch.tanh(leaves[f"W{k}"] @ A + leaves[f"b{k}"])
    Z = leaves["W3"] @ A + leaves["b3"]
    m = network.Y.shape[1]
    reference = torch.nn.functional.binary_cross_entropy_with_logits(Z, network.Y) + network.LAMBD / (2 * m) * sum(
        (leaves[f"W{k}"] ** 2).sum() for k in (1, 2, 3))
    reference.backward()
    torch.testing.assert_close(cost, reference.detach())
    for name, leaf in leaves.items():
        torch.testing.assert_close(grads[name], leaf.grad)
    assert sum(v.numel() for v in network.params.values()) == 31


def test_the_correct_backward_passes_the_course_check():
    network = CheckNetwork("none")
    difference = gradient_check(network.cost_and_gradients, network.params, epsilon=1e-7)
    assert difference < 1e-7 and verdict(difference) == "fine"


WRONG = {  # planted bug → the parameters whose gradients it spoils
    "dw_factor": {"W2"},
    "db_dropped": {"b1"},
    "activation_derivative": {"W1", "b1", "W2", "b2"},
    "no_l2_gradient": {"W1", "W2", "W3"},
}


@pytest.mark.parametrize("bug", sorted(WRONG))
def test_each_planted_bug_is_caught_and_located(bug):
    network = CheckNetwork(bug)
    difference = gradient_check(network.cost_and_gradients, network.params)
    assert difference > 1e-3 and verdict(difference) == "almost certainly a bug"
    grads = checked_gradients(network.cost_and_gradients, network.params)
    per_parameter = relative_differences(numerical_gradient(network.cost_and_gradients, network.params), grads)
    assert {name for name, d in per_parameter.items() if d > 1e-3} == WRONG[bug]
    assert all(d < 1e-6 for name, d in per_parameter.items() if name not in WRONG[bug])


def test_a_planted_bug_changes_the_gradients_but_never_the_cost():
    correct = CheckNetwork()
    for bug in BUGS:
        network = CheckNetwork(bug)
        torch.testing.assert_close(network.params, correct.params)
        torch.testing.assert_close(network.cost_and_gradients(network.params)[0],
                                   correct.cost_and_gradients(correct.params)[0])


def test_a_missing_gradient_is_named():
    network = CheckNetwork("missing_gradient")
    with pytest.raises(ValueError, match="The gradients have no entry for parameter 'b3': .*returned W1, b1, W2, b2, "
                                         "W3"):
        gradient_check(network.cost_and_gradients, network.params)


def test_a_gradient_of_the_wrong_shape_is_named():
    def f(params):
        return cubic(params)[0], {"theta": torch.zeros(4, dtype=F64)}

    with pytest.raises(ValueError, match=r"The gradient of 'theta' has shape \(4,\); the parameter has shape \(2, 2\)"):
        gradient_check(f, {"theta": torch.ones(2, 2, dtype=F64)})


def test_bad_params_and_costs_are_refused():
    with pytest.raises(ValueError, match="'params' parameter must be a non-empty dict"):
        gradient_check(cubic, {})
    with pytest.raises(ValueError, match="'params' parameter must be a non-empty dict"):
        gradient_check(cubic, [torch.ones(2)])
    with pytest.raises(ValueError, match="The parameter 'theta' must be a floating-point tensor"):
        gradient_check(cubic, {"theta": torch.ones(2, dtype=torch.int64)})
    with pytest.raises(ValueError, match="must return a single cost first"):
        numerical_gradient(lambda p: (p["theta"] * 2, {"theta": p["theta"]}), {"theta": torch.ones(2, dtype=F64)})


@pytest.mark.parametrize("bad", [0, 0.0, -1e-7, 2.0, math.nan, math.inf, "1e-7", None, True])
def test_a_bad_epsilon_is_named(bad):
    with pytest.raises(ValueError, match="'check_epsilon'"):
        gradient_check(cubic, {"theta": torch.ones(2, dtype=F64)}, epsilon=bad)
    with pytest.raises(ValueError, match="'check_epsilon'"):
        numerical_gradient(cubic, {"theta": torch.ones(2, dtype=F64)}, epsilon=bad)


def test_a_tiny_epsilon_gives_a_finite_answer():
    """θ ± 5e-324 rounds back to θ: the estimate is 0 and the difference is 1, not NaN."""
    assert gradient_check(cubic, {"theta": torch.ones(2, dtype=F64)}, epsilon=5e-324) == pytest.approx(1.0)


def test_verdict_follows_the_course():
    assert [verdict(d) for d in (0.0, 1e-9, 1e-7, 9e-7)] == ["fine"] * 4
    assert [verdict(d) for d in (1e-6, 1e-5, 9e-5)] == ["look again"] * 3
    assert [verdict(d) for d in (1e-4, 1e-3, 0.7, 1.0)] == ["almost certainly a bug"] * 4


def test_epsilon_sweep_matches_direct_checks_and_remembers():
    network = CheckNetwork()
    f = network.cost_and_gradients
    sweep = EpsilonSweep(f, network.params, [1e-2, 1e-6])
    grads = checked_gradients(f, network.params)
    one, two = sweep.errors(grads)
    assert two[1] == pytest.approx(gradient_check(f, network.params, epsilon=1e-6), rel=1e-9)
    assert one[0] == pytest.approx(relative_difference(numerical_gradient(f, network.params, 1e-2, False), grads))
    assert one[0] > 10 * two[0]  # at ε = 0.01 the one-sided estimate is far worse
    assert sweep.approximations(1e-2) is sweep.approximations(1e-2)
    with pytest.raises(ValueError, match="'check_epsilon'"):
        EpsilonSweep(f, network.params, [0.0])


def test_epsilon_sweep_with_a_cost_alone_gives_the_same_estimates_as_numerical_gradient():
    network = CheckNetwork("dw_factor")  # a bug in the backward pass: the cost, and so the estimates, are unchanged
    assert network.cost(network.params).item() == network.cost_and_gradients(network.params)[0].item()
    sweep = EpsilonSweep(network.cost_and_gradients, network.params, [1e-3], cost=network.cost)
    for epsilon in (1e-3, 1e-6):
        one, two = sweep.approximations(epsilon)
        for name in network.params:
            assert torch.equal(one[name], numerical_gradient(network.cost_and_gradients, network.params, epsilon,
                                                             two_sided=False)[name])
            assert torch.equal(two[name], numerical_gradient(network.cost_and_gradients, network.params, epsilon)[name])


def test_an_unknown_bug_is_named():
    with pytest.raises(ValueError, match="The 'planted_bug' parameter must be one of"):
        CheckNetwork("typo")
