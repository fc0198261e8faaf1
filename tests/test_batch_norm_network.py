"""lab.batch_norm_network: the hand-written network against its torch.nn twin (gradients, running averages, test-time
outputs), training plain against batch norm on the digits, the snapshots of a unit's input, and test-time batch
statistics against running averages."""

import math

import pytest
import torch

from lab.batch_norm_network import (
    BatchNormNetwork,
    BatchNormTraining,
    TorchBatchNormNetwork,
    accuracy,
    compare_statistics,
    drift,
    epoch_steps,
    make_network,
    network_dims,
    snapshot_steps,
    unit_history,
)
from lab.data.digits import load_digits_multiclass
from lab.device import configure_threads
from lab.seeding import make_generator
from lab.training import DivergedEvent, DoneEvent, train

F64 = torch.float64


@pytest.fixture(scope="module")
def digits():
    configure_threads()  # as the dashboards do: on 2 busy cores, two torch threads make these small steps 10× slower
    return load_digits_multiclass()


def twins(batch_norm: bool, depth: int = 4, n_h: int = 8, dtype=F64):
    dims = network_dims(64, depth, n_h, 10)
    return (BatchNormNetwork(dims, batch_norm=batch_norm, generator=make_generator(3), dtype=dtype),
            TorchBatchNormNetwork(dims, batch_norm=batch_norm, generator=make_generator(3), dtype=dtype))


def batch(digits, m: int = 24, start: int = 0):
    return digits.X_train[:, start:start + m].to(F64), digits.Y_train[:, start:start + m]


# ---------------------------------------------------------------- by hand = torch.nn + autograd


@pytest.mark.parametrize("depth", [2, 4])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_hand_written_gradients_equal_autograd_over_several_steps(digits, batch_norm, depth):
    hand, twin = twins(batch_norm, depth)
    for step in range(3):
        X, Y = batch(digits, 24, 24 * step)
        cost_hand, grads_hand = hand.cost_and_gradients(X, Y)
        cost_twin, grads_twin = twin.cost_and_gradients(X, Y)
        assert cost_hand.item() == pytest.approx(cost_twin.item(), abs=1e-12)
        assert grads_hand.keys() == grads_twin.keys() == hand.params.keys()
        for name in grads_hand:
            assert torch.allclose(grads_hand[name], grads_twin[name], rtol=0, atol=1e-12), (step, name)
        hand.update(grads_hand, 0.5)
        twin.update(grads_twin, 0.5)
    for name, value in hand.params.items():
        assert torch.allclose(value, twin.params[name], rtol=0, atol=1e-12), name
    mine, theirs = hand.running_averages(), twin.running_averages()
    assert mine.keys() == theirs.keys() == (set(range(1, depth)) if batch_norm else set())
    for k in mine:
        assert torch.allclose(mine[k][0], theirs[k][0], atol=1e-12) and torch.allclose(mine[k][1], theirs[k][1],
                                                                                       atol=1e-12)


def test_test_time_outputs_equal_the_twins(digits):
    hand, twin = twins(True)
    for step in range(4):
        X, Y = batch(digits, 32, 32 * step)
        hand.update(hand.cost_and_gradients(X, Y)[1], 0.3)
        twin.update(twin.cost_and_gradients(X, Y)[1], 0.3)
    X = digits.X_dev[:, :40].to(F64)
    for statistics, group in [("running", None), ("batch", None), ("batch", 8), ("batch", 1)]:
        assert torch.allclose(hand.scores(X, statistics, group), twin.scores(X, statistics, group), atol=1e-12)
    assert torch.allclose(twin.forward(X), hand.scores(X), atol=1e-12)
    before = {k: v[0].clone() for k, v in hand.running_averages().items()}
    hand.scores(X, "batch"), twin.scores(X, "batch")  # test-time batch statistics leave the running averages alone
    assert all(torch.equal(before[k], hand.running_averages()[k][0]) for k in before)
    assert all(torch.allclose(before[k], twin.running_averages()[k][0], atol=1e-12) for k in before)


