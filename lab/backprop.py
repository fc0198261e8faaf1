"""Backpropagation made visible: a computation graph as data, the layer notation on a live 2-layer network,
a Python loop against a vectorized product, and gradient checking.

**Computation graph.** Variables (a, b, c) and operations (u = b·c, v = a + u, J = 3v) are the *nodes*; an
edge runs from an operand to the operation that reads it. Values travel forward along the edges, derivatives
backward. Each operation knows its local derivatives ∂out/∂input (∂u/∂b = c). Backprop visits the nodes from
the output back, in an order where every operation that reads a node is done before the node itself, and
applies the chain rule: dJ/dx = Σ over the readers r of x of dJ/dr · ∂r/∂x.

**Gradient checking.** The two-sided difference (J(θ + ε·e_i) − J(θ − ε·e_i)) / 2ε estimates ∂J/∂θ_i with
an error ∝ ε² (the one-sided (J(θ + ε·e_i) − J(θ)) / ε: ∝ ε). The check compares every entry with what the
backward pass returned through the relative difference ‖dθ_approx − dθ‖₂ / (‖dθ_approx‖₂ + ‖dθ‖₂): around
1e-7 or less is fine, around 1e-5 deserves a second look, around 1e-3 or more is almost certainly a bug.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab.data.digits import digit_images
from lab.data.planar import make_planar
from lab.deep_network import backward_propagation, compute_cost, forward_propagation
from lab.initialization import initialize_parameters
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("graph_input", "Input value", "The value of this input variable of the computation graph.",
          1.0, low=-10.0, high=10.0, step=0.5),
    Param("notation_examples", "Examples m", "How many examples are stacked side by side, one per column of X.",
          8, low=1, high=1797, step=1, integer=True, ui_high=16),
    Param("notation_unit", "Unit i", "Which unit of the chosen layer to look at (counted from 1, as in the course).",
          1, low=1, high=1024, step=1, integer=True),
    Param("vector_length", "Vector length n", "How many numbers each of the two vectors in the dot product holds.",
          1e6, low=1.0, high=1e7, log=True),
    Param("check_epsilon", "Step ε", "How far each parameter is nudged either way to estimate its derivative: "
          "(J(θ + ε) − J(θ − ε)) / 2ε.", 1e-7, low=0.0, high=1.0, low_inclusive=False, log=True,
          ui_low=1e-12, ui_high=1e-1),
    Param("planted_bug", "Plant a bug in backprop", "A mistake planted in the backward pass, for the gradient "
          "check to find.", "none", options=("none", "dw_factor", "db_dropped", "activation_derivative",
                                             "no_l2_gradient", "missing_gradient")),
)

# ---- the computation graph -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What an operation node computes from its inputs, and its local derivatives ∂out/∂input_k."""

    symbol: str  # how the node reads, with {0}, {1} for its inputs: "{0}·{1}"
    forward: Callable[..., float]  # the output from the input values
    partials: Callable[..., tuple]  # ∂out/∂input_k for every input k, from the input values
    formulas: Callable[..., tuple[str, ...]]  # the same partials in symbols, from the input names


MULTIPLY = Operation("{0}·{1}", lambda x, y: x * y, lambda x, y: (y, x), lambda p, q: (q, p))
ADD = Operation("{0} + {1}", lambda x, y: x + y, lambda x, y: (1.0, 1.0), lambda p, q: ("1", "1"))


def scale(k: float) -> Operation:
    """The operation k·x, whose derivative is the constant k."""
    return Operation(f"{k:g}·{{0}}", lambda x: k * x, lambda x: (k,), lambda p: (f"{k:g}",))


@dataclass(frozen=True)
class Node:
    name: str  # "u"
    inputs: tuple[str, ...] = ()  # the nodes it reads; () for a variable
    operation: Operation | None = None  # None for a variable (an input of the graph)

    @property
    def formula(self) -> str:
        """'u = b·c' for an operation, the bare name for a variable."""
        return self.name if self.operation is None else f"{self.name} = {self.operation.symbol.format(*self.inputs)}"


@dataclass(frozen=True)
class Edge:
    source: str  # the operand
    target: str  # the operation that reads it
    index: int  # which input of `target` it is


