"""Lab 02, computation graph and backpropagation: the course's graph J = 3(a + bc) with its forward values and
backward derivatives, stepped through one node at a time; the layer notation on a live 2-layer network; a Python
loop against a vectorized dot product; and gradient checking with bugs planted in backprop."""

from __future__ import annotations

import html
import math
import threading

import ipywidgets as W
import plotly.graph_objects as go
import torch

from lab.backprop import (
    COURSE_GRAPH,
    CheckNetwork,
    EpsilonSweep,
    Graph,
    checked_gradients,
    relative_difference,
    relative_differences,
    time_dot_products,
    two_layer_example,
    unit_values,
    verdict,
)
from widgets.controls import button, choice, control
from widgets.dashboard import Dashboard, device_badge, readout, redraw_on
from widgets.guard import guarded, show_error_in
from widgets.views.computation_graph import GraphView
from widgets.views.figure import PALETTE, make_figure, set_heatmap_z
from widgets.views.grey_image import GreyImage

# ---- 1. the computation graph -----------------------------------------------------------------------------------


COURSE_INPUTS = {"a": 5.0, "b": 3.0, "c": 2.0}  # the course's numbers: u = 6, v = 11, J = 33


def number(value: float) -> str:
    """A value as the graph shows it: '6', '−2.5', '0.125'."""
    return f"{value:.4g}".replace("-", "−")


def step_text(graph: Graph, values: dict, steps: list, shown: int) -> str:
    """The readout for `shown` backward steps: the chain rule of the latest one, worked out in numbers."""
    if shown == 0:
        return (f"Forward pass: J = <b>{number(values[graph.output])}</b>. Each edge already knows its local "
                f"derivative; move <b>Backward step</b> (or press Next) to send dJ/d· back one node at a time.")
    step = steps[shown - 1]
    head = f"Step {shown} of {len(steps)}: "
    if not step.terms:
        text = head + f"dJ/d{step.node} = <b>1</b> (the output changes one for one with itself)."
    else:
        symbols = " + ".join(f"dJ/d{t.edge.target} · ∂{t.edge.target}/∂{step.node}" for t in step.terms)
        numbers = " + ".join(f"{number(t.upstream)} · {number(t.local)}" for t in step.terms)
        text = head + f"dJ/d{step.node} = {symbols} = {numbers} = <b>{number(step.gradient)}</b>."
    if shown == len(steps):
        finals = ", ".join(f"dJ/d{name} = <b>{number(s.gradient)}</b>" for name in graph.variables
                           for s in steps if s.node == name)
        checks = graph.autograd_gradients(values)
        text += (f" Backprop is done: {finals}. PyTorch's autograd finds "
                 f"{', '.join(number(checks[name]) for name in graph.variables)}.")
    return text


def computation_graph_dashboard(graph: Graph = COURSE_GRAPH) -> Dashboard:
    """Sliders for the graph's inputs and a backward-step slider → the graph with forward values on its nodes,
    local derivatives on its edges, and the derivatives dJ/d· revealed one node at a time."""
    inputs = {name: control("graph_input", label=name, value=COURSE_INPUTS.get(name), continuous_update=True,
                            width="300px") for name in graph.variables}
    steps_total = len(graph.nodes)
    backward = W.IntSlider(value=0, min=0, max=steps_total, description="Backward step",
                           tooltip="How many nodes backprop has visited, from the output J back to the inputs",
                           style={"description_width": "initial"}, layout={"width": "420px"})
    next_step = button("Next ▶", "Visit the next node of the backward pass (after the last: start again)")
    view = GraphView("Computation graph of J = 3(a + b·c)", [(n.name, n.inputs) for n in graph.nodes.values()])
    text = readout()

    def show(*_) -> None:
        values = graph.forward({name: slider.value for name, slider in inputs.items()})
        steps, shown = graph.backward_steps(values), backward.value
        visited = [s.node for s in steps[:shown]]
        above = {n.name: f"{n.formula} = {number(values[n.name])}" if n.operation else
                 f"{n.name} = {number(values[n.name])}" for n in graph.nodes.values()}
        below = {s.node: f"dJ/d{s.node} = {number(s.gradient)}" for s in steps[:shown]}
        labels = {}
        for edge in graph.edges:
            local, formula = graph.local_derivative(edge, values)
            symbol = f"∂{edge.target}/∂{edge.source} = "
            labels[edge.source, edge.target] = symbol + (number(local) if formula == number(local)
                                                         else f"{formula} = {number(local)}")
        view.show(above=above, below=below, edge_labels=labels, visited=visited,
                  current=visited[-1] if visited else None)
        text.value = step_text(graph, values, steps, shown)

    next_step.on_click(guarded(lambda _: setattr(backward, "value", (backward.value + 1) % (steps_total + 1)),
                               show_error_in(text)))
    redraw_on([*inputs.values(), backward], show, text)
    controls = {**inputs, "backward_step": backward, "next": next_step}
    return Dashboard([W.HBox(list(inputs.values())), W.HBox([backward, next_step]), text, view.figure],
                     controls=controls, figures={"graph": view.figure}, readout=text)


