"""LeNet-5 on the digits: the 32 × 32 images, the network against the lab's hand-written convolution and pooling,
its gradients and filters, and the target — at least 97 % of the dev digits right."""

import math

import pytest
import torch

from lab.cnn_architectures import count_parameters
from lab.convolution import avg_pool2d, conv2d, max_pool2d
from lab.data.digits import load_digits_multiclass
from lab.lenet import LeNetTraining, digit_images, initialize, upsample_digits
from lab.training import EvalEvent, train


@pytest.fixture(scope="module")
def images():
    return digit_images()


def test_digits_are_upsampled_to_32_by_32_without_changing_their_strokes():
    data = load_digits_multiclass()
    big = upsample_digits(data.X_train)  # (m, 1, 32, 32)
    assert big.shape == (data.X_train.shape[1], 1, 32, 32) and big.min() >= 0 and big.max() <= 1
    # every new pixel is the weighted mean of its 4 nearest original pixels: output pixel j sits at (j + ½)/4 − ½
    src = ((torch.arange(32, dtype=torch.float64) + 0.5) / 4 - 0.5).clamp(0, 7)
    low = src.floor().long()
    high, t = (low + 1).clamp(max=7), src - low
    for k in (0, 17, 500):
        a = data.X_train[:, k].reshape(8, 8).double()
        rows = a[low] * (1 - t)[:, None] + a[high] * t[:, None]  # (32, 8): between rows
        expected = rows[:, low] * (1 - t) + rows[:, high] * t  # (32, 32): between columns
        assert torch.allclose(big[k, 0].double(), expected, atol=1e-6)
    assert torch.equal(upsample_digits(torch.full((64, 2), 0.25)), torch.full((2, 1, 32, 32), 0.25))
    with pytest.raises(ValueError, match=r"The 'X' parameter must be \(64, m\)"):
        upsample_digits(torch.zeros(32, 3))


def test_the_split_is_the_softmax_labs(images):
    assert (images.X_train.shape[0], images.X_dev.shape[0], images.X_test.shape[0]) == (1079, 359, 359)
    assert images.Y_train.dtype == torch.int64 and set(images.Y_dev.tolist()) == set(range(10))


@pytest.mark.parametrize("activation, pool_mode", [("tanh", "average"), ("relu", "max")])
def test_the_network_computes_what_the_lab_hand_written_layers_compute(images, activation, pool_mode):
    task = LeNetTraining(images, activation=activation, pool_mode=pool_mode)
    model, x = task.model, images.X_dev[:3].double()  # (3, 1, 32, 32)
    model.double()
    g = torch.tanh if activation == "tanh" else torch.relu
    pool = avg_pool2d if pool_mode == "average" else max_pool2d

    def conv(x, layer):
        return conv2d(x, layer[0].weight) + layer[0].bias[None, :, None, None]

    a = pool(g(conv(x, model.conv1)), 2)  # (3, 6, 14, 14)
    a = pool(g(conv(a, model.conv2)), 2).flatten(1)  # (3, 400)
    for name in ("fc3", "fc4"):
        a = g(a @ getattr(model, name)[1].weight.T + getattr(model, name)[1].bias)
    z = a @ model.fc5[1].weight.T + model.fc5[1].bias  # (3, 10)
    assert torch.allclose(model(x), z, atol=1e-12)
    assert sum(p.numel() for p in model.parameters()) == count_parameters(task.architecture) == 61_706


def test_initialization_suits_the_activation_and_is_seeded(images):
    tanh = LeNetTraining(images, activation="tanh", seed=3).model
    relu = LeNetTraining(images, activation="relu", seed=3).model
    fan_in = 6 * 5 * 5  # each conv2 filter reads 5×5 pixels of 6 maps
    assert tanh.conv2[0].weight.std().item() == pytest.approx(math.sqrt(1 / fan_in), rel=0.1)  # Xavier
    assert relu.conv2[0].weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)  # He
    assert relu.fc3[1].weight.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    biases = [m.bias.detach() for m in relu.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    assert len(biases) == 5 and all(float(b.abs().max()) == 0 for b in biases)
    again = LeNetTraining(images, activation="tanh", seed=3).model
    assert all(torch.equal(p, q) for p, q in zip(tanh.parameters(), again.parameters(), strict=True))
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="The 'activation' parameter"):
        initialize(tanh, "swish", generator)


