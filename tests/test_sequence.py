"""The recurrent cells against their torch twins, the GRU's two conventions, and clipping."""

import math

import pytest
import torch
from torch import nn

from lab.sequence import (
    GRUCell,
    LSTMCell,
    RNNCell,
    clip_grad_norm,
    flip_update_gate,
    make_cell,
    torch_agreement_report,
    unroll,
)

F64 = torch.float64
PAIRS = [(RNNCell, nn.RNNCell), (GRUCell, nn.GRUCell), (LSTMCell, nn.LSTMCell)]


def inputs(steps=12, batch=3, size=5, seed=0):
    return torch.randn(steps, batch, size, generator=torch.Generator().manual_seed(seed), dtype=F64)


def states_and_grads(cell, xs, state=None):
    """Hidden states over xs and the gradient of a loss on all of them w.r.t. every parameter, by name."""
    hiddens, _ = unroll(cell, xs, state)
    stacked = torch.stack(hiddens)
    loss = (stacked * torch.linspace(-1, 1, stacked.shape[-1], dtype=F64)).sum() + (stacked ** 2).sum()
    names, params = zip(*cell.named_parameters(), strict=True)
    return stacked, dict(zip(names, torch.autograd.grad(loss, params), strict=True))


@pytest.mark.parametrize(("ours", "twin"), PAIRS, ids=lambda c: c.__name__)
def test_cells_equal_torch_through_time_in_float64(ours, twin):
    torch.manual_seed(1)
    theirs = twin(5, 7, dtype=F64)
    cell = ours(5, 7, dtype=F64)
    cell.load_state_dict(theirs.state_dict())  # same names and shapes: loads across
    assert dict(cell.named_parameters()).keys() == dict(theirs.named_parameters()).keys()
    xs = inputs()
    a, grads_a = states_and_grads(cell, xs)
    b, grads_b = states_and_grads(theirs, xs)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    for name in grads_b:
        torch.testing.assert_close(grads_a[name], grads_b[name], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("ours", "twin"), PAIRS, ids=lambda c: c.__name__)
def test_state_dicts_load_both_ways_and_calls_match(ours, twin):
    cell = ours(4, 6, dtype=F64)
    theirs = twin(4, 6, dtype=F64)
    theirs.load_state_dict(cell.state_dict())
    x, h = torch.randn(2, 4, dtype=F64), torch.randn(2, 6, dtype=F64)
    state = (h, torch.randn(2, 6, dtype=F64)) if ours is LSTMCell else h
    out, expected = cell(x, state), theirs(x, state)
    for got, want in zip(out if ours is LSTMCell else (out,), expected if ours is LSTMCell else (expected,),
                         strict=True):
        torch.testing.assert_close(got, want)
    # unbatched input, and no state (zeros), as torch allows
    single, single_twin = cell(x[0]), theirs(x[0])
    torch.testing.assert_close(single[0] if ours is LSTMCell else single,
                               single_twin[0] if ours is LSTMCell else single_twin)


def test_the_course_update_gate_is_torch_z_with_the_gate_negated():
    torch_form = GRUCell(5, 7, dtype=F64)
    course_update = GRUCell(5, 7, dtype=F64, update="gamma_u")
    course_update.load_state_dict(flip_update_gate(torch_form.state_dict()))
    xs = inputs()
    torch.testing.assert_close(torch.stack(unroll(course_update, xs)[0]), torch.stack(unroll(torch_form, xs)[0]),
                               rtol=0, atol=1e-12)
    # without the flip they differ: the mapping is not a no-op
    plain = GRUCell(5, 7, dtype=F64, update="gamma_u")
    plain.load_state_dict(torch_form.state_dict())
    assert (torch.stack(unroll(plain, xs)[0]) - torch.stack(unroll(torch_form, xs)[0])).abs().max() > 1e-3


def test_the_course_reset_gate_follows_its_equation():
    """c̃ = tanh(W_c[Γ_r ⊙ c, x] + b_c), written out with the course's concatenated matrix."""
    cell = GRUCell(3, 4, dtype=F64, convention="course")
    x, c = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    n = 4
    W = torch.cat([cell.weight_hh, cell.weight_ih], dim=1)  # [W_h | W_x] acting on [c, x]
    b = cell.bias_ih + cell.bias_hh
    gate_r = torch.sigmoid(torch.cat([c, x], 1) @ W[:n].T + b[:n])
    gate_u = torch.sigmoid(torch.cat([c, x], 1) @ W[n:2 * n].T + b[n:2 * n])
    candidate = torch.tanh(torch.cat([gate_r * c, x], 1) @ W[2 * n:].T + b[2 * n:])
    expected = gate_u * candidate + (1 - gate_u) * c
    torch.testing.assert_close(cell(x, c), expected)


