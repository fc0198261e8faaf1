"""Recurrent cells written from the course's equations, and a training step through time (lab.through_time writes
the backward pass through time out by hand).

Each cell is a `torch.nn.Module` with the constructor, call and parameter names of its torch twin
(`torch.nn.RNNCell`, `GRUCell`, `LSTMCell`: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), so a state dict
loads both ways. Gates are stacked in torch's order. The course writes the input and the previous activation
as one concatenated vector [a⟨t−1⟩, x⟨t⟩] times one matrix W; torch keeps the two halves apart, W = [W_hh | W_ih],
which is the same product. x is (N, n_x), one example per row as in torch (or (n_x,) for one example).

    RNN   a⟨t⟩ = tanh(W_ih x⟨t⟩ + b_ih + W_hh a⟨t−1⟩ + b_hh)
    GRU   Γ_r = σ(W_r·), Γ_u = σ(W_u·), c̃ = tanh(W_c·), c⟨t⟩ = Γ_u ⊙ c̃ + (1 − Γ_u) ⊙ c⟨t−1⟩   (a⟨t⟩ = c⟨t⟩)
    LSTM  Γ_u, Γ_f, Γ_o = σ(·), c̃ = tanh(·), c⟨t⟩ = Γ_u ⊙ c̃ + Γ_f ⊙ c⟨t−1⟩, a⟨t⟩ = Γ_o ⊙ tanh(c⟨t⟩)

Two conventions of the GRU differ between the course and torch, and `GRUCell` offers both:
- the reset gate: the course multiplies the old state before the matrix, c̃ = tanh(W_hn (Γ_r ⊙ c) + …);
  torch after it, n = tanh(… + Γ_r ⊙ (W_hn c + b_hn)). Not the same function; torch's form is cheaper.
- the update gate: the course's Γ_u weighs the *new* candidate; torch's z weighs the *old* state,
  h' = (1 − z) ⊙ n + z ⊙ h. Here z = 1 − Γ_u exactly, and since 1 − σ(s) = σ(−s), negating the gate's
  weights and biases turns one convention into the other (`flip_update_gate`).
The default follows torch, so the cell and `torch.nn.GRUCell` agree; `convention="course"` gives the course's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lab.params import Param, register, validate
from lab.seeding import make_generator

CELL_KINDS = ("rnn", "gru", "lstm", "gru_course")
CELL_NAMES = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM", "gru_course": "GRU (course's form)"}

register(
    Param("rnn_cell", "Cell", "The recurrent unit: a plain RNN (tanh), a GRU (reset and update gates) or an LSTM "
          "(update, forget and output gates, and a memory cell c).", "gru", options=CELL_KINDS),
    Param("sequence_length", "Sequence length T", "Number of time steps the gradient flows back through.",
          50, low=1, high=1000, step=1, integer=True, ui_high=200),
    Param("rnn_init_factor", "Init factor", "Multiplies torch's default initial weights, uniform in ±1/√n_a: "
          "small factors make gradients vanish through time, large ones make them explode.",
          1.0, low=0.0, high=100.0, log=True, ui_low=0.1, ui_high=10.0),
    Param("clip_norm", "Clip gradient norm at", "Gradient clipping: when the norm of all the gradients together "
          "exceeds this, they are scaled down to it. 0 turns clipping off.", 0.0, low=0.0, high=1e6, step=0.5,
          ui_high=20.0),
    Param("gate_bias", "Memory gate bias", "Added to the bias of the gate that keeps the old state (the LSTM's "
          "forget gate Γ_f, the GRU's 1 − Γ_u; the LSTM's update gate gets minus it): σ(b) near 1 holds the memory "
          "path open. A plain RNN has no such gate.",
          0.0, low=-20.0, high=20.0, step=0.5, ui_low=-2.0, ui_high=6.0),
    Param("rnn_hidden_units", "Hidden units n_a", "Size of the hidden state a⟨t⟩ (and of the LSTM's c⟨t⟩).",
          32, low=1, high=1024, step=1, integer=True, ui_low=2, ui_high=256),
)


def _batched(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """x as (N, n_x), and whether it was a single example (n_x,) that the caller gets back unbatched."""
    return (x.unsqueeze(0), True) if x.dim() == 1 else (x, False)


class _Cell(nn.Module):
    """Shared by the three cells: torch's parameter names and its initialisation, uniform in ±1/√n_a."""

    gates = 1  # blocks of n_a rows stacked in weight_ih and weight_hh

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"The 'input_size' and 'hidden_size' parameters must be ≥ 1. "
                             f"Got {input_size!r} and {hidden_size!r} instead.")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows, kw = self.gates * hidden_size, {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, **kw))
        self.bias_ih = nn.Parameter(torch.empty(rows, **kw)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(rows, **kw)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None, factor: float = 1.0) -> None:
        """torch's initialisation, uniform in ±factor/√n_a, drawn from `generator` when given."""
        bound = factor / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device) * 2 * bound - bound)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """W_ih x + b_ih over the last dimension of x (..., n_x): what `step` takes. The inputs do not depend on
        the state, so a whole sequence's (T, N, n_x) can be projected in one product before the steps."""
        rows = x.reshape(-1, self.input_size)
        gi = torch.addmm(self.bias_ih, rows, self.weight_ih.T) if self.bias else rows @ self.weight_ih.T
        return gi.reshape(*x.shape[:-1], gi.shape[-1])

    def _recurrent(self, h: torch.Tensor) -> torch.Tensor:
        """W_hh h + b_hh, one row per example."""
        return torch.addmm(self.bias_hh, h, self.weight_hh.T) if self.bias else h @ self.weight_hh.T

    def _zeros(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)


