import math

import pytest
import torch

from lab.data.two_features import make_two_features
from lab.normalization import (
    RECIPES,
    TOLERANCE,
    GradientWalk,
    ScaleComparison,
    ShiftExperiment,
    cost_grid,
    curvature_ratio,
    fit_logistic,
    fit_normalizer,
    make_bowl,
    normalize,
    notes_normalize,
    recipe_report,
    steps_to_reach,
)
from lab.seeding import make_generator
from lab.training import StepEvent, train

F64 = torch.float64
X_HAND = torch.tensor([[1.0, 2.0, 3.0], [100.0, 300.0, 500.0]], dtype=F64)  # the notebook's worked example


def random_inputs(n=4, m=50, seed=0):
    gen = make_generator(seed)
    scales = torch.tensor([[1.0], [10.0], [0.01], [300.0]], dtype=F64)[:n]
    return torch.randn(n, m, generator=gen, dtype=F64) * scales + 5.0


def bce_cost(theta, X, Y):
    """The logistic cost through torch's own loss, for autograd; theta = (w₁, …, w_n, b)."""
    return torch.nn.functional.binary_cross_entropy_with_logits(theta[:-1] @ X + theta[-1], Y[0])


# ---------------------------------------------------------------- the recipe


def test_mean_and_spread_match_hand_computed_values():
    mu, sigma = fit_normalizer(X_HAND)
    assert mu.shape == sigma.shape == (2, 1)
    torch.testing.assert_close(mu, torch.tensor([[2.0], [300.0]], dtype=F64))
    # σ² = (1/m)Σ(x − μ)², dividing by m = 3: (1 + 0 + 1)/3 and (200² + 0 + 200²)/3
    torch.testing.assert_close(sigma, torch.tensor([[math.sqrt(2 / 3)], [math.sqrt(80000 / 3)]], dtype=F64))
    expected = torch.tensor([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]], dtype=F64) * math.sqrt(1.5)
    torch.testing.assert_close(normalize(X_HAND, mu, sigma), expected)


def test_a_dev_example_is_normalized_with_the_training_numbers():
    mu, sigma = fit_normalizer(X_HAND)
    x_dev = torch.tensor([[4.0], [300.0]], dtype=F64)
    torch.testing.assert_close(normalize(x_dev, mu, sigma), torch.tensor([[2 * math.sqrt(1.5)], [0.0]], dtype=F64))


def test_statistics_match_torch_std_mean_and_normalize_matches_batch_norm():
    X = random_inputs()
    mu, sigma = fit_normalizer(X)
    std, mean = torch.std_mean(X, dim=1, keepdim=True, correction=0)
    torch.testing.assert_close(mu, mean)
    torch.testing.assert_close(sigma, std)
    # batch norm over a batch of m examples (m, n), without γ, β and with a negligible ε (torch refuses 0), is the
    # same per-feature recipe
    reference = torch.nn.functional.batch_norm(X.T, None, None, training=True, eps=1e-15).T
    torch.testing.assert_close(normalize(X, mu, sigma), reference)
    layer = torch.nn.BatchNorm1d(X.shape[0], eps=1e-15, affine=False, dtype=F64).train()
    torch.testing.assert_close(normalize(X, mu, sigma), layer(X.T).T.detach())


def test_normalized_training_features_have_mean_zero_and_spread_one():
    X = random_inputs(m=200, seed=3)
    Xn = normalize(X, *fit_normalizer(X))
    torch.testing.assert_close(Xn.mean(dim=1), torch.zeros(4, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(Xn.std(dim=1, correction=0), torch.ones(4, dtype=F64))


def test_normalizing_treats_every_example_on_its_own():
    """With fixed μ, σ an example's normalized value does not depend on which other examples come with it."""
    X = random_inputs(m=30, seed=1)
    mu, sigma = fit_normalizer(X)
    torch.testing.assert_close(normalize(X[:, 7:8], mu, sigma), normalize(X, mu, sigma)[:, 7:8])


def test_a_constant_feature_is_refused_by_row():
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [0.0, 1.0, 0.0]], dtype=F64)
    with pytest.raises(ValueError, match=r"The 'X' parameter has constant features \(rows \[1\]\): σ = 0"):
        fit_normalizer(X)