def test_hand_written_gradients_equal_autograd_of_its_own_forward(digits):
    """No torch.nn at all: autograd differentiates the hand-written forward pass itself."""
    hand, _ = twins(True, depth=3)
    X, Y = batch(digits, 16)
    leaves = {k: v.clone().requires_grad_() for k, v in hand.params.items()}
    saved = hand.params
    hand.params = leaves
    for k, bn in hand.norms.items():
        bn.gamma, bn.beta = leaves[f"gamma{k}"], leaves[f"beta{k}"]
    ZL, _ = hand.forward(X, "batch")
    torch.nn.functional.cross_entropy(ZL.T, Y[0]).backward()
    hand.params = saved
    for k, bn in hand.norms.items():
        bn.gamma, bn.beta = saved[f"gamma{k}"], saved[f"beta{k}"]
    _, grads = hand.cost_and_gradients(X, Y)
    for name in grads:
        assert torch.allclose(grads[name], leaves[name].grad, rtol=0, atol=1e-12), name


def test_a_batch_norm_layer_has_gamma_and_beta_instead_of_b():
    hand, twin = twins(True, depth=3)
    assert list(hand.params) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert list(twin.params) == list(hand.params)
    assert twin.linears[0].bias is None and twin.linears[2].bias is not None
    plain, _ = twins(False, depth=3)
    assert list(plain.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_statistics_of_groups_equal_separate_batches(digits):
    hand, _ = twins(True)
    X = digits.X_dev[:, :24].to(F64)
    separate = torch.cat([hand.scores(X[:, i:i + 6], "batch") for i in range(0, 24, 6)], dim=1)
    assert torch.allclose(hand.scores(X, "batch", group=6), separate, atol=1e-12)


def test_a_test_batch_of_one_gives_every_example_the_same_answer(digits):
    hand, _ = twins(True)
    X = digits.X_dev[:, :10].to(F64)
    scores = hand.scores(X, "batch", group=1)  # ẑ = 0 everywhere: the input no longer matters
    assert torch.allclose(scores, scores[:, :1].expand_as(scores), atol=1e-12)
    assert not torch.allclose(hand.scores(X), hand.scores(X)[:, :1].expand(-1, 10))  # the running averages: it does


# ---------------------------------------------------------------- training on the digits


def test_steps_per_epoch_leave_out_a_last_batch_of_one(digits):
    m = digits.X_train.shape[1]
    assert m == 1079 and epoch_steps(m, 64) == 17 and epoch_steps(m, 2) == 539 and epoch_steps(m, 1079) == 1
    assert epoch_steps(m, 1078) == 1 and epoch_steps(m, 1077) == 2  # leftovers of 1 (dropped) and 2 (kept)
    task = BatchNormTraining(make_network(64, 10, batch_norm=True, depth=3), digits, lr=0.1, batch_size=1078,
                             num_epochs=3)
    events = list(train(task, task.num_steps))
    assert task.num_steps == 3 and events[-1].steps == 3 and not any(isinstance(e, DivergedEvent) for e in events)


def run(digits, batch_norm: bool, lr: float, depth: int = 6, epochs: int = 10):
    network = make_network(64, 10, batch_norm=batch_norm, depth=depth, hidden_units=32)
    task = BatchNormTraining(network, digits, lr=lr, batch_size=64, num_epochs=epochs)
    events = list(train(task, task.num_steps, eval_every=task.steps_per_epoch))
    return task, events


def test_batch_norm_trains_where_the_plain_network_diverges(digits):
    plain, events = run(digits, False, lr=3.0)
    diverged = [e for e in events if isinstance(e, DivergedEvent)]
    assert diverged and diverged[0].step < 20 and "try a smaller learning rate" in diverged[0].message
    task, events = run(digits, True, lr=3.0)
    assert not any(isinstance(e, DivergedEvent) for e in events)
    assert events[-1].metrics["dev_accuracy"] > 0.9 and events[-1].metrics["train_cost"] < 0.2


def test_at_a_moderate_rate_batch_norm_learns_faster(digits):
    (_, plain_events), (_, bn_events) = run(digits, False, 0.5), run(digits, True, 0.5)
    assert bn_events[-1].metrics["dev_accuracy"] > plain_events[-1].metrics["dev_accuracy"] + 0.2
    _, slow = run(digits, False, 0.1)  # the plain network does learn, with a smaller step
    assert slow[-1].metrics["dev_accuracy"] > 0.8


def test_snapshots_show_the_drift_batch_norm_removes(digits):
    (plain, _), (bn, _) = run(digits, False, 0.3), run(digits, True, 0.3)
    assert [s.step for s in bn.snapshots] == snapshot_steps(170) == [0, 21, 42, 85, 170]
    assert [s.epoch for s in bn.snapshots] == pytest.approx([0, 21 / 17, 42 / 17, 5, 10])
    assert len(bn.snapshots[0].relu_inputs) == 5 and bn.snapshots[0].relu_inputs[0].shape == (32, 256)
    assert plain.snapshots[0].pre_norm is None and bn.snapshots[0].pre_norm[2].shape == (32, 256)
    plain_drift, bn_drift = [], []
    for layer in (1, 3, 5):
        for unit in range(1, 33):
            plain_drift.append(drift(unit_history(plain.snapshots, layer, unit).relu_inputs)["mean_range"])
            bn_drift.append(drift(unit_history(bn.snapshots, layer, unit).relu_inputs)["mean_range"])
    assert torch.tensor(plain_drift).median() > 5 * torch.tensor(bn_drift).median()


def test_with_batch_norm_the_relu_input_over_the_probe_has_mean_beta_and_spread_gamma(digits):
    task, _ = run(digits, True, 0.5, depth=3, epochs=2)
    last = task.snapshots[-1]
    for k in (1, 2):
        values = last.relu_inputs[k - 1].double()  # (32, 256), normalized with the probe's own statistics
        gamma, beta = task.network.params[f"gamma{k}"].double(), task.network.params[f"beta{k}"].double()
        var = last.pre_norm[k - 1].double().var(dim=1, unbiased=False, keepdim=True)
        assert torch.allclose(values.mean(dim=1, keepdim=True), beta, atol=1e-5)
        spread = gamma.abs() * torch.sqrt(var / (var + 1e-5))  # |γ|·(spread of ẑ, just under 1 because of ε)
        assert torch.allclose(values.std(dim=1, unbiased=False, keepdim=True), spread, atol=1e-4)


def test_unit_history_clamps_to_the_network_and_drops_nan(digits):
    task, _ = run(digits, True, 0.5, depth=3, epochs=1)
    history = unit_history(task.snapshots, 7, 99)
    assert (history.layer, history.unit) == (2, 32) and len(history.relu_inputs) == len(task.snapshots)
    assert history.relu_inputs[0] == task.snapshots[0].relu_inputs[1][31].double().tolist()
    plain, _ = run(digits, False, 8.0, depth=3, epochs=1)
    nan_history = unit_history(plain.snapshots, 1, 1)
    assert all(math.isfinite(v) for values in nan_history.relu_inputs for v in values)
    with pytest.raises(ValueError, match="'watch_layer'"):
        unit_history(task.snapshots, 0, 1)


def test_drift_measures_how_far_the_mean_wanders():
    stats = drift([[0.0, 2.0], [4.0, 6.0], [1.0, 3.0]])  # means 1, 5, 2; first spread 1
    assert stats["mean_range"] == pytest.approx(4.0) and stats["first_std"] == pytest.approx(1.0)
    assert stats["last_mean"] == pytest.approx(2.0)
    assert math.isnan(drift([[1.0, 2.0], []])["last_mean"])


# ---------------------------------------------------------------- test time


def test_running_averages_beat_the_statistics_of_small_test_batches(digits):
    task, _ = run(digits, True, 0.5)
    network, X, Y = task.network, digits.X_dev, digits.Y_dev
    results = compare_statistics(network, X, Y, (1, 2, 8, 64, 359), shuffles=3)
    assert [r.test_batch_size for r in results] == [1, 2, 8, 64, 359]
    running = accuracy(network, X, Y)
    assert all(r.running_accuracy == running for r in results) and running > 0.9
    one, two, eight, sixty_four, whole = results
    share = (Y[0] == one.constant_answer).double().mean().item()
    assert one.constant_answer is not None and one.batch_accuracies == pytest.approx([share] * 3)
    assert one.changed == 0  # the same useless answer however the digits are dealt
    means = [sum(r.batch_accuracies) / 3 for r in results]
    assert means[1] < means[2] < means[3] and means[1] < 0.5 < means[3]
    assert whole.changed == 0 and whole.batch_accuracies[0] == pytest.approx(accuracy(network, X, Y, "batch"))
    assert two.changed > eight.changed > sixty_four.changed > 0


def test_compare_statistics_needs_batch_norm(digits):
    with pytest.raises(ValueError, match="'network' parameter must use batch norm"):
        compare_statistics(make_network(64, 10, batch_norm=False), digits.X_dev, digits.Y_dev)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, words", [
    ({"lr": 0.0}, "'lr' parameter"),
    ({"lr": 11.0}, "'lr' parameter"),
    ({"batch_size": 1}, "'batch_size' parameter must be in [2, m = 1079] with batch norm. Got 1"),
    ({"batch_size": 2000}, "'batch_size' parameter must be in [2, m = 1079] with batch norm. Got 2000"),
    ({"num_epochs": 0}, "'num_epochs' parameter"),
    ({"seed": -3}, "'seed' parameter"),
])
def test_training_settings_out_of_range_are_refused_by_name(digits, kwargs, words):
    settings = {"lr": 0.1, "batch_size": 64, "num_epochs": 1, **kwargs}
    with pytest.raises(ValueError) as error:
        BatchNormTraining(make_network(64, 10, batch_norm=True, depth=3), digits, **settings)
    assert words in str(error.value)


