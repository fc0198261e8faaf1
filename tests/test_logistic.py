import pytest
import torch

from lab.data.faces import load_faces
from lab.data.split import split_columns
from lab.logistic import (
    LogisticRegression,
    accuracy,
    cost_along_line,
    cross_entropy_cost,
    forward,
    misclassified,
    negative_curvature_fraction,
    predict,
    propagate,
    sigmoid,
    squared_error_cost,
    stable_cross_entropy_cost,
)
from lab.training import DoneEvent, train

F64 = torch.float64


def course_example():
    w = torch.tensor([[1.0], [2.0]], dtype=F64)
    b = torch.tensor(2.0, dtype=F64)
    X = torch.tensor([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]], dtype=F64)
    Y = torch.tensor([[1.0, 0.0, 1.0]], dtype=F64)
    return w, b, X, Y


def test_propagate_on_the_course_worked_example():
    grads, cost = propagate(*course_example())
    assert cost.item() == pytest.approx(5.801545, abs=1e-6)
    assert grads["dw"].flatten().tolist() == pytest.approx([0.998456, 2.395072], abs=1e-6)
    assert grads["db"].item() == pytest.approx(0.001456, abs=1e-6)
    assert grads["dw"].shape == (2, 1) and grads["db"].shape == ()


def random_problem(seed, n=5, m=7):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n, 1, generator=gen, dtype=F64)
    b = torch.randn((), generator=gen, dtype=F64)
    X = torch.randn(n, m, generator=gen, dtype=F64)
    Y = (torch.rand(1, m, generator=gen, dtype=F64) > 0.5).to(F64)
    return w, b, X, Y


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
@pytest.mark.parametrize("seed", range(5))
def test_hand_written_gradients_equal_autograd(loss, seed):
    w, b, X, Y = random_problem(seed)
    grads, cost = propagate(w, b, X, Y, loss)
    w_, b_ = w.clone().requires_grad_(), b.clone().requires_grad_()
    A = torch.sigmoid(w_.T @ X + b_)
    if loss == "cross_entropy":
        reference = torch.nn.functional.binary_cross_entropy(A, Y)
    else:
        reference = (0.5 * (A - Y) ** 2).mean()
    reference.backward()
    torch.testing.assert_close(cost, reference.detach())
    torch.testing.assert_close(grads["dw"], w_.grad)
    torch.testing.assert_close(grads["db"], b_.grad)


def test_sigmoid_matches_torch_and_known_values():
    z = torch.linspace(-30, 30, 61, dtype=F64)
    torch.testing.assert_close(sigmoid(z), torch.sigmoid(z))
    assert sigmoid(torch.tensor(0.0)).item() == 0.5


def test_stable_cost_equals_textbook_cost_and_stays_finite_when_sigmoid_saturates():
    _, _, X, Y = random_problem(1)
    Z = torch.randn(1, 7, dtype=F64)
    torch.testing.assert_close(stable_cross_entropy_cost(Z, Y), cross_entropy_cost(sigmoid(Z), Y))
    Z32 = torch.tensor([[40.0, -40.0]])  # σ rounds to exactly 1 and 0 in float32
    Y32 = torch.tensor([[1.0, 0.0]])
    assert torch.isnan(cross_entropy_cost(sigmoid(Z32), Y32))  # the textbook form: 0·log 0
    assert stable_cross_entropy_cost(Z32, Y32).item() == pytest.approx(0.0, abs=1e-12)


def test_squared_error_is_half_mean_square():
    A = torch.tensor([[0.9, 0.2]], dtype=F64)
    Y = torch.tensor([[1.0, 0.0]], dtype=F64)
    assert squared_error_cost(A, Y).item() == pytest.approx((0.5 * 0.01 + 0.5 * 0.04) / 2)


def test_predict_accuracy_and_misclassified_order():
    w = torch.tensor([[1.0]], dtype=F64)
    b = torch.tensor(0.0, dtype=F64)
    X = torch.tensor([[3.0, -1.0, 0.5, -4.0]], dtype=F64)
    Y = torch.tensor([[1.0, 1.0, 0.0, 1.0]], dtype=F64)
    assert predict(w, b, X).tolist() == [[1.0, 0.0, 1.0, 0.0]]
    assert accuracy(w, b, X, Y) == 0.25
    assert misclassified(w, b, X, Y).tolist() == [3, 1, 2]  # most confidently wrong first
    assert forward(w, b, X).shape == (1, 4)


