"""lab.batch_norm: one batch-norm layer by hand against torch.nn.BatchNorm1d (training mode, running averages, eval
mode), the hand-written backward against autograd in float64, and what it normalizes (z, not the weights)."""

import math

import pytest
import torch

from lab.batch_norm import (
    BatchNorm,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_inference,
    batch_statistics,
    describe_what_gets_normalized,
    running_average_report,
    torch_check_report,
    update_running_averages,
    what_gets_normalized,
    worked_example,
)
from lab.data.digits import digit_images

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def pair(n: int, momentum: float = 0.1, eps: float = 1e-5, seed: int = 0) -> tuple[BatchNorm, torch.nn.BatchNorm1d]:
    """The lab's layer and torch's, with the same random γ and β (not the trivial 1 and 0)."""
    g = gen(seed)
    theirs = torch.nn.BatchNorm1d(n, eps=eps, momentum=momentum, dtype=F64)
    with torch.no_grad():
        theirs.weight.copy_(0.5 + torch.rand(n, generator=g, dtype=F64))
        theirs.bias.copy_(torch.randn(n, generator=g, dtype=F64))
    mine = BatchNorm(n, eps, momentum, dtype=F64)
    mine.gamma, mine.beta = theirs.weight.detach().reshape(n, 1).clone(), theirs.bias.detach().reshape(n, 1).clone()
    return mine, theirs


def batches(n: int, m: int, count: int, seed: int = 1) -> list[torch.Tensor]:
    g = gen(seed)  # each unit its own offset and scale, as real pre-activations have
    offset, scale = 5 * torch.randn(n, 1, generator=g, dtype=F64), 0.1 + 3 * torch.rand(n, 1, generator=g, dtype=F64)
    return [offset + scale * torch.randn(n, m, generator=g, dtype=F64) for _ in range(count)]


# ---------------------------------------------------------------- forward, running averages, eval: equal to torch