def test_reset_placement_matters_unless_the_reset_gate_is_open():
    xs = inputs()
    after = GRUCell(5, 7, dtype=F64)
    before = GRUCell(5, 7, dtype=F64, reset="before")
    before.load_state_dict(after.state_dict())
    assert (torch.stack(unroll(before, xs)[0]) - torch.stack(unroll(after, xs)[0])).abs().max() > 1e-3
    with torch.no_grad():  # Γ_r = σ(60) = 1: both forms are tanh(W_in x + b_in + W_hn c + b_hn)
        for cell in (after, before):
            cell.bias_ih[:7] = 60.0
    torch.testing.assert_close(torch.stack(unroll(before, xs)[0]), torch.stack(unroll(after, xs)[0]))


def test_lstm_equations_by_hand():
    cell = LSTMCell(2, 3, dtype=F64)
    x, h, c = torch.randn(1, 2, dtype=F64), torch.randn(1, 3, dtype=F64), torch.randn(1, 3, dtype=F64)
    z = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    u, f, g, o = z[:, :3], z[:, 3:6], z[:, 6:9], z[:, 9:]
    c_next = torch.sigmoid(u) * torch.tanh(g) + torch.sigmoid(f) * c
    h_next, c_got = cell(x, (h, c))
    torch.testing.assert_close(c_got, c_next)
    torch.testing.assert_close(h_next, torch.sigmoid(o) * torch.tanh(c_next))


def test_clipping_equals_torch_and_only_shrinks():
    for max_norm in (0.5, 1e6):
        a = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
        b = [p.detach().clone().requires_grad_() for p in a]
        for p, q in zip(a, b, strict=True):
            p.grad = torch.full_like(p, 2.0)
            q.grad = torch.full_like(q, 2.0)
        ours = clip_grad_norm(a, max_norm)
        theirs = torch.nn.utils.clip_grad_norm_(b, max_norm)
        assert ours == pytest.approx(float(theirs))
        for p, q in zip(a, b, strict=True):
            torch.testing.assert_close(p.grad, q.grad)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(a, 0.0)


def test_make_cell_is_reproducible_and_scales_with_the_factor():
    a, b = make_cell("gru", 3, 8, seed=4), make_cell("gru", 3, 8, seed=4)
    torch.testing.assert_close(a.weight_hh, b.weight_hh)
    big = make_cell("gru", 3, 8, seed=4, init_factor=3.0)
    torch.testing.assert_close(big.weight_hh, 3 * a.weight_hh)
    assert a.weight_hh.abs().max() <= 1 / math.sqrt(8)
    with pytest.raises(ValueError, match="'rnn_cell'"):
        make_cell("transformer", 3, 8)


def test_memory_gate_bias_opens_the_gate_that_keeps_the_old_state():
    x, h = torch.zeros(1, 3), torch.full((1, 4), 0.5)
    for kind in ("gru", "gru_course"):  # h' = keep ⊙ h + (1 − keep) ⊙ c̃ with keep ≈ 1: the old state stays
        opened, closed = make_cell(kind, 3, 4, seed=1, gate_bias=8.0), make_cell(kind, 3, 4, seed=1)
        assert (opened(x, h) - h).abs().max() < 0.01, kind
        assert (closed(x, h) - h).abs().max() > 0.05, kind
    lstm, shut = make_cell("lstm", 3, 4, seed=1, gate_bias=8.0), make_cell("lstm", 3, 4, seed=1)
    torch.testing.assert_close(lstm.bias_ih[:4], shut.bias_ih[:4] - 8.0)  # its update gate writes little
    torch.testing.assert_close(lstm.bias_ih[8:], shut.bias_ih[8:])  # candidate and output gate untouched
    for bias, low, high in ((8.0, 0.99, 1.0), (0.0, 0.2, 0.8)):  # ∂c⟨t⟩/∂c⟨t−1⟩ = Γ_f, the LSTM's forget gate
        cell = make_cell("lstm", 3, 4, seed=1, gate_bias=bias)
        c = torch.zeros(1, 4, requires_grad=True)
        forget = torch.autograd.grad(cell(x, (h, c))[1].sum(), c)[0]
        assert ((forget > low) & (forget < high)).all(), (bias, forget)


def test_the_agreement_report_finds_every_cell_equal():
    report = torch_agreement_report()
    assert report.count("equal") == 4 and "DIFFERENT" not in report
    assert "two different cells" in report
