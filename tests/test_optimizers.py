"""Our update rules against hand-computed steps and against torch.optim, step for step in float64."""

import math

import pytest
import torch

from lab.optimizers import Adam, GradientDescent, Momentum, NotesRMSprop, RMSprop, TorchAdamUpdate, make_optimizer
from lab.optimizers import trajectory as walk_positions
from lab.seeding import make_generator


def problem(seed=0):
    """Two parameter tensors and a cost with uneven curvature: J = Σ c₁·w₁⁴/4 + Σ c₂·(w₂ − 1)²."""
    gen = make_generator(seed)
    w1 = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    w2 = torch.randn(4, generator=gen, dtype=torch.float64)
    c1 = torch.rand(3, 2, generator=gen, dtype=torch.float64) * 5
    c2 = torch.rand(4, generator=gen, dtype=torch.float64) * 20

    def cost(a, b):
        return (c1 * a**4 / 4).sum() + (c2 * (b - 1) ** 2).sum()
    return [w1, w2], cost


def trajectory(make, steps=25, seed=0, groups=False):
    """Positions of both tensors after each step when `make(params)` builds the optimizer."""
    start, cost = problem(seed)
    params = [p.clone().requires_grad_(True) for p in start]
    optimizer = make([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}] if groups else params)
    out = []
    for _ in range(steps):
        optimizer.zero_grad()
        cost(*params).backward()
        optimizer.step()
        out.append([p.detach().clone() for p in params])
    return out


def assert_same_path(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)


def test_gradient_descent_is_torch_sgd():
    assert_same_path(trajectory(lambda p: GradientDescent(p, lr=0.01)),
                     trajectory(lambda p: torch.optim.SGD(p, lr=0.01)))


def test_momentum_follows_the_hand_computed_average():
    # J = ½w² from w = 1 with α = 0.5, β = 0.5: dW = w each step.
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    optimizer = Momentum([w], lr=0.5, beta=0.5)
    # step 1: v = 0.5·0     + 0.5·1      = 0.5,     w = 1      − 0.5·0.5     = 0.75
    # step 2: v = 0.5·0.5   + 0.5·0.75   = 0.625,   w = 0.75   − 0.5·0.625   = 0.4375
    # step 3: v = 0.5·0.625 + 0.5·0.4375 = 0.53125, w = 0.4375 − 0.5·0.53125 = 0.171875
    expected_v, expected_w = [0.5, 0.625, 0.53125], [0.75, 0.4375, 0.171875]
    for v, after in zip(expected_v, expected_w, strict=True):
        optimizer.zero_grad()
        (0.5 * w**2).sum().backward()
        optimizer.step()
        assert optimizer.state[w]["v"].item() == pytest.approx(v)
        assert w.item() == pytest.approx(after)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_momentum_is_torch_sgd_with_the_rate_scaled_by_one_minus_beta(beta):
    """v_t = (1 − β)·b_t where b is torch's buffer, so Momentum(α, β) ≡ SGD(α·(1 − β), momentum=β)."""
    assert_same_path(trajectory(lambda p: Momentum(p, lr=0.02, beta=beta)),
                     trajectory(lambda p: torch.optim.SGD(p, lr=0.02 * (1 - beta), momentum=beta)))
    with pytest.raises(AssertionError):  # the same α in both forms is not the same optimizer
        assert_same_path(trajectory(lambda p: Momentum(p, lr=0.02, beta=beta)),
                         trajectory(lambda p: torch.optim.SGD(p, lr=0.02, momentum=beta)))


@pytest.mark.parametrize(("beta", "eps"), [(0.9, 1e-8), (0.99, 1e-3), (0.0, 1e-6)])
def test_rmsprop_matches_torch_step_for_step(beta, eps):
    assert_same_path(trajectory(lambda p: RMSprop(p, lr=0.01, beta=beta, eps=eps)),
                     trajectory(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=beta, eps=eps)))


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_adam_matches_torch_step_for_step(betas):
    assert_same_path(trajectory(lambda p: Adam(p, lr=0.01, betas=betas, eps=1e-8)),
                     trajectory(lambda p: torch.optim.Adam(p, lr=0.01, betas=betas, eps=1e-8)))


