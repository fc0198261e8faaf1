"""Backpropagation through time written out by hand for the lab's cells (lab.sequence), and what lab 17 plots with
it: how much of the last step's gradient reaches each earlier step.

The forward pass runs the cell step by step (the recurrence is sequential) and keeps only the states; every gate is
then recomputed for all steps at once from them. The backward pass goes from the last step to the first with the
chain rule on the cell's equations, and all it carries is the gradient reaching the state, so a step back is a few
elementwise products and one product with W_hh; the parameters' gradients are summed over the steps afterwards in
a few large products. No graph is built: for T = 100 in float64 a GRU's pass takes ~12 ms here, against ~25 ms for
the same pass through autograd (1.7–2.3× for the cells; `python tests/benchmarks/bench_sequence_models.py`). Half of
what is left is the forward pass. `tests/test_through_time.py` checks every result against autograd.

Notation, for one step from state a (and the LSTM's c): dX is ∂L/∂X, g = W_ih x + b_ih (the input's projection),
r = W_hh a + b_hh, σ' = σ(1 − σ), and blocks of g and r are named after their gate.

    RNN   a' = tanh(z), z = g + r                 dz = da' ⊙ (1 − a'²),  da = dz W_hh
    GRU   Γ_r = σ(g_r + r_r), Γ_u = σ(g_u + r_u), n = tanh(g_n + Γ_r ⊙ r_n)   (torch: reset after W_hn)
          or n = tanh(g_n + W_hn (Γ_r ⊙ a) + b_hn)                              (the course: reset before)
          a' = (1 − k) ⊙ n + k ⊙ a, k the share kept (torch's z = Γ_u, the course's 1 − Γ_u)
          da = da' ⊙ k + (everything that reached r) W_hh
    LSTM  c' = Γ_u ⊙ c̃ + Γ_f ⊙ c, a' = Γ_o ⊙ tanh(c')
          dc' (all of it) = dc' (from the next step) + da' ⊙ Γ_o ⊙ (1 − tanh²c'),  dc = dc' ⊙ Γ_f
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lab.params import validate
from lab.seeding import make_generator
from lab.sequence import GRUCell, LSTMCell, RNNCell, make_cell


@dataclass(frozen=True)
class ThroughTime:
    """One backward pass through time: the gradient reaching every state, and every parameter's."""

    hidden: torch.Tensor  # (T, N, n_a): ∂L/∂a⟨t⟩, t = 1 … T, all that reaches a⟨t⟩ (from later steps and the loss)
    memory: torch.Tensor | None  # (T, N, n_a): ∂L/∂c⟨t⟩ for the LSTM, None for the other cells
    parameters: dict[str, torch.Tensor]  # the cell's parameter name → its gradient


def backprop_through_time(cell: RNNCell | GRUCell | LSTMCell, xs: torch.Tensor,
                          last_gradient: Callable[[torch.Tensor], torch.Tensor]) -> ThroughTime:
    """Run `cell` over xs (T, N, n_x) from a zero state, then backpropagate from a loss that depends on the last
    hidden state a⟨T⟩ only; `last_gradient(a⟨T⟩)` is that loss's ∂L/∂a⟨T⟩ (N, n_a)."""
    if not isinstance(cell, (RNNCell, GRUCell, LSTMCell)):
        raise ValueError(f"The 'cell' parameter must be a cell of lab.sequence. Got {type(cell).__name__} instead.")
    with torch.no_grad():
        hiddens, memories = _states(cell, xs)  # (T + 1, N, n_a), the zero start first
        d_last = last_gradient(hiddens[-1])
        if isinstance(cell, RNNCell):
            return _rnn(cell, xs, hiddens, d_last)
        if isinstance(cell, GRUCell):
            return _gru(cell, xs, hiddens, d_last)
        return _lstm(cell, xs, hiddens, memories, d_last)