@pytest.mark.parametrize(("X", "message"), [
    (torch.ones(3, dtype=F64), r"The 'X' parameter must be a 2-D float tensor of shape \(n, m\). Got shape \(3,\)"),
    (torch.ones(2, 3, dtype=torch.int64), r"The 'X' parameter must be a 2-D float tensor .* torch.int64"),
    ([[1.0, 2.0]], r"The 'X' parameter must be a 2-D float tensor .* Got \[\[1.0, 2.0\]\] instead"),
    (torch.tensor([[1.0, math.nan]], dtype=F64), r"The 'X' parameter must hold only finite values"),
    (torch.tensor([[1.0], [2.0]], dtype=F64), r"The 'X' parameter needs m ≥ 2 examples .* Got shape \(2, 1\)"),
])
def test_fit_normalizer_names_bad_input(X, message):
    with pytest.raises(ValueError, match=message):
        fit_normalizer(X)


@pytest.mark.parametrize(("mu", "sigma", "message"), [
    (torch.zeros(2, dtype=F64), torch.ones(2, 1, dtype=F64),
     r"The 'mu' parameter must have shape \(n, 1\) = \(2, 1\) for X of shape \(2, 3\). Got shape \(2,\)"),
    (torch.zeros(2, 1, dtype=F64), torch.ones(3, 1, dtype=F64), r"The 'sigma' parameter must have shape \(n, 1\)"),
    (torch.zeros(2, 1, dtype=F64), 1.0, r"The 'sigma' parameter must have shape .* Got 1.0 instead"),
    (torch.zeros(2, 1, dtype=F64), torch.tensor([[1.0], [0.0]], dtype=F64),
     r"The 'sigma' parameter must be > 0 for every feature. Got \[1.0, 0.0\]"),
    (torch.tensor([[0.0], [math.inf]], dtype=F64), torch.ones(2, 1, dtype=F64), r"The 'mu' parameter must be finite"),
])
def test_normalize_names_bad_statistics(mu, sigma, message):
    with pytest.raises(ValueError, match=message):
        normalize(X_HAND, mu, sigma)


def test_the_notes_recipe_divides_by_the_mean_and_leaves_means_of_one():
    result = notes_normalize(X_HAND)
    torch.testing.assert_close(result, torch.tensor([[0.5, 1.0, 1.5], [1 / 3, 1.0, 5 / 3]], dtype=F64))
    X = random_inputs(m=100, seed=2)
    out = notes_normalize(X)
    torch.testing.assert_close(out.mean(dim=1), torch.ones(4, dtype=F64))
    # the spreads become σ/|μ| (the coefficient of variation), not 1; a negative mean flips the feature's sign
    std, mean = torch.std_mean(X, dim=1, correction=0)
    assert (mean < 0).any() and (mean > 0).any()
    torch.testing.assert_close(out.std(dim=1, correction=0), std / mean.abs())
    torch.testing.assert_close(out[3], X[3] / mean[3])


def test_the_notes_recipe_refuses_a_zero_mean():
    with pytest.raises(ValueError, match=r"The 'X' parameter has features with mean 0 \(rows \[0\]\)"):
        notes_normalize(torch.tensor([[-1.0, 1.0], [2.0, 3.0]], dtype=F64))


# ---------------------------------------------------------------- the cost and its curvature


def test_curvature_ratio_is_the_eigenvalue_ratio_of_the_autograd_hessian_at_the_start():
    X = random_inputs(n=3, m=40, seed=4)
    Y = (torch.rand(1, 40, generator=make_generator(5), dtype=F64) > 0.5).to(F64)
    H = torch.autograd.functional.hessian(lambda t: bce_cost(t, X, Y), torch.zeros(4, dtype=F64))
    Xt = torch.cat([X, torch.ones(1, 40, dtype=F64)])
    torch.testing.assert_close(H, Xt @ Xt.T / (4 * 40))  # σ′(0) = ¼
    eig = torch.linalg.eigvalsh(H)
    assert curvature_ratio(X) == pytest.approx((eig[-1] / eig[0]).item(), rel=1e-6)