@dataclass(frozen=True)
class ChainTerm:
    """One term dJ/dr · ∂r/∂x of the chain rule for x, through one reader r of x."""

    edge: Edge
    upstream: float  # dJ/dr, already known when x is visited
    local: float  # ∂r/∂x
    local_formula: str  # ∂r/∂x in symbols, e.g. "c"


@dataclass(frozen=True)
class BackwardStep:
    """What backprop learns on visiting one node: dJ/d(node) = Σ terms (1 for the output itself)."""

    node: str
    gradient: float  # dJ/d(node)
    terms: tuple[ChainTerm, ...]  # () for the output


def _finite_number(value) -> bool:
    """A finite int or float (not a bool), or a one-number floating tensor holding one."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and value.is_floating_point() and bool(torch.isfinite(value.detach()).all())
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Graph:
    """A computation graph: nodes listed so that every node comes after its inputs; the last is the output J."""

    def __init__(self, nodes: list[Node]):
        self.nodes: dict[str, Node] = {}
        for node in nodes:
            if node.name in self.nodes:
                raise ValueError(f"The graph has two nodes named {node.name!r}.")
            missing = [name for name in node.inputs if name not in self.nodes]
            if missing:
                raise ValueError(f"Node {node.name!r} reads {missing}, which must be listed before it.")
            if (node.operation is None) != (not node.inputs):
                raise ValueError(f"Node {node.name!r} must be a variable (no inputs) or an operation with inputs.")
            self.nodes[node.name] = node
        self.output = nodes[-1].name
        self.variables = tuple(n.name for n in nodes if n.operation is None)
        self.edges = tuple(Edge(src, n.name, k) for n in nodes for k, src in enumerate(n.inputs))

    def forward(self, inputs: dict[str, float]) -> dict[str, float]:
        """The value of every node, from the variables' values (numbers, or 0-d tensors for autograd)."""
        for name in self.variables:
            if name not in inputs:
                raise ValueError(f"The graph needs a value for its input {name!r}. Got values for "
                                 f"{sorted(inputs)} instead.")
            value = inputs[name]
            if not _finite_number(value):
                raise ValueError(f"The input {name!r} must be a finite number. Got {value!r} instead.")
        values = {name: inputs[name] for name in self.variables}
        for node in self.nodes.values():
            if node.operation is not None:
                values[node.name] = node.operation.forward(*(values[i] for i in node.inputs))
        return values

    def local_derivative(self, edge: Edge, values: dict[str, float]) -> tuple[float, str]:
        """∂target/∂source along `edge` at the forward `values`, as a number and as a formula."""
        node = self.nodes[edge.target]
        number = node.operation.partials(*(values[i] for i in node.inputs))[edge.index]
        return number, node.operation.formulas(*node.inputs)[edge.index]

    def backward_order(self) -> tuple[str, ...]:
        """The output first, and every node only once all the operations reading it are visited (Kahn's
        algorithm run from the output): J, v, a, u, b, c for the course's graph. A node the output does not
        depend on is never visited."""
        readers = {name: sum(e.source == name for e in self.edges) for name in self.nodes}
        order, ready = [], [self.output]
        while ready:
            name = ready.pop(0)
            order.append(name)
            for source in self.nodes[name].inputs:
                readers[source] -= 1
                if readers[source] == 0:
                    ready.append(source)
        return tuple(order)

    def backward_steps(self, values: dict[str, float]) -> list[BackwardStep]:
        """Backprop from the forward `values`: one step per node in `backward_order`, dJ/dJ = 1 first."""
        gradient = {self.output: 1.0}
        steps = [BackwardStep(self.output, 1.0, ())]
        for name in self.backward_order()[1:]:
            terms = []
            for edge in (e for e in self.edges if e.source == name):
                local, formula = self.local_derivative(edge, values)
                terms.append(ChainTerm(edge, gradient[edge.target], local, formula))
            gradient[name] = sum(t.upstream * t.local for t in terms)
            steps.append(BackwardStep(name, gradient[name], tuple(terms)))
        return steps

    def gradients(self, inputs: dict[str, float]) -> dict[str, float]:
        """dJ/d(node) for every node."""
        return {step.node: step.gradient for step in self.backward_steps(self.forward(inputs))}

    def autograd_gradients(self, inputs: dict[str, float]) -> dict[str, float]:
        """dJ/d(variable) for every variable as PyTorch's autograd finds it, running the same forward on float64
        tensors: the oracle the hand-run backward is compared with."""
        leaves = {name: torch.tensor(float(inputs[name]), dtype=torch.float64, requires_grad=True)
                  for name in self.variables}
        output = self.forward(leaves)[self.output]
        grads = torch.autograd.grad(output, list(leaves.values()), allow_unused=True)
        return {name: 0.0 if g is None else g.item() for name, g in zip(leaves, grads, strict=True)}