def _states(cell, xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every state of the forward pass, the zero start first: a (T + 1, N, n_a), and c likewise for the LSTM."""
    zero = torch.zeros(xs.shape[1], cell.hidden_size, dtype=xs.dtype, device=xs.device)
    hiddens, memories, state = [zero], [zero], None
    for gi in cell.project(xs):
        state = cell.step(gi, state)
        if isinstance(state, tuple):
            hiddens.append(state[0])
            memories.append(state[1])
        else:
            hiddens.append(state)
    return torch.stack(hiddens), torch.stack(memories) if isinstance(cell, LSTMCell) else None


def _recurrent_all(cell, previous: torch.Tensor, rows: slice = slice(None)) -> torch.Tensor:
    """W_hh a + b_hh for every step's previous state at once (T, N, n_a) → (T, N, rows)."""
    weight = cell.weight_hh[rows]
    out = previous @ weight.T
    return out + cell.bias_hh[rows] if cell.bias else out


def _rows(t: torch.Tensor) -> torch.Tensor:
    """(T, N, k) → (T·N, k): steps and examples together, for sums over both."""
    return t.reshape(-1, t.shape[-1])


def _parameter_gradients(cell, xs: torch.Tensor, previous: torch.Tensor, d_input: torch.Tensor,
                         d_recurrent: torch.Tensor, d_weight_hh: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Sum over steps and examples: ∂L/∂W_ih from what reached g (d_input), ∂L/∂W_hh from what reached r
    (d_recurrent) unless given, and the biases'."""
    grads = {"weight_ih": _rows(d_input).T @ _rows(xs),
             "weight_hh": _rows(d_recurrent).T @ _rows(previous) if d_weight_hh is None else d_weight_hh}
    if cell.bias:
        grads["bias_ih"] = _rows(d_input).sum(0)
        grads["bias_hh"] = _rows(d_recurrent).sum(0)
    return grads


def _rnn(cell: RNNCell, xs, hiddens, d_last) -> ThroughTime:
    after = hiddens[1:]
    slope = 1 - after ** 2 if cell.nonlinearity == "tanh" else (after > 0).to(after.dtype)  # g'(z) from a' = g(z)
    reached, dh = [], d_last
    for t in range(len(after) - 1, -1, -1):
        reached.append(dh)
        dh = (dh * slope[t]) @ cell.weight_hh
    d_hidden = torch.stack(reached[::-1])
    dz = d_hidden * slope
    return ThroughTime(d_hidden, None, _parameter_gradients(cell, xs, hiddens[:-1], dz, dz))


def _gru(cell: GRUCell, xs, hiddens, d_last) -> ThroughTime:
    n_a, previous = cell.hidden_size, hiddens[:-1]
    g, r = cell.project(xs), _recurrent_all(cell, previous)
    gates = torch.sigmoid(g[..., :2 * n_a] + r[..., :2 * n_a])
    reset, gate = gates[..., :n_a], gates[..., n_a:]
    if cell.reset == "after":
        candidate = torch.tanh(g[..., 2 * n_a:] + reset * r[..., 2 * n_a:])
    else:
        w_n = cell.weight_hh[2 * n_a:]
        reset_state = reset * previous
        candidate = torch.tanh(g[..., 2 * n_a:] + _recurrent_all(cell, reset_state, slice(2 * n_a, None)))
    keep, sign = (gate, 1.0) if cell.update == "z" else (1 - gate, -1.0)  # k, and ∂k/∂(the gate)
    # what reaches each pre-activation per unit of da': the candidate's, the update gate's, the reset gate's
    to_candidate = (1 - keep) * (1 - candidate ** 2)
    to_update = sign * (previous - candidate) * gate * (1 - gate)
    reached, dh = [], d_last
    if cell.reset == "after":  # r_n gets dn ⊙ Γ_r; the reset gate dn ⊙ r_n ⊙ σ'
        per_unit = torch.cat([to_candidate * r[..., 2 * n_a:] * reset * (1 - reset), to_update,
                              to_candidate * reset], dim=-1)
        for t in range(len(previous) - 1, -1, -1):
            reached.append(dh)
            dh = torch.addmm(dh * keep[t], dh.repeat(1, 3) * per_unit[t], cell.weight_hh)
        d_hidden = torch.stack(reached[::-1])
        d_r = d_hidden.repeat(1, 1, 3) * per_unit
        d_g = torch.cat([d_r[..., :2 * n_a], d_hidden * to_candidate], dim=-1)
        return ThroughTime(d_hidden, None, _parameter_gradients(cell, xs, previous, d_g, d_r))
    # the course's form: the product W_hn (Γ_r ⊙ a) passes the gradient to a directly and through Γ_r
    to_reset = previous * reset * (1 - reset)
    w_ru = cell.weight_hh[:2 * n_a]
    for t in range(len(previous) - 1, -1, -1):
        reached.append(dh)
        d_product = (dh * to_candidate[t]) @ w_n  # ∂L/∂(Γ_r ⊙ a)
        d_ru = torch.cat([d_product * to_reset[t], dh * to_update[t]], dim=-1)
        dh = torch.addmm(torch.addcmul(dh * keep[t], d_product, reset[t]), d_ru, w_ru)
    d_hidden = torch.stack(reached[::-1])
    d_candidate = d_hidden * to_candidate
    d_ru = torch.cat([(d_candidate @ w_n) * to_reset, d_hidden * to_update], dim=-1)
    d_g = torch.cat([d_ru, d_candidate], dim=-1)  # b_hn is added beside W_hn (Γ_r ⊙ a): it gets what g_n gets
    d_weight_hh = torch.cat([_rows(d_ru).T @ _rows(previous), _rows(d_candidate).T @ _rows(reset_state)])
    return ThroughTime(d_hidden, None, _parameter_gradients(cell, xs, previous, d_g, d_g, d_weight_hh))


def _lstm(cell: LSTMCell, xs, hiddens, memories, d_last) -> ThroughTime:
    n_a, previous = cell.hidden_size, hiddens[:-1]
    pre = cell.project(xs) + _recurrent_all(cell, previous)
    update, forget, output = (torch.sigmoid(pre[..., k * n_a:(k + 1) * n_a]) for k in (0, 1, 3))
    candidate, squashed = torch.tanh(pre[..., 2 * n_a:3 * n_a]), torch.tanh(memories[1:])
    to_memory = output * (1 - squashed ** 2)  # ∂c'-part of da'
    # per unit of dc' (all of it): Γ_u, Γ_f and c̃'s pre-activations; per unit of da': Γ_o's
    per_memory = torch.cat([candidate * update * (1 - update), memories[:-1] * forget * (1 - forget),
                            update * (1 - candidate ** 2)], dim=-1)
    to_output = squashed * output * (1 - output)
    reached, kept, dh, dc = [], [], d_last, torch.zeros_like(d_last)
    for t in range(len(previous) - 1, -1, -1):
        dc = torch.addcmul(dc, dh, to_memory[t])
        reached.append(dh)
        kept.append(dc)
        d_pre = torch.cat([dc.repeat(1, 3) * per_memory[t], dh * to_output[t]], dim=-1)
        dh, dc = d_pre @ cell.weight_hh, dc * forget[t]
    d_hidden, d_memory = torch.stack(reached[::-1]), torch.stack(kept[::-1])
    d_pre = torch.cat([d_memory.repeat(1, 1, 3) * per_memory, d_hidden * to_output], dim=-1)
    return ThroughTime(d_hidden, d_memory, _parameter_gradients(cell, xs, previous, d_pre, d_pre))


# ---------------------------------------------------------------- what lab 17 plots


@dataclass(frozen=True)
class GradientsThroughTime:
    """‖∂L/∂a⟨t⟩‖ for t = 1 … T of one backward pass, where L depends on the last step only; for the LSTM also
    ‖∂L/∂c⟨t⟩‖ along its memory cell, the path its gates are built to keep open."""

    kind: str
    norms: list[float]  # ‖∂L/∂a⟨t⟩‖, t = 1 … T
    parameter_norm: float  # ‖∂L/∂W‖ over all the cell's parameters, before clipping
    clip_scale: float  # what clipping multiplied every gradient by (1.0: unclipped)
    memory_norms: list[float] | None = None  # ‖∂L/∂c⟨t⟩‖, t = 1 … T (LSTM only)

    @property
    def ratio(self) -> float:
        """‖∂L/∂a⟨1⟩‖ / ‖∂L/∂a⟨T⟩‖: how much of the signal reaches the first step (≪ 1 vanishing, ≫ 1 exploding)."""
        return _ratio(self.norms)

    @property
    def memory_ratio(self) -> float | None:
        """‖∂L/∂c⟨1⟩‖ / ‖∂L/∂c⟨T⟩‖ along the LSTM's memory cell; None for the other cells."""
        return None if self.memory_norms is None else _ratio(self.memory_norms)

    def clipped_at(self, clip_norm: float) -> GradientsThroughTime:
        """The same pass with clipping at `clip_norm` (0: off): the gradients do not change, only the factor."""
        clip_norm = validate("clip_norm", clip_norm)
        scale = min(1.0, clip_norm / self.parameter_norm) if clip_norm > 0 and self.parameter_norm > 0 else 1.0
        return GradientsThroughTime(self.kind, self.norms, self.parameter_norm, scale, self.memory_norms)


def _ratio(norms: list[float]) -> float:
    return norms[0] / norms[-1] if norms[-1] else math.inf


def gradients_through_time(kind: str, length: int, init_factor: float = 1.0, *, gate_bias: float = 0.0,
                           clip_norm: float = 0.0, hidden_size: int = 32, input_size: int = 8, batch: int = 4,
                           seed: int = 0) -> GradientsThroughTime:
    """One backward pass through `length` steps of a fresh cell: inputs from N(0, 1), and a loss on the last step
    only, L = ½‖a⟨T⟩ − y‖² averaged over the batch (y random). Records ‖∂L/∂a⟨t⟩‖ at every step (and the LSTM's
    ‖∂L/∂c⟨t⟩‖), so the plot shows how much of the last step's error reaches each earlier step. In float64: in
    float32 a gradient that vanishes over 200 steps underflows to exactly 0, which a log axis cannot show."""
    length = validate("sequence_length", length)
    cell = make_cell(kind, input_size, hidden_size, init_factor=init_factor, gate_bias=gate_bias, seed=seed,
                     dtype=torch.float64)
    generator = make_generator(seed + 1)
    xs = torch.randn(length, batch, input_size, generator=generator, dtype=torch.float64)
    target = torch.rand(batch, hidden_size, generator=generator, dtype=torch.float64) * 2 - 1
    result = backprop_through_time(cell, xs, lambda last: (last - target) / batch)
    norms = torch.linalg.vector_norm(result.hidden, dim=(1, 2)).tolist()
    memory = None if result.memory is None else torch.linalg.vector_norm(result.memory, dim=(1, 2)).tolist()
    total = math.sqrt(sum(float(g.square().sum()) for g in result.parameters.values()))
    return GradientsThroughTime(kind, norms, total, 1.0, memory).clipped_at(clip_norm)