# ---- 2. layer notation ------------------------------------------------------------------------------------------


def sup(layer: int, example: int | None = None) -> str:
    """'<sup>[1](3)</sup>': layer in square brackets, example in round ones, as the course writes them."""
    return f"<sup>[{layer}]" + ("" if example is None else f"({example})") + "</sup>"


def shapes_table(example, layer: int) -> str:
    """An HTML table of the shapes of W, b, Z, A in both layers; the chosen layer in bold."""
    m = example.X.shape[1]
    rows = []
    for k in (1, 2):
        W_ = example.params[f"W{k}"]
        cells = [tuple(W_.shape), tuple(example.params[f"b{k}"].shape), (W_.shape[0], m), (W_.shape[0], m)]
        style = "font-weight:bold;background:#fff1e0" if k == layer else ""
        rows.append(f'<tr style="{style}"><td>layer {k}</td>' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{s}{sup('l')}</th>" for s in "WbZA")
    return (f'<table style="border-collapse:collapse;text-align:center" cellpadding="4"><tr><th></th>{head}</tr>'
            + "".join(rows) + "</table>")


def unit_text(layer: int, i: int, k: int, v) -> str:
    """z and a of unit i of `layer` for example k, worked out, in the course's notation."""
    g, sign = ("tanh" if layer == 1 else "σ"), ("+" if v.bias >= 0 else "−")
    a_prev = f"x<sup>({k})</sup>" if layer == 1 else f"a{sup(1, k)}"  # the input x is a^[0]
    z, a = f"z{sup(layer, k)}<sub>{i}</sub>", f"a{sup(layer, k)}<sub>{i}</sub>"
    w, b = f"w{sup(layer)}<sub>{i}</sub>", f"b{sup(layer)}<sub>{i}</sub>"
    return (f"Layer {layer}, unit {i}, example {k}: {z} = {w} · {a_prev} + {b} = {v.dot:.3f} {sign} {abs(v.bias):.3f}"
            f" = <b>{v.z_i:.3f}</b>, and {a} = {g}({v.z_i:.3f}) = <b>{v.a_i:.3f}</b>: row {i}, column {k} of "
            f"Z{sup(layer)} and A{sup(layer)}. Here {w} is row {i} of W{sup(layer)}.")


class LayerNotation:
    """The heat map of A^[l] (rows: units, columns: examples) with the chosen cell marked, and the chosen digit."""

    def __init__(self):
        self.grid = make_figure("A<sup>[l]</sup>", "example (i)", "unit i", height=340, width=620)
        self.grid.add_trace(go.Heatmap(z=[[0.0]], colorscale="RdBu", zmin=-1, zmax=1, texttemplate="%{z:.2f}",
                                       colorbar={"thickness": 12}, hovertemplate="unit %{y}, example %{x}: %{z:.3f}"
                                       "<extra></extra>"))
        self.grid.add_trace(go.Scatter(x=[1], y=[1], mode="markers", name="chosen", hoverinfo="skip",
                                       marker={"symbol": "square-open", "size": 30, "color": PALETTE[1],
                                               "line": {"width": 4}}))
        self.grid.update_yaxes(autorange="reversed", dtick=1)
        self.grid.update_xaxes(dtick=1)
        self.grid.update_layout(showlegend=False)
        self.digit = GreyImage("Example", height=340, width=320, fixed_range=(0.0, 1.0))

    def show(self, example, layer: int, unit: int, column: int) -> None:
        A = example.A[layer - 1]  # (n^[l], m)
        n, m = A.shape
        g = "tanh" if layer == 1 else "σ"
        with self.grid.batch_update():
            set_heatmap_z(self.grid, A.numpy())
            self.grid.data[0].x, self.grid.data[0].y = list(range(1, m + 1)), list(range(1, n + 1))
            self.grid.data[1].x, self.grid.data[1].y = [column], [unit]
            self.grid.layout.title.text = (f"A<sup>[{layer}]</sup> = {g}(Z<sup>[{layer}]</sup>): {n} unit"
                                           f"{'s' if n > 1 else ''} × {m} example{'s' if m > 1 else ''}, "
                                           f"shape ({n}, {m})")
        self.digit.show(example.X[:, column - 1].reshape(8, 8),
                        f"Example x<sup>({column})</sup>: a handwritten {example.labels[column - 1]}")


def layer_notation_dashboard() -> Dashboard:
    """Layer, unit, example, hidden units and m → z and a of one unit for one example, A^[l] as a grid, and the
    shapes of W, b, Z, A in both layers."""
    layer = choice("Layer l", "Which layer to look at: 1 is the hidden layer (tanh), 2 the output unit (σ)",
                   [("1 (hidden, tanh)", 1), ("2 (output, σ)", 2)])
    unit = control("notation_unit", value=1, high=4, continuous_update=True)
    column = control("example_index", label="Example (i)", value=1, low=1, high=8, continuous_update=True)
    hidden = control("hidden_units", label="Hidden units n^[1]", value=4, high=8, continuous_update=True)
    m = control("notation_examples", continuous_update=True)
    views, text, shapes = LayerNotation(), readout(), W.HTML()

    def show(*_) -> None:
        example = two_layer_example(hidden.value, m.value)
        unit.max = example.A[layer.value - 1].shape[0]  # the slider clamps its value to the new range
        column.max = m.value
        at, i, k = layer.value, unit.value, column.value  # layer [l], unit i, example (k)
        text.value = unit_text(at, i, k, unit_values(example, at, i - 1, k - 1))
        shapes.value = (f"<b>Shapes for m = {m.value} examples</b> (n{sup(0)} = 64 pixels, n{sup(1)} = "
                        f"{hidden.value}, n{sup(2)} = 1):" + shapes_table(example, at))
        views.show(example, at, i, k)

    redraw_on([layer, unit, column, hidden, m], show, text)
    controls = {"layer": layer, "notation_unit": unit, "example_index": column, "hidden_units": hidden,
                "notation_examples": m}
    return Dashboard([W.HBox([layer, unit]), W.HBox([column, hidden]), m, text,
                      W.HBox([views.grid, views.digit.figure]), shapes],
                     controls=controls, figures={"activations": views.grid, "digit": views.digit.figure},
                     readout=text)


# ---- 3. vectorization -------------------------------------------------------------------------------------------

MAX_LOOP_SECONDS = 1.0  # beyond this the loop stops and its time is extrapolated


class Timing:
    """Times one dot product in a background thread, so the page stays live; `wait()` is for tests."""

    def __init__(self, on_done, on_error):
        self.on_done, self.on_error = on_done, on_error
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, n: float) -> bool:
        """Start timing for length n; False (and nothing started) while a timing is still running."""
        if self.running:
            return False
        self.thread = threading.Thread(target=guarded(self._run, self.on_error), args=(n,), daemon=True,
                                       name="lab-dot-timing")
        self.thread.start()
        return True

    def _run(self, n: float) -> None:
        self.on_done(time_dot_products(n, MAX_LOOP_SECONDS))

    def wait(self, timeout: float = 60.0) -> bool:
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