# The course's example: J = 3(a + b·c), through u = b·c and v = a + u.
COURSE_GRAPH = Graph([Node("a"), Node("b"), Node("c"), Node("u", ("b", "c"), MULTIPLY),
                      Node("v", ("a", "u"), ADD), Node("J", ("v",), scale(3))])

# ---- layer notation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerExample:
    """A 2-layer network (tanh hidden layer, σ output) on m real digits, with every layer's Z and A."""

    X: torch.Tensor  # (64, m) one 8×8 digit per column, A^[0]
    labels: tuple[int, ...]  # the m digits' classes 0–9
    params: dict[str, torch.Tensor]  # W1 (n^[1], 64), b1 (n^[1], 1), W2 (1, n^[1]), b2 (1, 1)
    Z: tuple[torch.Tensor, torch.Tensor]  # Z^[1] (n^[1], m), Z^[2] (1, m)
    A: tuple[torch.Tensor, torch.Tensor]  # A^[1] = tanh(Z^[1]), A^[2] = σ(Z^[2]) = ŷ


@dataclass(frozen=True)
class UnitValues:
    """z^[l]_i = w^[l]_i · a^[l−1] + b^[l]_i and a^[l]_i = g(z^[l]_i) for one example."""

    dot: float  # w^[l]_i · a^[l−1], the row of W^[l] times the example's column of A^[l−1]
    bias: float  # b^[l]_i
    z_i: float  # z^[l]_i = dot + bias
    a_i: float  # a^[l]_i = g(z^[l]_i)


def two_layer_example(hidden_units: int = 4, num_examples: int = 8, seed: int = 0) -> LayerExample:
    """An untrained 2-layer network with `hidden_units` tanh units and one σ unit, run on the first
    `num_examples` of scikit-learn's digits. Xavier weights; the biases are drawn too (a fresh network would
    start at b = 0), so that their part in z shows."""
    hidden_units, m = validate("hidden_units", hidden_units), validate("notation_examples", num_examples)
    generator = make_generator(seed)
    images, labels = digit_images()
    X = images[:, :m].to(torch.float64)  # (64, m)
    params = initialize_parameters([64, hidden_units, 1], "xavier", generator=generator, dtype=torch.float64)
    for k in (1, 2):
        params[f"b{k}"] = 0.5 * torch.randn(params[f"b{k}"].shape, generator=generator, dtype=torch.float64)
    _, caches = forward_propagation(params, X, "tanh")
    return LayerExample(X, tuple(labels[:m].tolist()), params, (caches[0].Z, caches[1].Z),
                        (caches[0].A, caches[1].A))


def unit_values(example: LayerExample, layer: int, unit: int, column: int) -> UnitValues:
    """z and a of unit `unit` (0-based) of layer `layer` (1 or 2) for example `column` (0-based)."""
    if layer not in (1, 2):
        raise ValueError(f"The 'layer' parameter must be 1 or 2. Got {layer!r} instead.")
    W, b = example.params[f"W{layer}"], example.params[f"b{layer}"]
    if not 0 <= unit < W.shape[0]:
        raise ValueError(f"The 'unit' parameter must be in [0, {W.shape[0] - 1}] for layer {layer}. Got {unit!r}.")
    if not 0 <= column < example.X.shape[1]:
        raise ValueError(f"The 'column' parameter must be in [0, {example.X.shape[1] - 1}]. Got {column!r}.")
    a_prev = example.X[:, column] if layer == 1 else example.A[0][:, column]  # (n^[l−1],)
    return UnitValues((W[unit] @ a_prev).item(), b[unit, 0].item(), example.Z[layer - 1][unit, column].item(),
                      example.A[layer - 1][unit, column].item())