@pytest.mark.parametrize("m", [2, 7, 64])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_training_mode_and_running_averages_equal_batchnorm1d(m, momentum):
    mine, theirs = pair(6, momentum)
    for Z in batches(6, m, 4):  # (n, m); torch takes (m, n)
        assert torch.allclose(mine.forward(Z), theirs(Z.T).T, rtol=0, atol=1e-12)
        assert torch.allclose(mine.running_mean.flatten(), theirs.running_mean, rtol=0, atol=1e-12)
        assert torch.allclose(mine.running_var.flatten(), theirs.running_var, rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", [1, 3, 50])
def test_eval_mode_equals_batchnorm1d_eval_for_any_batch_size(m):
    mine, theirs = pair(5)
    for Z in batches(5, 32, 5):
        mine.forward(Z), theirs(Z.T)
    mine.eval(), theirs.eval()
    Z = batches(5, m, 1, seed=9)[0]
    assert torch.allclose(mine.forward(Z), theirs(Z.T).T.detach(), rtol=0, atol=1e-12)
    # each column on its own: the first column alone gives the same output as inside the batch
    assert torch.allclose(mine.forward(Z[:, :1]), mine.forward(Z)[:, :1], rtol=0, atol=1e-12)


def test_the_running_variance_is_unbiased_and_normalizing_uses_the_biased_one():
    """The convention torch documents and BatchNorm1d follows, in numbers: z = [2, 4, 6, 8] has σ² = 5 (÷m) and
    20/3 (÷(m − 1)); after one batch with momentum 0.1 the running variance is 0.9·1 + 0.1·20/3."""
    mine, theirs = BatchNorm(1, momentum=0.1, dtype=F64), torch.nn.BatchNorm1d(1, momentum=0.1, dtype=F64)
    Z = torch.tensor([[2.0, 4.0, 6.0, 8.0]], dtype=F64)
    out = mine.forward(Z)
    theirs(Z.T)
    assert mine.running_var.item() == pytest.approx(0.9 + 0.1 * 20 / 3, abs=1e-12) == theirs.running_var.item()
    assert mine.running_mean.item() == pytest.approx(0.1 * 5, abs=1e-12) == theirs.running_mean.item()
    assert out.flatten().tolist() == pytest.approx([(z - 5) / math.sqrt(5 + 1e-5) for z in (2, 4, 6, 8)], abs=1e-12)


def test_update_running_averages_is_the_course_average_with_beta_one_minus_momentum():
    mean, var = torch.tensor([[1.0]], dtype=F64), torch.tensor([[2.0]], dtype=F64)
    mu, biased = torch.tensor([[3.0]], dtype=F64), torch.tensor([[4.0]], dtype=F64)
    new_mean, new_var = update_running_averages(mean, var, mu, biased, m=5, momentum=0.25)
    beta = 1 - 0.25
    assert new_mean.item() == pytest.approx(beta * 1 + (1 - beta) * 3)
    assert new_var.item() == pytest.approx(beta * 2 + (1 - beta) * 4 * 5 / 4)


def test_each_unit_is_normalized_over_the_mini_batch():
    Z = batches(4, 30, 1)[0]  # (4, 30)
    _, cache, mu, var = batch_norm_forward(Z, torch.ones(4, 1, dtype=F64), torch.zeros(4, 1, dtype=F64))
    assert torch.allclose(cache.Z_hat.mean(dim=1), torch.zeros(4, dtype=F64), atol=1e-12)
    assert torch.allclose(cache.Z_hat.var(dim=1, unbiased=False), var.flatten() / (var.flatten() + 1e-5), atol=1e-12)
    assert torch.allclose(mu.flatten(), Z.mean(dim=1)) and torch.allclose(var.flatten(), Z.var(dim=1, unbiased=False))
    # a unit's output does not depend on the other units: change row 0, rows 1–3 stay
    Z2 = Z.clone()
    Z2[0] *= 100
    _, cache2, _, _ = batch_norm_forward(Z2, torch.ones(4, 1, dtype=F64), torch.zeros(4, 1, dtype=F64))
    assert torch.allclose(cache2.Z_hat[1:], cache.Z_hat[1:], atol=0) and torch.allclose(cache2.Z_hat[0], cache.Z_hat[0])


def test_gamma_and_beta_can_give_z_back():
    Z = batches(3, 10, 1)[0]
    mu, var = batch_statistics(Z)
    out, _, _, _ = batch_norm_forward(Z, torch.sqrt(var + 1e-5), mu)
    assert torch.allclose(out, Z, atol=1e-12)


def test_grouped_statistics_treat_each_group_as_a_mini_batch():
    Z = batches(3, 12, 1)[0]
    g, b = torch.rand(3, 1, dtype=F64), torch.rand(3, 1, dtype=F64)
    grouped, _, _, _ = batch_norm_forward(Z.reshape(3, 3, 4), g, b)
    separate = torch.cat([batch_norm_forward(Z[:, i:i + 4], g, b)[0] for i in range(0, 12, 4)], dim=1)
    assert torch.allclose(grouped.reshape(3, 12), separate, atol=1e-12)


def test_a_batch_of_one_normalizes_everything_to_zero_and_training_refuses_it():
    Z = torch.tensor([[3.0], [-7.0]], dtype=F64)
    out, cache, _, var = batch_norm_forward(Z, torch.full((2, 1), 2.0, dtype=F64), torch.tensor([[0.5], [-1.0]],
                                                                                                  dtype=F64))
    assert var.flatten().tolist() == [0.0, 0.0] and cache.Z_hat.flatten().tolist() == [0.0, 0.0]
    assert out.flatten().tolist() == [0.5, -1.0]  # β, whatever z was
    with pytest.raises(ValueError, match="at least 2 examples"):
        BatchNorm(2, dtype=F64).forward(Z)
    with pytest.raises(ValueError):  # torch refuses it too
        torch.nn.BatchNorm1d(2, dtype=F64)(Z.T)
    layer = BatchNorm(2, dtype=F64).eval()
    assert layer.forward(Z, "batch").flatten().tolist() == [0.0, 0.0]  # allowed outside training, to show it
    assert layer.running_mean.flatten().tolist() == [0.0, 0.0]  # and the running averages are left alone


# ---------------------------------------------------------------- backward against autograd, float64


def test_hand_written_backward_equals_autograd_through_the_same_formula():
    Z = batches(5, 9, 1)[0].requires_grad_()
    gamma = (0.5 + torch.rand(5, 1, generator=gen(3), dtype=F64)).requires_grad_()
    beta = torch.randn(5, 1, generator=gen(4), dtype=F64).requires_grad_()
    dOut = torch.randn(5, 9, generator=gen(5), dtype=F64)
    out, cache, _, _ = batch_norm_forward(Z, gamma, beta)
    (out * dOut).sum().backward()
    dZ, dgamma, dbeta = batch_norm_backward(dOut, cache)
    assert torch.allclose(dZ, Z.grad, rtol=0, atol=1e-12)
    assert torch.allclose(dgamma, gamma.grad, rtol=0, atol=1e-12)
    assert torch.allclose(dbeta, beta.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", [2, 16])
def test_layer_backward_equals_batchnorm1d_autograd(m):
    mine, theirs = pair(4)
    Z = batches(4, m, 1)[0].requires_grad_()
    dOut = torch.randn(4, m, generator=gen(7), dtype=F64)
    (theirs(Z.T).T * dOut).sum().backward()
    mine.forward(Z.detach())
    dZ = mine.backward(dOut)
    assert torch.allclose(dZ, Z.grad, rtol=0, atol=1e-12)
    assert torch.allclose(mine.grads["gamma"].flatten(), theirs.weight.grad, rtol=0, atol=1e-12)
    assert torch.allclose(mine.grads["beta"].flatten(), theirs.bias.grad, rtol=0, atol=1e-12)


class HandBatchNorm(torch.autograd.Function):
    """The lab's forward with the lab's hand-written backward, so gradcheck can compare it with finite differences."""

    @staticmethod
    def forward(ctx, Z, gamma, beta):
        out, cache, _, _ = batch_norm_forward(Z, gamma, beta)
        ctx.cache = cache
        return out

    @staticmethod
    def backward(ctx, dOut):
        return batch_norm_backward(dOut, ctx.cache)


def test_hand_written_backward_passes_gradcheck():
    Z = batches(3, 6, 1)[0].requires_grad_()
    gamma = (0.5 + torch.rand(3, 1, generator=gen(1), dtype=F64)).requires_grad_()
    beta = torch.randn(3, 1, generator=gen(2), dtype=F64).requires_grad_()
    assert torch.autograd.gradcheck(HandBatchNorm.apply, (Z, gamma, beta), eps=1e-6, atol=1e-7)


def test_backward_before_forward_is_refused():
    with pytest.raises(ValueError, match="forward pass"):
        BatchNorm(2).backward(torch.zeros(2, 3))


# ---------------------------------------------------------------- what gets normalized (ERRATA 10)


def test_batch_norm_normalizes_z_and_leaves_the_weights_alone():
    X = digit_images()[0]
    result = what_gets_normalized(X, batch_size=64, watch_unit=5, seed=3)
    z, z_hat = torch.tensor(result.z, dtype=F64), torch.tensor(result.z_hat, dtype=F64)
    assert len(result.z) == 64 and len(result.weights) == 64
    assert abs(z.mean().item()) > 0.05 or abs(z.std(unbiased=False).item() - 1) > 0.05  # z itself is not normalized
    assert z_hat.mean().item() == pytest.approx(0, abs=1e-9)
    assert z_hat.std(unbiased=False).item() == pytest.approx(1, abs=1e-3)
    assert torch.allclose(z_hat, (z - z.mean()) / torch.sqrt(z.var(unbiased=False) + 1e-5))
    # the weights are He weights as drawn; normalizing them instead (the notes) leaves z far from mean 0, spread 1
    w_notes = torch.tensor(result.notes_weights, dtype=F64)
    assert w_notes.mean().item() == pytest.approx(0, abs=1e-9)
    assert w_notes.std(unbiased=False).item() == pytest.approx(1)
    notes_z = torch.tensor(result.notes_z, dtype=F64)
    assert abs(notes_z.mean().item()) > 0.2 or abs(notes_z.std(unbiased=False).item() - 1) > 0.2
    text = describe_what_gets_normalized(result)
    assert "ẑ has mean 0.000 and spread 1.000" in text and "are not touched" in text


def test_what_gets_normalized_depends_on_its_settings():
    X = digit_images()[0]
    a = what_gets_normalized(X, 64, 1, 0)
    assert what_gets_normalized(X, 64, 1, 0) == a  # reproducible
    assert what_gets_normalized(X, 64, 2, 0).weights != a.weights
    assert what_gets_normalized(X, 64, 1, 1).z != a.z
    assert len(what_gets_normalized(X, 10, 1, 0).z) == 10


@pytest.mark.parametrize("kwargs, words", [
    ({"batch_size": 2000}, "'batch_size' parameter must be at most m = 1797. Got 2000"),
    ({"batch_size": 0}, "'batch_size' parameter must be in the range [1, 100000]. Got 0"),
    ({"watch_unit": 40}, "'watch_unit' parameter must be at most the 32 hidden units. Got 40"),
    ({"watch_unit": 0}, "'watch_unit' parameter must be in the range [1, 1024]. Got 0"),
    ({"seed": -1}, "'seed' parameter"),
])
def test_what_gets_normalized_refuses_bad_settings_by_name(kwargs, words):
    with pytest.raises(ValueError) as error:
        what_gets_normalized(digit_images()[0], **kwargs)
    assert words in str(error.value)


# ---------------------------------------------------------------- validation messages


@pytest.mark.parametrize("momentum, words", [(0.0, "range (0.0, 1.0]. Got 0.0"), (1.5, "Got 1.5"),
                                             (math.nan, "must be finite")])
def test_momentum_out_of_range_is_refused_by_name(momentum, words):
    with pytest.raises(ValueError, match="'bn_momentum'") as error:
        BatchNorm(3, momentum=momentum)
    assert words in str(error.value)


@pytest.mark.parametrize("eps", [0.0, -1e-5, 2.0])
def test_eps_out_of_range_is_refused_by_name(eps):
    with pytest.raises(ValueError, match="'bn_eps'"):
        batch_norm_forward(torch.ones(2, 3), torch.ones(2, 1), torch.zeros(2, 1), eps)


def test_eps_that_rounds_to_zero_in_float32_is_refused():
    with pytest.raises(ValueError, match="'eps' parameter must be at least 1.175e-38 for torch.float32"):
        batch_norm_forward(torch.ones(2, 3), torch.ones(2, 1), torch.zeros(2, 1), 1e-40)
    ones = torch.ones(2, 3, dtype=F64)  # float64 copes: a constant z gives 0, not NaN
    assert batch_norm_forward(ones, ones[:, :1], 0 * ones[:, :1], 1e-40)[0].abs().max() == 0
    with pytest.raises(ValueError, match="'eps'"):
        batch_norm_inference(torch.ones(2, 3), torch.ones(2, 1), torch.zeros(2, 1), torch.zeros(2, 1),
                             torch.ones(2, 1), 1e-45)


def test_other_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match=r"'m' parameter .* at least 2 to estimate a variance. Got 1"):
        update_running_averages(torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), m=1)
    with pytest.raises(ValueError, match="'num_features' parameter must be a whole number ≥ 1. Got 0"):
        BatchNorm(0)
    with pytest.raises(ValueError, match="'statistics' parameter must be one of \\['running', 'batch'\\]"):
        BatchNorm(2).forward(torch.ones(2, 3), "mini-batch")


