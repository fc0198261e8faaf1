import pytest
import torch

from lab.activations import ACTIVATIONS, LEAKY_SLOPE, activation, dead_fraction, leaky_relu, relu

F64 = torch.float64


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_each_derivative_equals_autograd(name):
    g, g_prime = activation(name)
    z = torch.linspace(-6, 6, 241, dtype=F64)
    z = z[z != 0].clone().requires_grad_()  # away from ReLU's kink
    g(z).sum().backward()
    torch.testing.assert_close(g_prime(z.detach()), z.grad)


@pytest.mark.parametrize("name, reference", [
    ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu),
    ("leaky_relu", lambda z: torch.nn.functional.leaky_relu(z, 0.01)),
])
def test_each_function_equals_torch(name, reference):
    z = torch.randn(5, 7, dtype=F64, generator=torch.Generator().manual_seed(0)) * 4
    torch.testing.assert_close(activation(name)[0](z), reference(z))


def test_relu_gradient_is_zero_below_zero_not_undefined_and_leaky_keeps_a_slope():
    z = torch.tensor([-3.0, -1e-3, 0.0, 2.0], dtype=F64)
    assert activation("relu")[1](z).tolist() == [0.0, 0.0, 0.0, 1.0]  # 0 at the kink, like PyTorch
    assert activation("leaky_relu")[1](z).tolist() == [LEAKY_SLOPE, LEAKY_SLOPE, LEAKY_SLOPE, 1.0]
    zz = z.clone().requires_grad_()
    torch.nn.functional.leaky_relu(zz, LEAKY_SLOPE).sum().backward()
    assert zz.grad.tolist() == activation("leaky_relu")[1](z).tolist()  # PyTorch's choice at 0 too
    assert leaky_relu(torch.tensor(-2.0)).item() == pytest.approx(-0.02) and relu(torch.tensor(-2.0)).item() == 0


def test_sigmoid_derivative_peaks_at_a_quarter():
    g_prime = activation("sigmoid")[1]
    assert g_prime(torch.tensor(0.0)).item() == 0.25
    assert g_prime(torch.linspace(-10, 10, 101)).max().item() == 0.25


def test_dead_fraction_counts_units_negative_for_every_example():
    Z = torch.tensor([[-1.0, -2.0, -0.5], [1.0, -1.0, -1.0], [0.0, -3.0, -1.0], [2.0, 2.0, 2.0]])
    assert dead_fraction(Z) == 0.5  # rows 0 and 2


def test_unknown_activation_is_a_value_error():
    with pytest.raises(ValueError, match=r"The 'activation' parameter must be one of .* Got 'softsign' instead\."):
        activation("softsign")


@pytest.mark.parametrize("slope", [0.0, 0.05, 0.3, 1.0])
def test_leaky_relu_with_a_chosen_slope_equals_torch_and_autograd(slope):
    g, g_prime = activation("leaky_relu", slope)
    z = torch.linspace(-4, 4, 81, dtype=F64)
    z = z[z != 0].clone().requires_grad_()
    torch.testing.assert_close(g(z), torch.nn.functional.leaky_relu(z, slope))
    g(z).sum().backward()
    torch.testing.assert_close(g_prime(z.detach()), z.grad)
    assert g_prime(torch.tensor([-1.0], dtype=F64)).item() == slope


def test_slope_zero_is_relu_and_slope_one_is_the_identity():
    z = torch.linspace(-3, 3, 13, dtype=F64)
    torch.testing.assert_close(activation("leaky_relu", 0.0)[0](z), relu(z))
    torch.testing.assert_close(activation("leaky_relu", 1.0)[0](z), z)
    assert activation("leaky_relu", 1.0)[1](z).tolist() == [1.0] * 13  # no bend left: slope 1 everywhere


def test_the_default_slope_and_the_other_activations_are_unchanged():
    assert activation("leaky_relu") == ACTIVATIONS["leaky_relu"]  # callers that pass no slope get 0.01
    assert activation("tanh", 0.4) == ACTIVATIONS["tanh"]  # the slope concerns Leaky ReLU only


@pytest.mark.parametrize("slope", [-0.1, 1.5, float("nan")])
def test_a_slope_outside_zero_to_one_is_a_value_error(slope):
    with pytest.raises(ValueError, match=r"The 'leaky_slope' parameter must be"):
        activation("leaky_relu", slope)
