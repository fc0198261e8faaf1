import math

import numpy as np
import pytest
import torch

from lab.data.digits import load_digits
from lab.optimization import MLP, MiniBatchTraining, cost_noise, softmax_cost
from lab.seeding import make_generator
from lab.training import DivergedEvent, DoneEvent, StepEvent, train


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def costs_of(events):
    return [e.cost for e in events if isinstance(e, StepEvent)]


def test_mlp_forward_and_cost_match_torch_nn(digits):
    model = MLP(64, 32, 10, make_generator(0), torch.float64)
    X, Y = digits.X_train[:, :50].double(), digits.Y_train[:, :50]
    twin = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
    with torch.no_grad():
        twin[0].weight.copy_(model.W1)
        twin[0].bias.copy_(model.b1[:, 0])
        twin[2].weight.copy_(model.W2)
        twin[2].bias.copy_(model.b2[:, 0])
    torch.testing.assert_close(model(X), twin(X.T).T)  # (10, 50)
    expected = -torch.log_softmax(twin(X.T), dim=1)[torch.arange(50), Y[0]].mean()
    torch.testing.assert_close(softmax_cost(model(X), Y), expected)


def test_he_initialisation_has_variance_two_over_fan_in():
    model = MLP(400, 1000, 10, make_generator(0), torch.float64)
    assert model.W1.var().item() == pytest.approx(2 / 400, rel=0.02)
    assert torch.equal(model.b1, torch.zeros(1000, 1, dtype=torch.float64))


def test_one_step_is_one_mini_batch_and_an_epoch_covers_the_training_set(digits):
    task = MiniBatchTraining(digits, batch_size=500, optimizer="gd", lr=0.1)
    assert task.steps_per_epoch == 3  # 500 + 500 + 348
    events = list(train(task, 7))
    assert len(costs_of(events)) == 7 and task.epoch == 2 and task.lrs == [0.1, 0.1, 0.1]
    assert set(events[-1].metrics) == {"train_cost", "train_accuracy", "test_accuracy"}
    assert set(events[0].grad_norms) == {"W1", "b1", "W2", "b2"}
    assert task.seconds_per_epoch() > 0


def test_training_learns_the_digits(digits):
    task = MiniBatchTraining(digits, batch_size=64, optimizer="adam", lr=0.01)
    events = list(train(task, 5 * task.steps_per_epoch))
    assert events[-1].metrics["test_accuracy"] > 0.85
    assert events[-1].metrics["train_cost"] < 0.3


def test_small_batches_give_a_noisier_cost_than_batch_gradient_descent(digits):
    m = digits.X_train.shape[1]
    noisy = costs_of(train(MiniBatchTraining(digits, batch_size=8, lr=0.05), 200))
    smooth = costs_of(train(MiniBatchTraining(digits, batch_size=m, lr=0.05), 200))
    assert cost_noise(noisy) > 5 * cost_noise(smooth)


def test_the_same_seed_gives_the_same_run_and_another_seed_another(digits):
    def run(seed):
        return costs_of(train(MiniBatchTraining(digits, batch_size=100, lr=0.1, seed=seed), 20))
    assert run(1) == run(1) and run(1) != run(2)


def test_the_schedule_sets_the_learning_rate_at_each_epoch(digits):
    task = MiniBatchTraining(digits, batch_size=674, optimizer="gd", lr=0.2, lr_schedule="inverse_time",
                             decay_rate=1.0)
    list(train(task, 8))
    assert task.lrs == pytest.approx([0.2, 0.1, 0.2 / 3, 0.05])
    assert task.optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_our_optimizer_and_torch_optim_can_be_swapped(digits):
    """The task steps whatever torch.optim-style optimizer it holds; ours and PyTorch's Adam agree."""
    data = digits.to("cpu")
    ours = MiniBatchTraining(data, batch_size=200, optimizer="adam", lr=0.01, seed=3)
    theirs = MiniBatchTraining(data, batch_size=200, optimizer="adam", lr=0.01, seed=3)
    theirs.optimizer = torch.optim.Adam(theirs.model.parameters(), lr=0.01)
    a, b = costs_of(train(ours, 15)), costs_of(train(theirs, 15))
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_the_notes_rmsprop_turns_the_cost_nan_at_the_second_step(digits):
    events = list(train(MiniBatchTraining(digits, batch_size=128, optimizer="rmsprop", lr=0.002,
                                          notes_rmsprop=True), 50))
    diverged = [e for e in events if isinstance(e, DivergedEvent)]
    assert diverged and diverged[0].step == 2 and math.isnan(diverged[0].cost)
    assert diverged[0].message == "Cost became NaN at step 2 — try a smaller learning rate."
    fine = list(train(MiniBatchTraining(digits, batch_size=128, optimizer="rmsprop", lr=0.002), 50))
    assert not any(isinstance(e, DivergedEvent) for e in fine)


def test_the_notes_decay_blows_up_at_epoch_one_over_d(digits):
    task = MiniBatchTraining(digits, batch_size=674, optimizer="rmsprop", lr=0.002, lr_schedule="inverse_time",
                             decay_rate=0.25, notes_decay=True)
    events = list(train(task, 40))
    diverged = next(e for e in events if isinstance(e, DivergedEvent))
    assert task.lrs[:4] == pytest.approx([0.002, 0.002 / 0.75, 0.004, 0.008]) and task.lrs[-1] == math.inf
    assert diverged.step <= 2 * 5  # by the end of epoch t = 1/d = 4 (2 steps per epoch)
    assert isinstance(events[-1], DoneEvent) and not events[-1].cancelled


def test_bad_settings_are_refused(digits):
    with pytest.raises(ValueError, match="'batch_size' parameter must be at most the number of examples m = 1348"):
        MiniBatchTraining(digits, batch_size=1349)
    with pytest.raises(ValueError, match="'batch_size' parameter must be in the range"):
        MiniBatchTraining(digits, batch_size=0)
    with pytest.raises(ValueError, match="'beta' parameter must be in the range"):
        MiniBatchTraining(digits, batch_size=10, optimizer="momentum", beta=1.0)
    with pytest.raises(ValueError, match="'beta2' parameter must be in the range"):
        MiniBatchTraining(digits, batch_size=10, optimizer="adam", beta2=1.0)
    with pytest.raises(ValueError, match="'hidden_units' parameter"):
        MiniBatchTraining(digits, batch_size=10, hidden_units=0)


def test_cost_noise():
    assert cost_noise([1.0, 1.0, 1.0]) == 0.0
    assert cost_noise([1.0, 3.0, 1.0]) == pytest.approx(2 / (5 / 3))
    assert math.isnan(cost_noise([1.0]))


@pytest.mark.gpu
def test_training_on_cuda_matches_the_cpu(digits):
    cpu = costs_of(train(MiniBatchTraining(digits, batch_size=128, optimizer="adam", lr=0.01), 20))
    gpu = costs_of(train(MiniBatchTraining(digits.to("cuda"), batch_size=128, optimizer="adam", lr=0.01), 20))
    np.testing.assert_allclose(cpu, gpu, rtol=1e-3)