# ---- vectorization ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DotTiming:
    """A Python loop against one vectorized call, both computing the dot product of two vectors of length n."""

    n: int
    loop_seconds: float  # for all n elements; extrapolated from `loop_elements` when the loop was capped
    loop_elements: int  # how many elements the loop really went through
    vector_seconds: float  # torch.dot over all n elements
    loop_value: float  # the loop's sum over its `loop_elements`
    gap: float  # |loop − torch.dot| over those same elements, relative to the value

    @property
    def extrapolated(self) -> bool:
        return self.loop_elements < self.n

    @property
    def speedup(self) -> float:
        """How many times longer the loop takes."""
        return self.loop_seconds / self.vector_seconds


def loop_dot(xs: list[float], ys: list[float]) -> float:
    """Σ_i x_i·y_i one element at a time, as plain Python does it."""
    total = 0.0
    for i in range(len(xs)):
        total += xs[i] * ys[i]
    return total


def _best_time(call: Callable[[], object], repeats: int = 5, at_least: float = 1e-3) -> float:
    """Seconds per call: the best of `repeats` batches, each repeating the call for `at_least` seconds (a timer
    tick is coarse for a quick call, and the best batch is the one the rest of the machine disturbed least)."""
    best = math.inf
    for _ in range(repeats):
        runs, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < at_least or runs == 0:
            call()
            runs += 1
        best = min(best, elapsed / runs)
    return best


SHORT_LOOP = 10_000  # up to this length the loop is timed whole, many times over, like the vectorized call


def time_dot_products(vector_length: float = 1e6, max_loop_seconds: float = 1.0, seed: int = 0) -> DotTiming:
    """Time x·y for two random float64 vectors of length n = round(vector_length): a Python loop over the
    numbers, and one vectorized torch.dot.

    A long loop runs once, in chunks, and stops once it has used `max_loop_seconds`; its time for all n elements
    is then extrapolated linearly (each element costs the same).
    """
    n = round(validate("vector_length", vector_length))
    if isinstance(max_loop_seconds, bool) or not isinstance(max_loop_seconds, (int, float)) \
            or not 0 < max_loop_seconds < math.inf:
        raise ValueError(f"The 'max_loop_seconds' parameter must be a positive number. Got {max_loop_seconds!r}.")
    generator = make_generator(seed)
    x = torch.rand(n, generator=generator, dtype=torch.float64)  # (n,)
    y = torch.rand(n, generator=generator, dtype=torch.float64)  # (n,)
    vector_seconds = _best_time(lambda: torch.dot(x, y))
    if n <= SHORT_LOOP:
        xs, ys = x.tolist(), y.tolist()
        done, total, loop_seconds = n, loop_dot(xs, ys), _best_time(lambda: loop_dot(xs, ys))
    else:
        done, loop_seconds, total, chunk = 0, 0.0, 0.0, 65_536
        while done < n and loop_seconds < max_loop_seconds:
            xs, ys = x[done:done + chunk].tolist(), y[done:done + chunk].tolist()  # not timed: the data exists
            start = time.perf_counter()
            total += loop_dot(xs, ys)
            loop_seconds += time.perf_counter() - start
            done += len(xs)
        loop_seconds *= n / done
    reference = torch.dot(x[:done], y[:done]).item()
    return DotTiming(n, loop_seconds, done, vector_seconds, total,
                     abs(total - reference) / max(abs(reference), 1e-300))


# ---- gradient checking -----------------------------------------------------------------------------------------

Params = dict[str, torch.Tensor]
CostAndGradients = Callable[[Params], tuple[torch.Tensor, Params]]  # f(params) → (J, grads keyed like params)


def _check_params(params: Params) -> Params:
    if not isinstance(params, dict) or not params:
        raise ValueError(f"The 'params' parameter must be a non-empty dict of tensors. Got {params!r} instead.")
    for name, value in params.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise ValueError(f"The parameter {name!r} must be a floating-point tensor. Got {value!r} instead.")
    return params


def _cost(f: CostAndGradients, params: Params) -> float:
    cost = f(params)[0]
    if not isinstance(cost, torch.Tensor) or cost.numel() != 1:
        raise ValueError(f"f(params) must return a single cost first. Got {cost!r} instead.")
    return cost.item()


def checked_gradients(f: CostAndGradients, params: Params) -> Params:
    """The gradients f(params) returns, after checking there is one of the right shape for every parameter."""
    grads = f(_check_params(params))[1]
    for name, value in params.items():
        if name not in grads:
            raise ValueError(f"The gradients have no entry for parameter {name!r}: backprop must return one for "
                             f"every parameter (it returned {', '.join(grads) or 'none'}).")
        if tuple(grads[name].shape) != tuple(value.shape):
            raise ValueError(f"The gradient of {name!r} has shape {tuple(grads[name].shape)}; the parameter has "
                             f"shape {tuple(value.shape)}.")
    return grads