def test_scaling_a_feature_by_s_multiplies_the_curvature_ratio_by_about_s_squared():
    X, _ = make_two_features(2000, scale=1.0, seed=0)
    base = curvature_ratio(X)
    assert base < 1.3
    for s in (10.0, 100.0):
        X, _ = make_two_features(2000, scale=s, seed=0)
        assert curvature_ratio(X) == pytest.approx(s**2, rel=0.15)


def test_newton_finds_the_point_where_the_autograd_gradient_vanishes():
    X, Y = make_two_features(300, scale=30.0, seed=1)
    w, b, cost = fit_logistic(X, Y)
    theta = torch.cat([w.flatten(), b.reshape(1)]).requires_grad_()
    J = bce_cost(theta, X, Y)
    J.backward()
    assert cost == pytest.approx(J.item(), rel=1e-12)
    assert theta.grad.abs().max() < 1e-9
    # convex: any nearby point costs more
    for direction in torch.eye(3, dtype=F64):
        assert bce_cost(theta.detach() + 1e-3 * direction, X, Y) > J


def test_bowl_hessian_and_steepest_curvature_match_autograd():
    X, Y = make_two_features(200, scale=5.0, seed=2)
    bowl = make_bowl(X, Y)
    best = torch.cat([bowl.w_best.flatten(), bowl.b_best.reshape(1)])
    H = torch.autograd.functional.hessian(lambda t: bce_cost(t, X, Y), best)
    torch.testing.assert_close(bowl.hessian, H)
    H0 = torch.autograd.functional.hessian(lambda t: bce_cost(t, X, Y), torch.zeros(3, dtype=F64))
    assert bowl.steepest == pytest.approx(torch.linalg.eigvalsh(H0)[-1].item(), rel=1e-9)
    gen = make_generator(3)
    for _ in range(5):  # nowhere is the cost steeper than at the start: σ′ ≤ ¼
        point = torch.randn(3, generator=gen, dtype=F64) * 2
        H = torch.autograd.functional.hessian(lambda t: bce_cost(t, X, Y), point)
        assert torch.linalg.eigvalsh(H)[-1] <= bowl.steepest * (1 + 1e-12)


def test_cost_grid_matches_the_cost_at_each_point():
    X, Y = make_two_features(100, scale=3.0, seed=0)
    bowl = make_bowl(X, Y)
    w1, w2 = torch.tensor([-1.0, 0.0, 2.0], dtype=F64), torch.tensor([0.5, 1.5], dtype=F64)
    grid = cost_grid(bowl, w1, w2)
    assert grid.shape == (2, 3)  # rows follow w₂
    theta = torch.tensor([2.0, 1.5, bowl.b_best.item()], dtype=F64)
    assert grid[1, 2].item() == pytest.approx(bce_cost(theta, X, Y).item(), rel=1e-12)


def test_a_gradient_walk_takes_the_steps_torch_sgd_takes():
    X, Y = make_two_features(120, scale=4.0, seed=5)
    bowl = make_bowl(X, Y)
    walk = GradientWalk(bowl, 0.05)
    theta = torch.zeros(3, dtype=F64, requires_grad=True)
    sgd = torch.optim.SGD([theta], lr=0.05)
    for _ in range(15):
        cost, grads = walk.step()
        sgd.zero_grad()
        reference = bce_cost(theta, X, Y)
        reference.backward()
        torch.testing.assert_close(cost, reference.detach())  # the cost before the update
        torch.testing.assert_close(grads["w"].flatten(), theta.grad[:2])
        sgd.step()
    torch.testing.assert_close(walk.w.flatten(), theta.detach()[:2])
    torch.testing.assert_close(walk.b, theta.detach()[2])
    assert len(walk.path) == 16 and walk.path[0] == (0.0, 0.0)
    assert walk.path[-1] == pytest.approx(tuple(theta.detach()[:2].tolist()))


@pytest.mark.parametrize("alpha", [0, -1.0, math.nan, math.inf, "0.1", True])
def test_a_walk_refuses_a_bad_alpha(alpha):
    bowl = make_bowl(*make_two_features(20, seed=0))
    with pytest.raises(ValueError, match=r"The 'alpha' parameter must be a finite number > 0"):
        GradientWalk(bowl, alpha)