class RNNCell(_Cell):
    """a⟨t⟩ = g(W_ih x⟨t⟩ + b_ih + W_hh a⟨t−1⟩ + b_hh), g = tanh (or ReLU), as `torch.nn.RNNCell`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"The 'nonlinearity' parameter must be 'tanh' or 'relu'. Got {nonlinearity!r} instead.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        x, single = _batched(x)
        out = self.step(self.project(x), None if h is None else _batched(h)[0])
        return out[0] if single else out

    def step(self, gi: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step from the input's projection gi = W_ih x + b_ih (N, n_a) (see `project`)."""
        pre = gi + self._recurrent(self._zeros(gi) if h is None else h)
        return torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)


class GRUCell(_Cell):
    """The gated recurrent unit, as `torch.nn.GRUCell` (rows of the weights: reset, update, candidate).

    `reset="after"` (torch) applies Γ_r to W_hn c + b_hn; `"before"` (the course) to c before the product.
    `update="z"` (torch) keeps z of the old state; `"gamma_u"` (the course) lets Γ_u of the candidate in.
    `convention="course"` sets both to the course's form."""

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None, *,
                 convention: str = "torch", reset: str | None = None, update: str | None = None):
        if convention not in ("torch", "course"):
            raise ValueError(f"The 'convention' parameter must be 'torch' or 'course'. Got {convention!r} instead.")
        course = convention == "course"
        self.reset = reset or ("before" if course else "after")
        self.update = update or ("gamma_u" if course else "z")
        if self.reset not in ("after", "before"):
            raise ValueError(f"The 'reset' parameter must be 'after' or 'before'. Got {self.reset!r} instead.")
        if self.update not in ("z", "gamma_u"):
            raise ValueError(f"The 'update' parameter must be 'z' or 'gamma_u'. Got {self.update!r} instead.")
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        x, single = _batched(x)
        out = self.step(self.project(x), None if h is None else _batched(h)[0])
        return out[0] if single else out

    def step(self, gi: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step from the input's projection gi = W_ih x + b_ih (N, 3·n_a) (see `project`)."""
        h = self._zeros(gi) if h is None else h
        gh = self._recurrent(h)
        i_r, i_u, i_c = gi.chunk(3, dim=1)
        h_r, h_u, h_c = gh.chunk(3, dim=1)
        reset = torch.sigmoid(i_r + h_r)  # Γ_r
        gate = torch.sigmoid(i_u + h_u)  # torch's z, or the course's Γ_u
        if self.reset == "after":
            candidate = torch.tanh(i_c + reset * h_c)
        else:  # W_hn (Γ_r ⊙ c) + b_hn
            W_hc = self.weight_hh[2 * self.hidden_size:]
            b_hc = self.bias_hh[2 * self.hidden_size:] if self.bias else 0.0
            candidate = torch.tanh(i_c + (reset * h) @ W_hc.T + b_hc)
        keep = gate if self.update == "z" else 1 - gate  # the share of the old state kept
        return (1 - keep) * candidate + keep * h


class LSTMCell(_Cell):
    """The long short-term memory cell, as `torch.nn.LSTMCell` (rows: update Γ_u, forget Γ_f, candidate c̃,
    output Γ_o — torch's i, f, g, o). `cell(x, (h, c))` → `(h, c)`."""

    gates = 4

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x, single = _batched(x)
        h, c = self.step(self.project(x), None if state is None else (_batched(state[0])[0], _batched(state[1])[0]))
        return (h[0], c[0]) if single else (h, c)

    def step(self, gi: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step from the input's projection gi = W_ih x + b_ih (N, 4·n_a) (see `project`)."""
        h, c = (self._zeros(gi), self._zeros(gi)) if state is None else state
        update, forget, candidate, output = (gi + self._recurrent(h)).chunk(4, dim=1)
        c = torch.sigmoid(update) * torch.tanh(candidate) + torch.sigmoid(forget) * c
        h = torch.sigmoid(output) * torch.tanh(c)
        return h, c


def flip_update_gate(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A GRU's parameters with the update gate's rows negated: z = σ(s) becomes σ(−s) = 1 − z = Γ_u, so a cell
    with `update="gamma_u"` and these parameters computes what `update="z"` computed with the originals."""
    flipped = {}
    for name, value in state_dict.items():
        value = value.clone()
        n = value.shape[0] // 3
        value[n:2 * n] = -value[n:2 * n]
        flipped[name] = value
    return flipped


def open_memory_gate(cell: nn.Module, bias: float) -> None:
    """Start a gated cell remembering: `bias` is added to the pre-activation of the gate that keeps the old state
    (the LSTM's forget gate Γ_f, the GRU's z in torch's form or −Γ_u in the course's). The LSTM's update gate Γ_u
    gets −bias, so that it writes little of each new input into the memory it keeps: the GRU has that coupling
    built in (what it keeps, 1 − Γ_u, is what it does not write), the LSTM has to be given it (as in "chrono"
    initialisation, Tallec & Ollivier 2018). A plain RNN has no gate; it is left as it is."""
    if not bias or isinstance(cell, RNNCell):
        return
    n = cell.hidden_size
    keep = slice(n, 2 * n)  # the forget gate (LSTM) and the update gate (GRU) are both the second block
    sign = -1.0 if isinstance(cell, GRUCell) and cell.update == "gamma_u" else 1.0
    with torch.no_grad():
        cell.bias_ih[keep] += sign * bias
        if isinstance(cell, LSTMCell):
            cell.bias_ih[:n] -= bias  # the update (input) gate Γ_u


def make_cell(kind: str, input_size: int, hidden_size: int, *, init_factor: float = 1.0, gate_bias: float = 0.0,
              seed: int = 0, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> _Cell:
    """A cell of `kind` ("rnn", "gru", "lstm" or "gru_course") with torch's initialisation times `init_factor`
    and `gate_bias` added to its memory gate (see `open_memory_gate`), reproducible from `seed`."""
    kind = validate("rnn_cell", kind)
    factor = validate("rnn_init_factor", init_factor)
    gate_bias = validate("gate_bias", gate_bias)
    hidden_size = validate("rnn_hidden_units", hidden_size)
    if kind == "rnn":
        cell = RNNCell(input_size, hidden_size, device=device, dtype=dtype)
    elif kind == "lstm":
        cell = LSTMCell(input_size, hidden_size, device=device, dtype=dtype)
    else:
        cell = GRUCell(input_size, hidden_size, device=device, dtype=dtype,
                       convention="course" if kind == "gru_course" else "torch")
    cell.reset_parameters(make_generator(seed), factor)
    open_memory_gate(cell, gate_bias)
    return cell


def hidden_of(state) -> torch.Tensor:
    """The hidden state a⟨t⟩ of a cell's output: the LSTM returns (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def unroll(cell: nn.Module, xs: torch.Tensor, state=None) -> tuple[list[torch.Tensor], object]:
    """Run `cell` over xs (T, N, n_x): the hidden state of every step (T tensors (N, n_a)) and the final state."""
    # the lab's cells take the inputs projected in one product beforehand (~25 % of a pass through 100 steps)
    step, inputs = (cell.step, cell.project(xs)) if isinstance(cell, _Cell) else (cell, xs)
    hiddens = []
    for x in inputs:
        state = step(x, state)
        hiddens.append(hidden_of(state))
    return hiddens, state


def clip_grad_norm(parameters, max_norm: float) -> float:
    """Gradient clipping by norm: if ‖g‖ over all gradients together exceeds `max_norm`, scale every gradient by
    max_norm / ‖g‖ (in place). Returns ‖g‖ before clipping, as `torch.nn.utils.clip_grad_norm_` does."""
    if not max_norm > 0:
        raise ValueError(f"The 'max_norm' parameter must be > 0. Got {max_norm!r} instead.")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return float(total)


def update(model: nn.Module, torch_optimizer: torch.optim.Optimizer, cost: torch.Tensor, max_norm: float = 0.0
           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One training step from `cost` (computed after `torch_optimizer.zero_grad()`): backpropagation through
    time, clipping when `max_norm` > 0 (validated by the caller, as 'clip_norm'), the optimizer's update. Returns
    the cost and the gradients it used, as a `lab.training.Trainable.step` does."""
    cost.backward()
    if max_norm > 0:
        clip_grad_norm(model.parameters(), max_norm)
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    torch_optimizer.step()
    return cost.detach(), grads


def _through_time(cell: nn.Module, xs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Hidden states over xs (T, N, n_x) stacked, and the gradients of their sum of squares w.r.t. every parameter."""
    hiddens, _ = unroll(cell, xs)
    stacked = torch.stack(hiddens)
    grads = torch.autograd.grad((stacked ** 2).sum(), list(cell.parameters()))
    return stacked, list(grads)


def _largest_difference(ours: nn.Module, theirs: nn.Module, xs: torch.Tensor, flipped: bool = False) -> float:
    """The largest difference of hidden states and parameter gradients; `flipped`: ours holds the update gate
    negated (`flip_update_gate`), so its gradient rows of that gate are negated back before comparing."""
    (a, grads_a), (b, grads_b) = _through_time(ours, xs), _through_time(theirs, xs)
    if flipped:
        names = [name for name, _ in ours.named_parameters()]
        grads_a = list(flip_update_gate(dict(zip(names, grads_a, strict=True))).values())
    pairs = [(a, b), *zip(grads_a, grads_b, strict=True)]
    return max(float((x - y).detach().abs().max()) for x, y in pairs)


def torch_agreement_report(steps: int = 20, seed: int = 0) -> str:
    """Each cell of this module beside its torch twin on the same parameters (state dict loaded across) and the
    same inputs, in float64: hidden states over `steps` steps and every parameter's gradient through them. Then
    the GRU's two conventions: the update gate's mapping (states equal, and the gate's gradients equal up to the
    same sign flip), and the reset gate's placement, which no mapping of parameters undoes."""
    generator = make_generator(seed)
    xs = torch.randn(steps, 3, 5, generator=generator, dtype=torch.float64)
    lines = []
    for ours, twin in ((RNNCell, nn.RNNCell), (GRUCell, nn.GRUCell), (LSTMCell, nn.LSTMCell)):
        theirs = twin(5, 7, dtype=torch.float64)
        cell = ours(5, 7, dtype=torch.float64)
        cell.load_state_dict(theirs.state_dict())
        worst = _largest_difference(cell, theirs, xs)
        verdict = "equal" if worst < 1e-12 else f"DIFFERENT (largest difference {worst:.3g})"
        lines.append(f"{ours.__name__} vs torch.nn.{twin.__name__}: states and gradients over {steps} steps {verdict}"
                     + (" (largest difference < 1e-12)" if worst < 1e-12 else ""))
    torch_gru = GRUCell(5, 7, dtype=torch.float64)
    torch_gru.reset_parameters(generator)
    flipped = GRUCell(5, 7, dtype=torch.float64, update="gamma_u")
    flipped.load_state_dict(flip_update_gate(torch_gru.state_dict()))
    worst = _largest_difference(flipped, torch_gru, xs, flipped=True)
    lines.append("GRU, update gate: the course's Γ_u with the gate's weights negated = torch's z form "
                 + ("(equal, largest difference < 1e-12)" if worst < 1e-12 else f"(DIFFERENT: {worst:.3g})"))
    course = GRUCell(5, 7, dtype=torch.float64, convention="course")
    course.load_state_dict(flip_update_gate(torch_gru.state_dict()))
    with torch.no_grad():
        gap = float((torch.stack(unroll(course, xs)[0]) - torch.stack(unroll(torch_gru, xs)[0])).abs().max())
    lines.append(f"GRU, reset gate applied before W_hn (the course) vs after it (torch): hidden states differ by "
                 f"up to {gap:.1f} over {steps} steps — two different cells, no mapping of parameters joins them")
    return "\n".join(lines)