def seconds(value: float) -> str:
    """'2.3 ms', '41 µs', '1.2 s'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def timing_text(t) -> str:
    """The readout for a DotTiming."""
    loop = f"the Python loop took <b>{seconds(t.loop_seconds)}</b>"
    if t.extrapolated:
        loop = (f"the Python loop would take <b>≈ {seconds(t.loop_seconds)}</b> (extrapolated: it was stopped after "
                f"{MAX_LOOP_SECONDS:g} s, having done {t.loop_elements:,} of the {t.n:,} elements)")
    faster = f"<b>{t.speedup:,.0f}× faster</b>" if t.speedup >= 1 else f"<b>{1 / t.speedup:.1f}× slower</b>"
    return (f"n = {t.n:,}: {loop}; the vectorized torch.dot took <b>{seconds(t.vector_seconds)}</b> — the "
            f"vectorized product is {faster}. Both give the same sum (they differ by {t.gap:.1e} relative).")


def vectorization_dashboard() -> Dashboard:
    """A log slider for n and a Time it button → the loop's and the vectorized product's time, and their ratio."""
    n = control("vector_length", value=1e6, readout_format=",.0f")
    time_it = button("Time it", "Time a Python loop and one vectorized call, each computing the dot product", "primary")
    bars = make_figure("Time for one dot product (log scale)", "seconds", height=260, width=620)
    bars.add_trace(go.Bar(x=[], y=[], orientation="h", marker={"color": [PALETTE[5], PALETTE[0]]},
                          textposition="outside", cliponaxis=False, hoverinfo="skip"))
    bars.update_xaxes(type="log")
    history = make_figure("Time against n (each timing adds a point)", "vector length n", "seconds",
                          height=260, width=460, log_y=True)
    history.update_xaxes(type="log")
    for name, colour in (("Python loop", PALETTE[5]), ("vectorized", PALETTE[0])):
        history.add_trace(go.Scatter(x=[], y=[], mode="markers", name=name, marker={"color": colour, "size": 9}))
    text = readout()
    text.value = "Choose n and press <b>Time it</b>."

    def done(t) -> None:
        loop_name = "Python loop (extrapolated)" if t.extrapolated else "Python loop"
        with bars.batch_update(), history.batch_update():
            bars.data[0].x, bars.data[0].y = [t.loop_seconds, t.vector_seconds], [loop_name, "vectorized"]
            bars.data[0].text = [seconds(t.loop_seconds), seconds(t.vector_seconds)]
            low, high = math.log10(min(t.loop_seconds, t.vector_seconds)), math.log10(max(t.loop_seconds,
                                                                                         t.vector_seconds))
            bars.layout.xaxis.range = [low - 0.6, high + 0.8]  # room for the text beside the longer bar
            bars.layout.title.text = f"Time for one dot product of length {t.n:,}: ratio {t.speedup:,.0f}×"
            for trace, value in zip(history.data, (t.loop_seconds, t.vector_seconds), strict=True):
                trace.x, trace.y = (*trace.x, t.n), (*trace.y, value)
        text.value = timing_text(t)
        time_it.disabled = False

    def failed(message: str) -> None:
        show_error_in(text)(message)
        time_it.disabled = False

    timing = Timing(done, failed)

    def start(_) -> None:
        if timing.start(n.value):
            time_it.disabled = True
            text.value = f"Timing n = {round(n.value):,}… (the loop stops after {MAX_LOOP_SECONDS:g} s at most)"

    time_it.on_click(guarded(start, show_error_in(text)))
    badge = device_badge(torch.device("cpu"), "both ways, so that only the way of computing differs")
    return Dashboard([badge, W.HBox([n, time_it]), text, W.HBox([bars, history])], controls={"vector_length": n,
                     "time_it": time_it}, figures={"times": bars, "history": history}, readout=text, runner=timing)


# ---- 4. gradient checking ---------------------------------------------------------------------------------------

BUG_CHOICES = [("none: the correct backward pass", "none"), ("dW[2] forgets the 1/m", "dw_factor"),
               ("db[1] dropped (left at 0)", "db_dropped"), ("σ′ instead of tanh′ in hidden layers",
                                                              "activation_derivative"),
               ("dW without the L2 term (λ/m)·W", "no_l2_gradient"), ("db[3] never returned", "missing_gradient")]
SWEEP = [10 ** (-k / 2) for k in range(2, 25)]  # ε from 1e-1 down to 1e-12, two per decade
GUIDANCE = ((1e-7, "1e-7 fine"), (1e-5, "1e-5 look again"), (1e-3, "1e-3 bug"))


def positive(values: list[float]) -> list[float | None]:
    """Values for a log axis; an exact 0 (or a non-finite value) becomes a gap."""
    return [v if math.isfinite(v) and v > 0 else None for v in values]


def guidance_lines(figure) -> None:
    """Dotted lines at the course's 1e-7, 1e-5 and 1e-3, labelled at the right edge."""
    for value, words in GUIDANCE:
        figure.add_hline(y=value, line={"dash": "dot", "color": "#777", "width": 1})
        figure.add_annotation(x=1, xref="paper", y=math.log10(value), yref="y", text=words, showarrow=False,
                              xanchor="right", yanchor="bottom", font={"size": 11, "color": "#555"})