def test_a_step_returns_the_cost_before_the_update_and_named_gradients(images):
    task = LeNetTraining(images, batch_size=64, seed=1)
    cost, grads = task.step()
    assert list(grads) == ["conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc3.W", "fc3.b", "fc4.W", "fc4.b",
                           "fc5.W", "fc5.b"]
    assert grads["conv1.W"].shape == (6, 1, 5, 5) and grads["fc5.W"].shape == (10, 84)
    assert cost.item() == pytest.approx(math.log(10), abs=0.3)  # ten classes, barely distinguishable at first
    assert task.steps_per_epoch == 17 and task.steps_done == 1


def test_filters_and_feature_maps_have_the_course_shapes(images):
    task = LeNetTraining(images)
    assert task.filters().shape == (6, 5, 5)
    assert torch.equal(task.filters(), task.model.conv1[0].weight[:, 0].detach())
    first, second = task.feature_maps(images.X_dev[0])
    assert first.shape == (6, 28, 28) and second.shape == (16, 10, 10)
    assert first.abs().max() <= 1 and second.abs().max() <= 1  # after tanh
    probabilities = task.predict_proba(images.X_dev[:5])
    assert probabilities.shape == (5, 10) and torch.allclose(probabilities.sum(1), torch.ones(5, dtype=torch.float32))


def test_filter_change_measures_how_far_the_first_layer_moved(images):
    task = LeNetTraining(images, seed=2)
    assert task.filter_change() == 0.0
    for _ in range(5):
        task.step()
    W, W0 = task.model.conv1[0].weight[:, 0].detach(), task.start_filters
    assert task.filter_change() == pytest.approx(((W - W0).norm() / W0.norm()).item()) and task.filter_change() > 0


def test_the_same_seed_trains_the_same_costs(images):
    runs = []
    for _ in range(2):
        task = LeNetTraining(images, seed=7)
        runs.append([task.step()[0].item() for _ in range(5)])
    assert runs[0] == runs[1]


def test_lenet5_reaches_97_percent_of_the_dev_digits(images):
    task = LeNetTraining(images)  # the dashboard's defaults: tanh, average pooling, α = 0.003, batch 32
    events = list(train(task, 15 * task.steps_per_epoch, eval_every=task.steps_per_epoch))
    evaluations = [e for e in events if isinstance(e, EvalEvent)]
    assert len(evaluations) == 15 == len(task.evaluations) == len(task.evaluation_seconds)
    assert task.evaluations[-1][1]["dev_accuracy"] >= 0.97
    epoch, seconds = task.reached(0.97)
    assert epoch <= 12 and 0 < seconds <= task.evaluation_seconds[-1]
    assert task.reached(1.01) is None


def test_bad_settings_are_refused_naming_the_parameter(images):
    with pytest.raises(ValueError, match="The 'lr' parameter"):
        LeNetTraining(images, lr=0.0)
    with pytest.raises(ValueError, match="The 'batch_size' parameter must be at most the number of examples"):
        LeNetTraining(images, batch_size=5000)
    with pytest.raises(ValueError, match="The 'pool_mode' parameter"):
        LeNetTraining(images, pool_mode="median")


def test_a_huge_learning_rate_diverges_in_words(images):
    task = LeNetTraining(images, lr=1.0, seed=0)
    events = list(train(task, 3 * task.steps_per_epoch))
    messages = [e.message for e in events if hasattr(e, "message")]
    assert messages and "try a smaller learning rate" in messages[0]