def test_steps_to_reach_counts_the_steps_before_the_first_low_enough_cost():
    assert steps_to_reach([0.9, 0.5, 0.3, 0.2], 0.3) == 2
    assert steps_to_reach([0.2], 0.3) == 0
    assert steps_to_reach([0.9, 0.5], 0.3) is None


# ---------------------------------------------------------------- raw against normalized


def walk_costs(walk, steps):
    return [e.cost for e in train(walk, steps, blowup_ratio=None) if isinstance(e, StepEvent)]


def test_normalizing_keeps_the_lowest_cost_and_the_target_is_a_tolerance_above_it():
    comparison = ScaleComparison(feature_scale=30.0, step_fraction=0.5)
    raw, normalized = comparison.bowls.values()
    assert raw.best_cost == pytest.approx(normalized.best_cost, abs=1e-10)
    assert comparison.target == pytest.approx(raw.best_cost + TOLERANCE)
    for label, bowl in comparison.bowls.items():
        assert comparison.alphas[label] == pytest.approx(0.5 / bowl.steepest)
    assert raw.kappa > 500 and normalized.kappa < 1.3


def test_normalized_features_reach_the_target_in_a_few_steps_raw_ones_need_hundreds():
    comparison = ScaleComparison(feature_scale=10.0, step_fraction=1.0)
    walks = comparison.walks
    normalized = steps_to_reach(walk_costs(walks["normalized features"], 50), comparison.target)
    raw = steps_to_reach(walk_costs(walks["raw features"], 2000), comparison.target)
    assert normalized is not None and normalized <= 10
    assert raw is not None and raw > 20 * normalized


def test_equal_scales_make_normalizing_pointless():
    comparison = ScaleComparison(feature_scale=1.0)
    reached = [steps_to_reach(walk_costs(w, 50), comparison.target) for w in comparison.walks.values()]
    assert reached[0] is not None and abs(reached[0] - reached[1]) <= 1


@pytest.mark.parametrize(("scale", "steps_done"), [(10.0, 200), (30.0, 1000)])
def test_the_step_estimate_is_within_a_factor_of_two(scale, steps_done):
    comparison = ScaleComparison(feature_scale=scale)
    walk = comparison.walks["raw features"]
    costs = walk_costs(walk, steps_done)
    assert steps_to_reach(costs, comparison.target) is None
    estimate = walk.estimated_steps(comparison.target)
    costs += walk_costs(walk, 20_000)
    actual = steps_to_reach(costs, comparison.target)
    assert actual is not None and actual / 2 <= estimate <= 2 * actual


def test_the_estimate_of_a_walk_already_there_is_its_step_count():
    comparison = ScaleComparison(feature_scale=1.0)
    walk = comparison.walks["normalized features"]
    walk_costs(walk, 40)
    assert walk.estimated_steps(comparison.target) == 40


def test_the_normalized_cost_is_the_same_for_every_scale_ratio():
    """x₂ = S·z₂ normalized is z₂ normalized: S disappears."""
    a, b = ScaleComparison(feature_scale=3.0), ScaleComparison(feature_scale=700.0)
    torch.testing.assert_close(a.bowls["normalized features"].X, b.bowls["normalized features"].X)