class CheckViews:
    """The relative difference per parameter (bars), and the error against ε for one- and two-sided differences."""

    def __init__(self, names: list[str], reference: tuple[list[float], list[float]]):
        self.names = names
        self.bars = make_figure("Relative difference per parameter", "parameter", "relative difference",
                                height=360, width=400, log_y=True)
        self.bars.add_trace(go.Bar(x=names, y=[None] * len(names), marker={"color": PALETTE[0]}, hoverinfo="y"))
        self.bars.update_yaxes(range=[-13, 0.3], exponentformat="e", dtick=2)
        guidance_lines(self.bars)
        self.curves = make_figure("Error of the numerical gradient against ε", "step ε", "relative difference",
                                  height=360, width=700, log_y=True)
        self.curves.update_xaxes(type="log", exponentformat="e", dtick=2)
        self.curves.update_yaxes(range=[-11, 0.3], exponentformat="e", dtick=2)
        self.curves.update_layout(margin={"r": 190}, legend={"orientation": "v", "x": 1.02, "xanchor": "left",
                                                             "y": 1, "yanchor": "top", "font": {"size": 12}})
        one, two = reference  # of the correct backward pass: the slopes are drawn through them, shifted down
        for name, colour in (("one-sided", PALETTE[5]), ("two-sided", PALETTE[0])):
            self.curves.add_trace(go.Scatter(x=SWEEP, y=[], mode="lines+markers", name=name,
                                             line={"color": colour, "width": 2.5}, marker={"size": 5}))
        for name, anchor, power, low in (("slope 1: ∝ ε", one[SWEEP.index(1e-3)] / 3, 1, 1e-7),
                                         ("slope 2: ∝ ε²", two[SWEEP.index(1e-2)] / 3, 2, 1e-5)):
            at = 1e-3 if power == 1 else 1e-2
            xs = [e for e in SWEEP if e >= low]
            self.curves.add_trace(go.Scatter(x=xs, y=[anchor * (e / at) ** power for e in xs], mode="lines",
                                             name=name, line={"color": "#777", "dash": "dash", "width": 1.5}))
        self.curves.add_trace(go.Scatter(x=[], y=[], mode="markers", name="your ε", marker={
            "color": PALETTE[1], "size": 13, "symbol": "diamond", "line": {"width": 1, "color": "black"}}))
        guidance_lines(self.curves)

    def show(self, per_parameter: dict[str, float], curves: tuple[list, list], epsilon: float,
             at_epsilon: tuple[float, float]) -> None:
        worst = max(per_parameter.values())
        with self.bars.batch_update(), self.curves.batch_update():
            self.bars.data[0].y = positive([max(per_parameter[n], 1e-16) for n in self.names])
            self.bars.data[0].marker.color = [PALETTE[5] if verdict(per_parameter[n]) != "fine"
                                              and per_parameter[n] >= worst / 100 else PALETTE[0]
                                              for n in self.names]
            self.curves.data[0].y, self.curves.data[1].y = positive(curves[0]), positive(curves[1])
            self.curves.data[4].x, self.curves.data[4].y = [epsilon, epsilon], positive(list(at_epsilon))

    def clear(self) -> None:
        with self.bars.batch_update(), self.curves.batch_update():
            self.bars.data[0].y = [None] * len(self.names)
            for k in (0, 1):
                self.curves.data[k].y = []
            self.curves.data[4].x, self.curves.data[4].y = [], []


