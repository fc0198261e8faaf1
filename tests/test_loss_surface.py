import math

import pytest
import torch

from lab.loss_surface import SURFACES, SurfaceWalk, banana_valley, elongated_bowl, get_surface
from lab.training import DivergedEvent, StepEvent, train


def test_the_surfaces_have_their_minimum_where_they_say():
    for surface in SURFACES.values():
        assert surface.cost(torch.tensor(surface.minimum, dtype=torch.float64)).item() == 0.0
        w = torch.tensor(surface.minimum, dtype=torch.float64, requires_grad=True)
        surface.cost(w).backward()
        assert torch.equal(w.grad, torch.zeros(2, dtype=torch.float64))
    assert elongated_bowl(torch.tensor([1.0, 0.0])).item() == pytest.approx(0.05)
    assert elongated_bowl(torch.tensor([0.0, 1.0])).item() == pytest.approx(2.5)  # 50× steeper across
    assert banana_valley(torch.tensor([0.0, 0.0])).item() == 1.0


def test_the_grid_is_laid_out_rows_w2_columns_w1():
    w1, w2, z = get_surface("bowl").grid(points=5)
    assert len(w1) == len(w2) == 5 and z.shape == (5, 5)
    assert z[0, 0].item() == pytest.approx(elongated_bowl(torch.tensor([w1[0], w2[0]])).item())
    assert z[4, 0].item() == pytest.approx(elongated_bowl(torch.tensor([w1[0], w2[4]])).item())
    _, _, log_z = get_surface("bowl").grid(points=5, log=True)
    torch.testing.assert_close(log_z, torch.log10(z + 1e-3))


def test_an_unknown_surface_is_refused():
    with pytest.raises(ValueError, match=r"The 'surface' parameter must be one of \['bowl', 'banana'\]. Got 'x'"):
        get_surface("x")


def walk(name, steps=100, surface="bowl", **settings):
    settings.setdefault("lr", SURFACES[surface].lr)
    w = SurfaceWalk(get_surface(surface), name, **settings)
    events = list(train(w, steps))
    return w, events


def test_the_path_starts_at_the_start_and_records_every_step():
    w, events = walk("gd", steps=10)
    assert w.path[0] == (-9.0, 1.5) and len(w.path) == 11
    assert w.path[1] == pytest.approx((-9.0 * (1 - 0.35 * 0.1), 1.5 * (1 - 0.35 * 5)))  # one GD step by hand
    assert [e.step for e in events if isinstance(e, StepEvent)] == list(range(1, 11))


def test_gradient_descent_zig_zags_across_the_valley_and_momentum_smooths_it():
    gd, _ = walk("gd", steps=20)
    momentum, _ = walk("momentum", steps=20)

    def sign_flips(path):
        return sum(1 for a, b in zip(path, path[1:], strict=False) if a[1] * b[1] < 0)
    assert sign_flips(gd.path) >= 15  # w₂ changes sign almost every step
    assert sign_flips(momentum.path) <= 5
    gd_far, _ = walk("gd", steps=80)
    momentum_far, _ = walk("momentum", steps=80)
    assert momentum_far.evaluate()["distance_to_minimum"] < 0.5 * gd_far.evaluate()["distance_to_minimum"]


def test_rmsprop_learns_a_larger_rate_along_the_flat_direction():
    rmsprop, _ = walk("rmsprop", steps=80)
    rate_w1, rate_w2 = rmsprop.effective_lr()
    assert rate_w1 > 10 * rate_w2
    assert walk("gd", steps=1)[0].effective_lr() is None


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_gets_closer_to_the_minimum(name):
    w, _ = walk(name, steps=100)
    start = math.dist(SURFACES["bowl"].start, SURFACES["bowl"].minimum)
    assert w.evaluate()["distance_to_minimum"] < 0.1 * start


def test_too_large_a_rate_makes_gradient_descent_diverge():
    _, events = walk("gd", lr=0.5, steps=50)  # 1 − 0.5·5 = −1.5: each step across the valley grows
    assert any(isinstance(e, DivergedEvent) for e in events)


def test_the_notes_rmsprop_leaves_the_surface_after_one_step():
    w, events = walk("rmsprop", notes_rmsprop=True, steps=20)
    assert all(math.isnan(v) for v in w.path[1])
    assert w.effective_lr() is None
    assert next(e for e in events if isinstance(e, DivergedEvent)).step == 2
