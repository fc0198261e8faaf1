"""Backpropagation through time by hand (lab.through_time) against autograd, and the gradients lab 17 plots."""

import pytest
import torch

from lab.sequence import CELL_KINDS, GRUCell, LSTMCell, RNNCell, hidden_of, make_cell
from lab.through_time import backprop_through_time, gradients_through_time

F64 = torch.float64


def through_autograd(cell, xs, target):
    """The same pass as `backprop_through_time` with L = ½‖a⟨T⟩ − y‖² / N, every gradient taken by autograd."""
    states, state = [], None
    for gi in cell.project(xs):
        state = cell.step(gi, state)
        states.append(state)
    hiddens = [hidden_of(s) for s in states]
    memories = [s[1] for s in states] if isinstance(cell, LSTMCell) else []
    loss = 0.5 * ((hiddens[-1] - target) ** 2).sum() / len(target)
    names, params = zip(*cell.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, hiddens + memories + list(params))
    T = len(hiddens)
    memory = torch.stack(grads[T:2 * T]) if memories else None
    return torch.stack(grads[:T]), memory, dict(zip(names, grads[T + len(memories):], strict=True))


CELLS = {
    "rnn tanh": lambda: RNNCell(5, 7, dtype=F64),
    "rnn relu": lambda: RNNCell(5, 7, nonlinearity="relu", dtype=F64),
    "gru (torch's form)": lambda: GRUCell(5, 7, dtype=F64),
    "gru (the course's form)": lambda: GRUCell(5, 7, dtype=F64, convention="course"),
    "gru (reset before, torch's update gate)": lambda: GRUCell(5, 7, dtype=F64, reset="before"),
    "gru (reset after, the course's update gate)": lambda: GRUCell(5, 7, dtype=F64, update="gamma_u"),
    "lstm": lambda: LSTMCell(5, 7, dtype=F64),
    "rnn without biases": lambda: RNNCell(5, 7, bias=False, dtype=F64),
    "gru without biases": lambda: GRUCell(5, 7, bias=False, dtype=F64, convention="course"),
    "lstm without biases": lambda: LSTMCell(5, 7, bias=False, dtype=F64),
}


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("factor", [0.5, 3.0])
def test_every_gradient_equals_autograds(name, factor):
    torch.manual_seed(2)
    cell = CELLS[name]()
    cell.reset_parameters(torch.Generator().manual_seed(3), factor)
    xs = torch.randn(15, 3, 5, dtype=F64)
    target = torch.rand(3, 7, dtype=F64) * 2 - 1
    ours = backprop_through_time(cell, xs, lambda last: (last - target) / len(target))
    hidden, memory, params = through_autograd(cell, xs, target)
    assert ours.hidden.shape == (15, 3, 7)
    torch.testing.assert_close(ours.hidden, hidden, rtol=1e-10, atol=1e-14)
    if memory is None:
        assert ours.memory is None
    else:
        torch.testing.assert_close(ours.memory, memory, rtol=1e-10, atol=1e-14)
    assert ours.parameters.keys() == params.keys()
    for key, grad in params.items():
        torch.testing.assert_close(ours.parameters[key], grad, rtol=1e-10, atol=1e-13, msg=key)
    assert all(p.grad is None for p in cell.parameters())  # nothing through autograd's .grad


def test_the_last_steps_gradient_is_the_losss_and_earlier_ones_shrink_through_a_small_cell():
    cell = make_cell("rnn", 4, 6, init_factor=0.3, seed=1, dtype=F64)
    xs = torch.randn(40, 2, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    seed = torch.ones(2, 6, dtype=F64)
    result = backprop_through_time(cell, xs, lambda last: seed)
    torch.testing.assert_close(result.hidden[-1], seed)  # nothing comes after the last step
    norms = torch.linalg.vector_norm(result.hidden, dim=(1, 2))
    assert (norms[:-1] < norms[1:]).all()  # a contracting cell: each step back loses some


def test_only_the_labs_cells_are_accepted():
    with pytest.raises(ValueError, match="'cell'.*GRUCell"):
        backprop_through_time(torch.nn.GRUCell(3, 4), torch.zeros(2, 1, 3), lambda last: last)


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_the_plotted_norms_are_those_of_autograd(kind):
    """`gradients_through_time` for lab 17's view: its norms and ‖∂L/∂W‖ against the pass taken by autograd on
    the same cell, inputs and target (drawn as the function draws them)."""
    from lab.seeding import make_generator

    result = gradients_through_time(kind, 50, 1.5, gate_bias=1.0)
    cell = make_cell(kind, 8, 32, init_factor=1.5, gate_bias=1.0, seed=0, dtype=F64)
    generator = make_generator(1)
    xs = torch.randn(50, 4, 8, generator=generator, dtype=F64)
    target = torch.rand(4, 32, generator=generator, dtype=F64) * 2 - 1
    hidden, memory, params = through_autograd(cell, xs, target)
    assert result.norms == pytest.approx(torch.linalg.vector_norm(hidden, dim=(1, 2)).tolist(), rel=1e-9)
    if kind == "lstm":
        assert result.memory_norms == pytest.approx(torch.linalg.vector_norm(memory, dim=(1, 2)).tolist(), rel=1e-9)
    total = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in params.values()])))
    assert result.parameter_norm == pytest.approx(total, rel=1e-9)


def test_gradients_vanish_for_a_small_rnn_and_explode_for_a_large_one():
    small = gradients_through_time("rnn", 100, 1.0)
    large = gradients_through_time("rnn", 100, 5.0)
    assert len(small.norms) == 100 and all(v > 0 for v in small.norms)
    assert small.ratio < 1e-10 < 1e5 < large.ratio


def test_an_open_memory_gate_carries_the_gradient_back():
    for kind in ("gru", "gru_course"):
        assert gradients_through_time(kind, 200).ratio < 1e-20 < 1e-3 < gradients_through_time(kind, 200,
                                                                                          gate_bias=4.0).ratio
    shut = gradients_through_time("lstm", 200, gate_bias=0.0)
    open_ = gradients_through_time("lstm", 200, gate_bias=4.0)  # along the memory cell c
    assert shut.memory_ratio < 1e-20 and open_.memory_ratio > 1e-2
    assert gradients_through_time("gru", 20).memory_norms is None


def test_clipping_rescales_every_gradient_by_one_factor():
    result = gradients_through_time("rnn", 60, 5.0, clip_norm=1.0)
    assert result.parameter_norm > 1.0
    assert result.clip_scale == pytest.approx(1.0 / result.parameter_norm)
    assert gradients_through_time("rnn", 60, 1.0, clip_norm=1e6).clip_scale == 1.0


@pytest.mark.parametrize("kind", CELL_KINDS)
def test_gradients_through_time_is_reproducible(kind):
    assert gradients_through_time(kind, 30).norms == gradients_through_time(kind, 30).norms


def test_clipping_afterwards_equals_clipping_in_the_pass():
    result = gradients_through_time("rnn", 60, 5.0)
    assert result.clipped_at(1.0) == gradients_through_time("rnn", 60, 5.0, clip_norm=1.0)
    assert result.clipped_at(0.0).clip_scale == 1.0
    with pytest.raises(ValueError, match="clip_norm"):
        result.clipped_at(-1.0)
