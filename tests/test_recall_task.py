"""The recall task: its sequences, and the plain RNN failing where a gated cell remembers."""

import pytest
import torch

from lab.recall_task import INPUT_SIZE, QUERY, SYMBOLS, RecallTraining, recall_batch
from lab.training import DoneEvent, train


def test_a_sequence_is_the_symbol_distractors_and_the_query():
    xs, symbols = recall_batch(7, 32, torch.Generator().manual_seed(0))
    assert xs.shape == (9, 32, INPUT_SIZE) and symbols.shape == (32,)
    tokens = xs.argmax(dim=2)
    assert torch.equal(tokens[0], symbols) and (symbols < SYMBOLS).all()
    assert ((tokens[1:-1] >= SYMBOLS) & (tokens[1:-1] < QUERY)).all()  # distractors only in between
    assert (tokens[-1] == QUERY).all() and torch.equal(xs.sum(dim=2), torch.ones(9, 32))


def test_refuses_a_bad_distance_by_name():
    with pytest.raises(ValueError, match="'recall_distance'.*0"):
        recall_batch(0, 4, torch.Generator())


def final_accuracy(kind, distance, steps, **options):
    task = RecallTraining(kind, distance, **options)
    *_, done = train(task, steps, blowup_ratio=None)
    assert isinstance(done, DoneEvent)
    return done.metrics["accuracy"]


def test_same_seed_same_run():
    a, b = RecallTraining("gru", 5, seed=3), RecallTraining("gru", 5, seed=3)
    assert [float(a.step()[0]) for _ in range(3)] == [float(b.step()[0]) for _ in range(3)]


def test_a_gated_cell_remembers_across_forty_steps_where_the_plain_rnn_does_not():
    """The lab's default setting (T = 40, α = 0.02, memory gate bias 3, 500 steps)."""
    gru = final_accuracy("gru", 40, 500, lr=0.02, gate_bias=3.0)
    rnn = final_accuracy("rnn", 40, 500, lr=0.02, gate_bias=3.0)
    assert gru > 0.95 and rnn < 0.75, (gru, rnn)


def test_every_cell_learns_a_short_distance():
    for kind in ("rnn", "gru", "lstm"):
        assert final_accuracy(kind, 3, 300, lr=0.02) > 0.9, kind


def test_clipping_caps_the_gradient_of_each_step():
    task = RecallTraining("rnn", 10, clip_norm=0.01, lr=0.02)
    _, grads = task.step()
    total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads.values()]))
    assert float(total) == pytest.approx(0.01, rel=1e-3)