def _nudged_cost(f: CostAndGradients, params: Params, name: str, i: int, shift: float) -> float:
    """J with entry i (in row-major order) of parameter `name` moved by `shift`, every other entry as it is."""
    nudged = params[name].detach().clone(memory_format=torch.contiguous_format)
    nudged.view(-1)[i] += shift
    return _cost(f, {**params, name: nudged})


def numerical_gradient(f: CostAndGradients, params: Params, epsilon: float = 1e-7, two_sided: bool = True,
                       ) -> Params:
    """dθ_approx keyed and shaped like `params`: every entry θ_i nudged by ±ε (two-sided, error ∝ ε²) or by
    +ε only (one-sided, error ∝ ε), the cost recomputed each time, 2 (or 1) calls of f per entry."""
    epsilon = validate("check_epsilon", epsilon)
    params = _check_params(params)
    base = None if two_sided else _cost(f, params)

    def estimate(name: str, i: int) -> tuple[float]:
        up = _nudged_cost(f, params, name, i, epsilon)
        return ((up - _nudged_cost(f, params, name, i, -epsilon)) / (2 * epsilon) if two_sided
                else (up - base) / epsilon,)

    return _entrywise(params, estimate)[0]


def _entrywise(params: Params, estimate: Callable[[str, int], tuple[float, ...]], count: int = 1,
               ) -> tuple[Params, ...]:
    """`count` dicts keyed and shaped like `params` (their dtype and device): the k-th holds the k-th of the
    `count` numbers `estimate(name, i)` returns for entry i (row-major) of parameter `name`."""
    flats = {name: [estimate(name, i) for i in range(value.numel())] for name, value in params.items()}
    return tuple({name: torch.tensor([entry[k] for entry in flats[name]], dtype=torch.float64)
                  .reshape(value.shape).to(dtype=value.dtype, device=value.device)
                  for name, value in params.items()} for k in range(count))


def relative_difference(approx: Params, grads: Params) -> float:
    """‖dθ_approx − dθ‖₂ / (‖dθ_approx‖₂ + ‖dθ‖₂) over all the entries of the parameters in `approx`; 0 when
    both are zero (they agree)."""
    a = torch.cat([approx[n].flatten().double() for n in approx])
    g = torch.cat([grads[n].flatten().double().to(a.device) for n in approx])
    denominator = (a.norm() + g.norm()).item()
    return 0.0 if denominator == 0 else (a - g).norm().item() / denominator


def relative_differences(approx: Params, grads: Params) -> dict[str, float]:
    """The relative difference of each parameter on its own: which one backprop gets wrong."""
    return {name: relative_difference({name: approx[name]}, grads) for name in approx}


def gradient_check(f: CostAndGradients, params: Params, epsilon: float = 1e-7) -> float:
    """The course's gradient check: the relative difference between the two-sided numerical gradient and the
    gradients f(params) returns. A parameter with no gradient is a ValueError naming it."""
    epsilon = validate("check_epsilon", epsilon)
    grads = checked_gradients(f, params)
    return relative_difference(numerical_gradient(f, params, epsilon), grads)


VERDICTS = ((1e-6, "fine"), (1e-4, "look again"), (math.inf, "almost certainly a bug"))


def verdict(difference: float) -> str:
    """The course's reading of a relative difference: about 1e-7 or less 'fine', about 1e-5 'look again',
    about 1e-3 or more 'almost certainly a bug' (the bands meet halfway on a log scale, at 1e-6 and 1e-4)."""
    return next(words for bound, words in VERDICTS if difference < bound)


