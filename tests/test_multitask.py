"""lab.multitask: the masked cost against torch's BCE, the labels by hand, separate networks really separate."""

import pytest
import torch

from lab.multitask import LABELS, MultiLabelNetwork, MultiTaskTraining, digit_labels, masked_logistic_cost
from lab.training import train


def test_labels_by_hand():
    Y = digit_labels(torch.arange(10))
    table = dict(zip(LABELS, Y.tolist(), strict=True))
    assert table["even"] == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert table["≥ 5"] == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert table["has a loop"] == [1, 0, 0, 0, 0, 0, 1, 0, 1, 1]
    assert table["prime"] == [0, 0, 1, 1, 0, 1, 0, 1, 0, 0]


def test_masked_cost_matches_torch_bce_summed_over_present_labels_and_its_gradient():
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(4, 30, generator=g, dtype=torch.float64, requires_grad=True)
    Y = (torch.rand(4, 30, generator=g) < 0.5).to(torch.float64)
    present = torch.rand(4, 30, generator=g) < 0.7
    ours = masked_logistic_cost(Z, Y, present)
    Z2 = Z.detach().clone().requires_grad_(True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(Z2, Y, weight=present.double(), reduction="sum") / 30
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    ours.backward(), theirs.backward()
    assert torch.allclose(Z.grad, Z2.grad)
    assert torch.all(Z.grad[~present] == 0)  # a missing label teaches nothing


def test_separate_networks_do_not_share_a_weight():
    net = MultiLabelNetwork(shared=False, seed=0)
    X = torch.rand(64, 5)
    Z = net(X)
    Z[0].sum().backward()  # only label 0's network gets a gradient
    grads = [h.weight.grad for h in net.hidden]
    assert grads[0].abs().sum() > 0 and all(g is None or g.abs().sum() == 0 for g in grads[1:])
    shared = MultiLabelNetwork(shared=True)
    assert sum(p.numel() for p in shared.parameters()) == pytest.approx(
        sum(p.numel() for p in net.parameters()), rel=0.05)  # the same budget


def test_training_learns_every_label_and_missing_labels_are_skipped():
    task = MultiTaskTraining(True, 200, 0.5, seed=0)
    assert 0.35 < (~task.present).float().mean() < 0.65
    metrics = list(train(task, 150))[-1].metrics
    assert all(metrics[label] > 0.75 for label in LABELS)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="'missing_label_share'"):
        MultiTaskTraining(True, 100, 1.0)
    with pytest.raises(ValueError, match="'multitask_examples'"):
        MultiTaskTraining(True, 2)