def test_adams_first_step_has_size_alpha_thanks_to_bias_correction():
    w = torch.tensor([3.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = Adam([w], lr=0.1)
    (w**2).sum().backward()
    optimizer.step()  # v̂ = dW, ŝ = dW², so the step is α·sign(dW) (up to ε)
    torch.testing.assert_close(w.detach(), torch.tensor([2.9, -1.9], dtype=torch.float64))


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_param_groups_with_their_own_rate_match_torch(name):
    ours = {"gd": lambda p: GradientDescent(p, lr=0.01), "momentum": lambda p: Momentum(p, lr=0.01, beta=0.9),
            "rmsprop": lambda p: RMSprop(p, lr=0.01), "adam": lambda p: Adam(p, lr=0.01)}[name]
    theirs = {"gd": lambda p: torch.optim.SGD(p, lr=0.01),
              "momentum": lambda p: torch.optim.SGD([{**g, "lr": g.get("lr", 0.01) * 0.1} for g in p], lr=0.001,
                                                    momentum=0.9),
              "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
              "adam": lambda p: torch.optim.Adam(p, lr=0.01)}[name]
    assert_same_path(trajectory(ours, groups=True), trajectory(theirs, groups=True))


def test_zero_grad_and_parameters_without_gradient():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)  # never gets a gradient: must be left alone
    optimizer = Adam([a, b], lr=0.1)
    (a**2).sum().backward()
    optimizer.step()
    assert torch.equal(b.detach(), torch.ones(2)) and not torch.equal(a.detach(), torch.ones(2))
    optimizer.zero_grad()
    assert a.grad is None


def test_rmsprop_gives_each_weight_its_own_learning_rate():
    w = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    optimizer = RMSprop([w], lr=0.01, beta=0.9)
    (torch.tensor([100.0, 0.01], dtype=torch.float64) * w).sum().backward()  # gradients 100 and 0.01
    optimizer.step()
    rates = optimizer.effective_lr(w)  # α / (√(0.1·dW²) + ε)
    assert rates[0].item() == pytest.approx(0.01 / (math.sqrt(0.1) * 100))
    assert rates[1].item() == pytest.approx(0.01 / (math.sqrt(0.1) * 0.01), rel=1e-5)
    assert rates[1] / rates[0] > 9000  # the weight with tiny gradients gets a huge rate
    adam = Adam([w], lr=0.01)
    assert adam.effective_lr(w)[0].item() == pytest.approx(0.01 / 1e-8)  # before any step: α/ε


def test_the_notes_rmsprop_makes_s_negative_and_the_step_nan():
    w = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer = NotesRMSprop([w], lr=0.01, beta=0.9, eps=1e-8)
    (w**2).sum().backward()  # dW = (2, 4)
    optimizer.step()
    s = optimizer.state[w]["s"]
    torch.testing.assert_close(s, torch.tensor([-0.4, -1.6], dtype=torch.float64))  # −(1 − β)·dW²
    assert torch.isnan(w).all()
    correct = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    good = RMSprop([correct], lr=0.01, beta=0.9, eps=1e-8)
    (correct**2).sum().backward()
    good.step()
    assert torch.isfinite(correct).all() and (good.state[correct]["s"] > 0).all()


@pytest.mark.parametrize(("build", "message"), [
    (lambda p: GradientDescent(p, lr=0.0), "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0.0 instead."),
    (lambda p: GradientDescent(p, lr=-0.1), "The 'lr' parameter must be in the range (1e-05, 10.0]. Got -0.1"),
    (lambda p: Momentum(p, lr=0.1, beta=1.0), "The 'beta' parameter must be in the range [0.0, 1.0). Got 1.0 instead."),
    (lambda p: Momentum(p, lr=0.1, beta=1.5), "The 'beta' parameter must be in the range [0.0, 1.0). Got 1.5"),
    (lambda p: RMSprop(p, lr=0.1, beta=1.0), "The 'beta' parameter must be in the range [0.0, 1.0). Got 1.0"),
    (lambda p: RMSprop(p, lr=0.1, eps=0.0), "The 'epsilon' parameter must be in the range (0.0, 1.0]. Got 0.0"),
    (lambda p: Adam(p, lr=0.1, betas=(1.0, 0.999)), "The 'beta1' parameter must be in the range [0.0, 1.0). Got 1.0"),
    (lambda p: Adam(p, lr=0.1, betas=(0.9, 1.0)), "The 'beta2' parameter must be in the range [0.0, 1.0). Got 1.0"),
    (lambda p: Adam(p, lr=0.1, betas=(0.9,)), "The 'betas' parameter must be a pair (β₁, β₂). Got (0.9,) instead."),
    (lambda p: Momentum([{"params": p, "beta": 1.0}], lr=0.1), "The 'beta' parameter must be in the range [0.0, 1.0)."),
    (lambda p: make_optimizer("sgd", p, lr=0.1), "The 'optimizer' parameter must be one of"),
])
def test_bad_settings_raise_value_errors_naming_the_parameter(build, message):
    with pytest.raises(ValueError) as error:
        build([torch.zeros(2, requires_grad=True)])
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(("name", "kind"), [("gd", GradientDescent), ("momentum", Momentum), ("rmsprop", RMSprop),
                                            ("adam", Adam)])
def test_make_optimizer_passes_on_only_the_settings_each_rule_uses(name, kind):
    optimizer = make_optimizer(name, [torch.zeros(2, requires_grad=True)], lr=0.1, beta=0.8, beta1=0.7, beta2=0.95,
                               eps=1e-6)
    assert type(optimizer) is kind
    expected = {"gd": {"lr": 0.1}, "momentum": {"lr": 0.1, "beta": 0.8},
                "rmsprop": {"lr": 0.1, "beta": 0.8, "eps": 1e-6},
                "adam": {"lr": 0.1, "betas": (0.7, 0.95), "eps": 1e-6}}[name]
    group = optimizer.param_groups[0]
    assert {key: value for key, value in group.items() if key != "params"} == expected


def test_make_optimizer_steps_with_the_settings_it_was_given():
    """One step from w = 0 with dW = 1: momentum moves α(1 − β); Adam's first step is α·v̂/(√ŝ + ε) = α/(1 + ε)."""
    for name, step in (("momentum", 0.1 * (1 - 0.8)), ("adam", 0.1 / (1 + 1e-6))):
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = make_optimizer(name, [w], lr=0.1, beta=0.8, beta1=0.7, beta2=0.95, eps=1e-6)
        w.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
        assert w.item() == pytest.approx(-step, rel=1e-12), name


def test_make_optimizer_refuses_a_bad_setting_it_would_not_use():
    with pytest.raises(ValueError, match="The 'beta1' parameter must be in the range"):
        make_optimizer("gd", [torch.zeros(2, requires_grad=True)], lr=0.1, beta1=1.5)
    with pytest.raises(ValueError, match="The 'beta' parameter must be finite"):
        make_optimizer("adam", [torch.zeros(2, requires_grad=True)], lr=0.1, beta=float("nan"))


def test_trajectory_compares_any_two_optimizers():
    def bowl(w):
        return (w**2).sum()
    ours = walk_positions(lambda w: RMSprop(w, lr=0.1), bowl, [1.0, -3.0], steps=5)
    theirs = walk_positions(lambda w: torch.optim.RMSprop(w, lr=0.1, alpha=0.9), bowl, [1.0, -3.0], steps=5)
    assert len(ours) == 5 and len(ours[0]) == 2
    torch.testing.assert_close(torch.tensor(ours), torch.tensor(theirs), rtol=1e-12, atol=1e-12)
    gd = walk_positions(lambda w: GradientDescent(w, lr=0.25), bowl, [1.0], steps=2)
    assert gd == [[0.5], [0.25]]  # w := w − 0.25·2w


def test_torch_adam_update_takes_the_steps_of_torch_optim_adam():
    """Notebook 07 compares the course's Adam with PyTorch's update function at load: that function must take the
    same steps as the `torch.optim.Adam` class, on two tensors of different shapes, with non-default settings."""
    cost = lambda ws: (ws[0] ** 2).sum() + 10 * (ws[1] ** 4).sum()  # noqa: E731
    runs = []
    for build in (lambda ws: torch.optim.Adam(ws, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
                  lambda ws: TorchAdamUpdate(ws, lr=0.05, betas=(0.8, 0.99), eps=1e-6)):
        ws = [torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True),
              torch.tensor([[0.5], [-0.3]], dtype=torch.float64, requires_grad=True)]
        optimizer = build(ws)
        for _ in range(25):
            optimizer.zero_grad()
            cost(ws).backward()
            optimizer.step()
        runs.append([w.detach().clone() for w in ws])
    for theirs, ours in zip(*runs, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    assert not torch.equal(runs[1][0], torch.tensor([1.0, -2.0], dtype=torch.float64))  # it moved
    with pytest.raises(ValueError, match="'lr'"):
        TorchAdamUpdate([torch.zeros(1)], lr=-1.0)


def test_the_course_optimizers_never_import_torch_dynamo():
    """torch's own `add_param_group` and `zero_grad` import torch._dynamo on first use (1.2 s here): a dashboard's
    first run would pay it before its first point. The course's optimizers, and the labs that train with them,
    must not."""
    import subprocess
    import sys

    code = ("import sys, torch\nfrom lab.optimizers import make_optimizer\nfrom lab.recall_task import RecallTraining\n"
            "from lab.name_model import NameTraining\n"
            "p = [torch.nn.Parameter(torch.zeros(3))]\n"
            "for name in ('gd', 'momentum', 'rmsprop', 'adam'):\n"
            "    o = make_optimizer(name, p, lr=0.1); o.zero_grad(); p[0].grad = torch.ones(3); o.step()\n"
            "RecallTraining('lstm', 3).step(); NameTraining('gru', hidden_size=4).step()\n"
            "from lab.loss_surface import elongated_bowl\nfrom lab.optimizers import TorchAdamUpdate, trajectory\n"
            "trajectory(lambda w: TorchAdamUpdate(w, lr=0.1), elongated_bowl, [3.0, -2.0], steps=2)\n"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