class EpsilonSweep:
    """One- and two-sided numerical gradients of one cost at many ε, computed once: `errors(grads)` then
    compares any backward pass with them at no further cost.

    `cost(params)`, if given, must return f's cost alone (0-d): the sweep then skips f's backward pass, which
    it never uses. Both estimates share their J(θ + ε) values: 2 costs per entry and ε instead of 3 (the
    dashboard's sweep of 23 ε over 31 entries went from 0.37 to 0.06 s of its page's load).
    """

    def __init__(self, f: CostAndGradients, params: Params, epsilons: list[float],
                 cost: Callable[[Params], torch.Tensor] | None = None):
        self.f, self.params = (lambda p: (cost(p), {})) if cost is not None else f, _check_params(params)
        self.epsilons = tuple(validate("check_epsilon", e) for e in epsilons)
        self._approx: dict[float, tuple[Params, Params]] = {}

    def approximations(self, epsilon: float) -> tuple[Params, Params]:
        """(one-sided, two-sided) numerical gradients at `epsilon`, remembered: the same values as
        `numerical_gradient(f, params, epsilon, two_sided=False)` and `numerical_gradient(f, params, epsilon)`."""
        if epsilon not in self._approx:
            epsilon = validate("check_epsilon", epsilon)
            f, params, base = self.f, self.params, _cost(self.f, self.params)

            def both(name: str, i: int) -> tuple[float, float]:
                up = _nudged_cost(f, params, name, i, epsilon)
                return (up - base) / epsilon, (up - _nudged_cost(f, params, name, i, -epsilon)) / (2 * epsilon)

            self._approx[epsilon] = _entrywise(params, both, count=2)
        return self._approx[epsilon]

    def errors(self, grads: Params) -> tuple[list[float], list[float]]:
        """Relative difference to `grads` at every ε: (one-sided, two-sided)."""
        pairs = [self.approximations(e) for e in self.epsilons]
        return ([relative_difference(one, grads) for one, _ in pairs],
                [relative_difference(two, grads) for _, two in pairs])


BUGS = {  # planted bug → what the backward pass then does wrong
    "none": "no bug: the backward pass of lab.deep_network",
    "dw_factor": "dW^[2] forgets the 1/m (a wrong factor in one layer's dW)",
    "db_dropped": "db^[1] is never computed and stays 0 (a dropped bias gradient)",
    "activation_derivative": "the tanh layers use σ′(z) instead of tanh′(z) (a wrong activation derivative)",
    "no_l2_gradient": "the L2 term (λ/m)·W^[l] is missing from every dW^[l], though the cost has it",
    "missing_gradient": "db^[3] is never returned (no gradient entry for b3)",
}


class CheckNetwork:
    """A small float64 network to check: 2 inputs → 4 tanh → 3 tanh → 1 σ unit, cross-entropy plus L2
    (λ = 0.1) on 12 points of the generated flower. Its forward and backward are lab.deep_network's; a
    planted bug changes only the gradients (never the cost), as a slip in a hand-written backward would."""

    LAYER_DIMS = (2, 4, 3, 1)
    LAMBD = 0.1

    def __init__(self, planted_bug: str = "none", seed: int = 0):
        self.planted_bug = validate("planted_bug", planted_bug)
        self.X, self.Y = make_planar(12, seed=seed, dtype=torch.float64)  # (2, 12), (1, 12)
        self.params = initialize_parameters(self.LAYER_DIMS, "xavier", generator=make_generator(seed),
                                            dtype=torch.float64)

    def cost(self, params: Params) -> torch.Tensor:
        """J (0-d) alone: the forward pass, the same for every planted bug."""
        return compute_cost(forward_propagation(params, self.X, "tanh")[1][-1].Z, self.Y, params, self.LAMBD)

    def cost_and_gradients(self, params: Params) -> tuple[torch.Tensor, Params]:
        """J (0-d) and {"W1": dJ/dW1, …} keyed like `params`, from the (possibly buggy) backward pass."""
        bug, m, lambd = self.planted_bug, self.Y.shape[1], self.LAMBD
        AL, caches = forward_propagation(params, self.X, "tanh")
        cost = compute_cost(caches[-1].Z, self.Y, params, lambd)
        backward_activation = "sigmoid" if bug == "activation_derivative" else "tanh"  # g′ of the wrong g
        d = backward_propagation(AL, self.Y, caches, params, backward_activation,
                                 0.0 if bug == "no_l2_gradient" else lambd)
        grads = {name: d[f"d{name}"] for name in params}
        if bug == "dw_factor":  # dZ A^T without the 1/m; the L2 part stays right
            penalty = lambd / m * params["W2"]
            grads["W2"] = (grads["W2"] - penalty) * m + penalty
        elif bug == "db_dropped":
            grads["b1"] = torch.zeros_like(params["b1"])
        elif bug == "missing_gradient":
            del grads["b3"]
        return cost, grads