def test_contours_share_one_square_window_and_resolve_the_narrow_valley():
    comparison = ScaleComparison(feature_scale=100.0)
    grids = comparison.contours(points=41)
    (w1_raw, w2_raw, z_raw), (w1_norm, w2_norm, z_norm) = grids.values()
    assert w1_raw == w1_norm and len(w1_raw) == 41
    assert z_raw.shape == (len(w2_raw), 41) and z_norm.shape == (len(w2_norm), 41)
    assert w2_raw[0] == pytest.approx(w2_norm[0]) and w2_raw[-1] == pytest.approx(w2_norm[-1])
    assert w1_raw[-1] - w1_raw[0] == pytest.approx(w2_raw[-1] - w2_raw[0])  # square
    w2_best = comparison.bowls["raw features"].w_best[1, 0].item()
    near_floor = [w for w in w2_raw if abs(w - w2_best) < 5 / 100.0]
    assert len(near_floor) >= 10  # a uniform grid of 41 rows would have none or one there
    assert z_raw.min() < -2 and z_norm.min() < -2  # log₁₀(J − J_min + 10⁻³) reaches near −3 by the minimum
    for w1, w2, _ in grids.values():  # both minima and the start lie inside
        for bowl in comparison.bowls.values():
            assert w1[0] < bowl.w_best[0, 0] < w1[-1] and w2[0] < bowl.w_best[1, 0] < w2[-1]
        assert w1[0] < 0 < w1[-1] and w2[0] < 0 < w2[-1]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"feature_scale": 0.5}, r"The 'feature_scale' parameter must be in the range \[1.0, 1000.0\]. Got 0.5"),
    ({"step_fraction": 2.0}, r"The 'step_fraction' parameter must be in the range \[0.01, 2.0\). Got 2.0"),
    ({"step_fraction": 0}, r"The 'step_fraction' parameter must be in the range \[0.01, 2.0\). Got 0"),
    ({"seed": -1}, r"The 'seed' parameter"),
])
def test_scale_comparison_names_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScaleComparison(**kwargs)


# ---------------------------------------------------------------- dev sets


def test_without_a_shift_both_ways_of_normalizing_the_dev_set_agree():
    _, scores = ShiftExperiment().dev_scores(0.0)
    assert abs(scores["training"].accuracy - scores["own"].accuracy) < 0.03


def test_the_dev_sets_own_statistics_hide_a_shift_and_mislead_its_accuracy():
    experiment = ShiftExperiment()
    Y, scores = experiment.dev_scores(1.5)
    train, own = scores["training"], scores["own"]
    assert own.mean == pytest.approx((0.0, 0.0), abs=1e-12)
    assert train.mean[1] == pytest.approx(1.5, abs=0.3)  # the shift, in training standard deviations
    assert train.accuracy > own.accuracy + 0.15  # about 90% against 68%
    assert own.cost > 2 * train.cost
    X, _ = experiment.dev_set(1.5)
    torch.testing.assert_close(train.X, (X - experiment.mu) / experiment.sigma)
    assert Y.shape == (1, 200)


def test_the_model_is_fitted_on_normalized_training_data():
    experiment = ShiftExperiment()
    torch.testing.assert_close(experiment.X_train.mean(dim=1), torch.zeros(2, dtype=F64), atol=1e-12, rtol=0)
    assert 0.75 < experiment.train_accuracy < 0.95
    P = experiment.probabilities(torch.tensor([0.0], dtype=F64), torch.tensor([0.0], dtype=F64))
    assert P.item() == pytest.approx(torch.sigmoid(experiment.b).item())


@pytest.mark.parametrize("shift", [5.5, math.nan, "1"])
def test_a_bad_dev_shift_is_named(shift):
    with pytest.raises(ValueError, match=r"The 'dev_shift' parameter"):
        ShiftExperiment().dev_scores(shift)


# ---------------------------------------------------------------- recipes on real tables


@pytest.mark.parametrize("table", ["wine", "breast_cancer"])
def test_each_recipe_leaves_what_it_should(table):
    report = recipe_report(table)
    assert set(report) == set(RECIPES)
    course, notes, raw = report["course"], report["notes"], report["raw"]
    assert course.spreads == pytest.approx([1.0] * len(course.spreads))
    assert course.means == pytest.approx([0.0] * len(course.means), abs=1e-9)
    assert notes.means == pytest.approx([1.0] * len(notes.means))
    assert notes.spreads == pytest.approx([s / m for s, m in zip(raw.spreads, raw.means, strict=True)])
    assert raw.kappa > 100 * notes.kappa and notes.kappa > 30 * course.kappa


def test_the_wine_table_numbers_the_notebook_quotes():
    report = recipe_report("wine")
    assert min(report["raw"].spreads) == pytest.approx(0.124, abs=5e-4)
    assert max(report["raw"].spreads) == pytest.approx(314.0, abs=0.5)
    assert report["course"].kappa == pytest.approx(46, abs=1)


def test_an_unknown_table_is_named():
    with pytest.raises(ValueError, match=r"The 'feature_table' parameter must be one of \['wine', 'breast_cancer'\]"):
        recipe_report("iris")