def test_cost_along_line_equals_propagate_cost_at_each_point():
    _, _, X, Y = random_problem(2)
    direction = torch.randn(5, dtype=F64)
    ts = torch.tensor([-2.0, 0.0, 0.5, 3.0], dtype=F64)
    zero = torch.tensor(0.0, dtype=F64)
    for loss in ("cross_entropy", "squared_error"):
        line = cost_along_line(X, Y, direction, ts, loss)
        expected = [propagate(t * direction.reshape(-1, 1), zero, X, Y, loss)[1].item() for t in ts]
        assert line.tolist() == pytest.approx(expected)


def test_negative_curvature_fraction():
    t = torch.linspace(-1, 1, 11, dtype=F64)
    assert negative_curvature_fraction(t**2) == 0.0
    assert negative_curvature_fraction(-(t**2)) == 1.0
    assert negative_curvature_fraction(t) == 0.0  # a straight line does not bend


def test_cross_entropy_is_convex_and_squared_error_is_not_on_the_faces():
    data = load_faces(dtype=F64)
    direction = torch.randn(data.X_train.shape[0], generator=torch.Generator().manual_seed(1), dtype=F64)
    ts = torch.linspace(-3, 3, 201, dtype=F64)
    ce = cost_along_line(data.X_train, data.Y_train, direction / direction.norm(), ts, "cross_entropy")
    se = cost_along_line(data.X_train, data.Y_train, direction / direction.norm(), ts, "squared_error")
    assert negative_curvature_fraction(ce) == 0.0
    assert negative_curvature_fraction(se) > 0.1


def test_one_step_is_the_gradient_descent_update():
    w, b, X, Y = random_problem(3)
    data = split_columns(X, Y, 0.3, seed=0, class_names=("0", "1"))
    model = LogisticRegression(data, lr=0.1)
    grads, _ = propagate(model.w, model.b, data.X_train, data.Y_train)
    model.step()
    torch.testing.assert_close(model.w, -0.1 * grads["dw"])
    torch.testing.assert_close(model.b, -0.1 * grads["db"])


def test_vector_learning_rate_scales_each_feature():
    w, b, X, Y = random_problem(4, n=2)
    data = split_columns(X, Y, 0.3, seed=0, class_names=("0", "1"))
    rates = torch.tensor([[0.1], [2.0]], dtype=F64)
    model = LogisticRegression(data, lr=rates, lr_bias=0.5)
    grads, _ = propagate(model.w, model.b, data.X_train, data.Y_train)
    model.step()
    torch.testing.assert_close(model.w, -rates * grads["dw"])
    torch.testing.assert_close(model.b, -0.5 * grads["db"])


def test_bad_learning_rates_raise_value_errors():
    data = split_columns(*random_problem(5, n=2)[2:], 0.3, seed=0, class_names=("0", "1"))
    with pytest.raises(ValueError, match="The 'lr' parameter must be in the range"):
        LogisticRegression(data, lr=-0.1)
    with pytest.raises(ValueError, match=r"The 'lr' parameter as a vector must have shape \(2, 1\)"):
        LogisticRegression(data, lr=torch.ones(3, 1, dtype=F64))
    with pytest.raises(ValueError, match="The 'lr' parameter as a vector must be finite and > 0"):
        LogisticRegression(data, lr=torch.tensor([[0.1], [-1.0]], dtype=F64))
    with pytest.raises(ValueError, match="The 'loss' parameter must be one of"):
        LogisticRegression(data, lr=0.1, loss="hinge")


def test_training_on_faces_learns_and_a_huge_rate_diverges():
    data = load_faces()
    good = list(train(LogisticRegression(data, 0.05), 500))
    assert good[-1].metrics["test_accuracy"] >= 0.9
    bad = list(train(LogisticRegression(data, 5.0), 500))
    assert isinstance(bad[-1], DoneEvent) and bad[-1].steps < 10


@pytest.mark.gpu
def test_training_runs_on_cuda_and_matches_cpu():
    cpu = load_faces(dtype=F64)
    gpu = cpu.to("cuda")
    model_cpu, model_gpu = LogisticRegression(cpu, 0.05), LogisticRegression(gpu, 0.05)
    list(train(model_cpu, 200))
    events = list(train(model_gpu, 200))
    assert model_gpu.w.device.type == "cuda"
    torch.testing.assert_close(model_gpu.w.cpu(), model_cpu.w)
    assert events[-1].metrics["test_accuracy"] >= 0.9