def check_text(epsilon: float, overall: float, per_parameter: dict[str, float]) -> str:
    """The readout: the difference, the course's verdict, and which parameters the difference comes from."""
    worst = max(per_parameter.values())
    off = [n for n, d in per_parameter.items() if verdict(d) != "fine" and d >= worst / 100]
    if not off:
        which = "every parameter agrees"
    elif len(off) == len(per_parameter):
        which = ("every parameter is off by a similar amount: with a correct backward pass that points at ε, too "
                 "large (truncation error) or too small (rounding error)")
    else:
        which = ("the difference comes from " + ", ".join(f"<b>{n}</b> ({per_parameter[n]:.2g})" for n in off)
                 + "; " + ", ".join(n for n in per_parameter if n not in off) + " agree")
    return (f"ε = {epsilon:.1e}: relative difference <b>{overall:.2e}</b> — <b>{verdict(overall)}</b> "
            f"(course: 1e-7 fine, 1e-5 look again, 1e-3 almost certainly a bug); {which}.")


def gradient_check_dashboard() -> Dashboard:
    """ε and a planted bug → the relative difference and its verdict, per parameter, and against ε."""
    epsilon = control("check_epsilon", value=1e-7, readout_format=".0e", continuous_update=False)
    bug = choice("Plant a bug in backprop", "A mistake planted in the backward pass for the check to find",
                 BUG_CHOICES)
    networks = {key: CheckNetwork(key) for _, key in BUG_CHOICES}  # same data and weights; bugs only in backward
    correct = networks["none"]
    sweep = EpsilonSweep(correct.cost_and_gradients, correct.params, SWEEP, cost=correct.cost)  # the same cost
    # for every bug: only the backward passes differ
    views = CheckViews(list(correct.params), sweep.errors(checked_gradients(correct.cost_and_gradients,
                                                                           correct.params)))
    text = readout()

    def show(*_) -> None:
        network = networks[bug.value]
        try:
            grads = checked_gradients(network.cost_and_gradients, network.params)
        except ValueError as problem:  # said in words: the learner chose this, it is not a crash
            views.clear()
            text.value = (f"<b>The check cannot run.</b> {html.escape(str(problem))} Without a gradient for "
                          f"every parameter there is nothing to compare the numerical estimate with.")
            return
        one, two = sweep.approximations(epsilon.value)
        per_parameter = relative_differences(two, grads)
        overall = relative_difference(two, grads)
        views.show(per_parameter, sweep.errors(grads), epsilon.value,
                   (relative_difference(one, grads), overall))
        text.value = check_text(epsilon.value, overall, per_parameter)

    redraw_on([epsilon, bug], show, text)
    return Dashboard([W.HBox([epsilon, bug]), text, W.HBox([views.bars, views.curves])],
                     controls={"check_epsilon": epsilon, "planted_bug": bug},
                     figures={"per_parameter": views.bars, "epsilon": views.curves}, readout=text)