# ---------------------------------------------------------------- what the notebook prints


def test_worked_example_follows_the_four_steps():
    text = worked_example([4, 6, 2, 8], bn_gamma=2, bn_beta=0.5)
    assert "μ  = mean of z         = 5.000" in text and "σ² = mean of (z − μ)²  = 5.000" in text
    assert "[-0.447, 0.447, -1.342, 1.342]" in text and "mean 0.000, variance 1.000" in text
    assert "[-0.394, 1.394, -2.183, 3.183]" in text  # 2·ẑ + 0.5
    with pytest.raises(ValueError, match="'z' parameter"):
        worked_example([1.0, math.inf])


def test_the_reports_compare_with_torch_and_say_so():
    assert torch_check_report().count("True") == 4 and "False" not in torch_check_report()
    report = running_average_report()
    assert report.count("│ equal       │") == 3 and "DIFFERENT" not in report
    first = report.splitlines()[2]  # [2, 4, 6, 8]: σ² = 5 (÷m), 20/3 (÷(m − 1))
    assert first.split() == ["[2,", "4,", "6,", "8]", "5.000", "5.000", "6.667", "│", "0.5000", "1.5667", "│", "equal",
                             "│", "1.4000"]
    with pytest.raises(ValueError, match="'m' parameter must be 2, 3 or 4"):
        running_average_report(m=9)