def test_network_settings_out_of_range_are_refused_by_name():
    with pytest.raises(ValueError, match="'depth' parameter must be in the range \\[1, 50\\]. Got 0"):
        make_network(64, 10, batch_norm=True, depth=0)
    with pytest.raises(ValueError, match="'hidden_units'"):
        make_network(64, 10, batch_norm=True, hidden_units=0)
    with pytest.raises(ValueError, match="'bn_momentum'"):
        make_network(64, 10, batch_norm=True, bn_momentum=2.0)
    with pytest.raises(TypeError, match="'batch_norm' parameter must be True or False. Got 'yes'"):
        BatchNormNetwork((64, 8, 10), batch_norm="yes", generator=make_generator(0))
    with pytest.raises(ValueError, match="'layer_dims' parameter must end with ≥ 2 classes"):
        BatchNormNetwork((64, 8, 1), batch_norm=True, generator=make_generator(0))
    with pytest.raises(ValueError, match="'implementation'"):
        make_network(64, 10, batch_norm=True, implementation="keras")
    with pytest.raises(ValueError, match="'statistics' parameter"):
        make_network(64, 10, batch_norm=True).scores(torch.zeros(64, 3), "average")
    with pytest.raises(ValueError, match="'group' parameter must divide the m = 10 columns"):
        make_network(64, 10, batch_norm=True).scores(torch.zeros(64, 10), "batch", group=4)
    with pytest.raises(ValueError, match="'group' parameter"):
        make_network(64, 10, batch_norm=True).forward(torch.zeros(64, 8), "batch", update=True, group=4)


def test_a_training_step_on_one_example_is_refused_with_batch_norm(digits):
    network = make_network(64, 10, batch_norm=True, depth=3)
    with pytest.raises(ValueError, match="'batch_size' parameter must be at least 2 to train with batch norm"):
        network.cost_and_gradients(digits.X_train[:, :1], digits.Y_train[:, :1])
    plain = make_network(64, 10, batch_norm=False, depth=3)
    assert plain.cost_and_gradients(digits.X_train[:, :1], digits.Y_train[:, :1])[0].isfinite()


def test_done_event_reports_running_average_metrics(digits):
    task, events = run(digits, True, 0.5, depth=3, epochs=2)
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.metrics["dev_accuracy"] == accuracy(task.network, digits.X_dev,
                                                                                     digits.Y_dev)
    assert [round(e, 6) for e, _ in task.evaluations] == [1.0, 2.0]
