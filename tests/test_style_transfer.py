"""Lab 16's backend: the costs against direct torch computations and autograd, the random feature network, the
optimization of the pixels, and the declared limits."""

import math

import pytest
import torch

from lab.data.photos import COLOUR_PHOTOS, load_colour_photo
from lab.feature_network import LAYER_NAMES, RandomFeatures, pink_noise
from lab.params import validate
from lab.style_transfer import (
    STYLISED_DROP,
    StyleConfig,
    StyleTransfer,
    content_cost,
    gram_matrix,
    gram_thumbnail,
    is_stylised,
    notes_comparison,
    notes_content_cost,
    notes_style_layer_cost,
    style_cost,
    style_layer_cost,
    style_left,
    total_cost,
)


def activations(n_C=5, n_H=4, n_W=3, seed=0):
    return torch.randn(n_C, n_H, n_W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_gram_matrix_is_a_times_a_transposed_entry_by_entry():
    A = activations().reshape(5, -1)
    G = gram_matrix(A)
    direct = torch.tensor([[sum(A[k, i] * A[j, i] for i in range(12)) for j in range(5)] for k in range(5)])
    assert G.shape == (5, 5) and torch.allclose(G, direct)
    assert torch.allclose(G, G.T) and torch.linalg.eigvalsh(G).min() > -1e-9  # symmetric, positive semi-definite


def test_gram_matrix_wants_an_unrolled_matrix():
    with pytest.raises(ValueError, match=r"\(n_C, n_H·n_W\)"):
        gram_matrix(activations())


def test_content_cost_is_the_normalized_squared_distance():
    a_C, a_G = activations(seed=1), activations(seed=2)
    expected = torch.nn.functional.mse_loss(a_G, a_C, reduction="sum") / (4 * 4 * 3 * 5)
    assert content_cost(a_C, a_G).item() == pytest.approx(expected.item(), rel=1e-12)
    assert content_cost(a_C, a_C).item() == 0.0


def test_content_cost_gradient_matches_the_hand_derivation():
    a_C, a_G = activations(seed=1), activations(seed=2).requires_grad_(True)
    content_cost(a_C, a_G).backward()
    assert torch.allclose(a_G.grad, (a_G - a_C).detach() / (2 * 4 * 3 * 5))  # ∂J/∂a_G = (a_G − a_C)/(2·n_H·n_W·n_C)


def test_style_layer_cost_is_the_erratum_formula():
    a_S, a_G = activations(seed=3), activations(seed=4)
    n_C, n_H, n_W = a_S.shape
    G_S = torch.einsum("khw,jhw->kj", a_S, a_S)
    G_G = torch.einsum("khw,jhw->kj", a_G, a_G)
    expected = ((G_S - G_G) ** 2).sum() / (2 * n_H * n_W * n_C) ** 2  # erratum 17: normalized by (2·n_H·n_W·n_C)²
    assert style_layer_cost(a_S, a_G).item() == pytest.approx(expected.item(), rel=1e-12)
    assert style_layer_cost(a_S, a_S).item() == 0.0


def test_style_layer_cost_gradient_matches_the_hand_derivation():
    a_S, a_G = activations(seed=3), activations(seed=4).requires_grad_(True)
    style_layer_cost(a_S, a_G).backward()
    A_S, A_G = a_S.reshape(5, -1), a_G.detach().reshape(5, -1)
    n_C, m = 5, 12
    hand = -((A_S @ A_S.T - A_G @ A_G.T) @ A_G) / (n_C ** 2 * m ** 2)  # ∂J/∂A_G = −(G_S − G_G)·A_G / (n_C²·m²)
    assert torch.allclose(a_G.grad.reshape(5, -1), hand)


def test_style_layer_cost_accepts_images_of_different_sizes_by_their_own_area():
    a_S, a_G = activations(n_H=6, n_W=6, seed=5), activations(seed=6)
    G_S = gram_matrix(a_S.reshape(5, -1)) / 36
    G_G = gram_matrix(a_G.reshape(5, -1)) / 12
    assert style_layer_cost(a_S, a_G).item() == pytest.approx((((G_S - G_G) ** 2).sum() / (4 * 25)).item())


def test_style_cost_weights_the_layers_and_skips_zero_weights():
    style = {"a": activations(seed=1), "b": activations(3, 2, 2, seed=2)}
    generated = {"a": activations(seed=3), "b": activations(3, 2, 2, seed=4)}
    expected = 0.5 * style_layer_cost(style["a"], generated["a"]) + 2.0 * style_layer_cost(style["b"], generated["b"])
    assert style_cost(style, generated, {"a": 0.5, "b": 2.0}).item() == pytest.approx(expected.item())
    assert style_cost(style, generated, {"a": 0.0, "b": 0.0}).item() == 0.0
    assert total_cost(torch.tensor(2.0), torch.tensor(3.0), 10.0, 40.0).item() == 140.0


def test_the_notes_costs_misbehave_as_the_notebook_says():
    a_C = activations(seed=1)
    for eps in (1.0, 1e-3):  # ½‖a_C − a_G‖ has a gradient of length ½ however close a_G is
        a_G = (a_C + eps * activations(seed=2)).requires_grad_(True)
        notes_content_cost(a_C, a_G).backward()
        assert a_G.grad.norm().item() == pytest.approx(0.5)
    a_S = activations(seed=3)
    assert notes_style_layer_cost(a_S, 10 * a_S).item() < notes_style_layer_cost(a_S, a_S).item() == 0.0
    report = notes_comparison(side=48)
    assert "the style image itself" in report and "-" in report.splitlines()[-1]


def test_the_random_network_is_fixed_by_its_seed_and_calibrated():
    image = load_colour_photo("chelsea", 64)
    a, b, c = RandomFeatures(0)(image), RandomFeatures(0)(image), RandomFeatures(1)(image)
    assert list(a) == list(LAYER_NAMES)
    assert all(torch.equal(a[k], b[k]) for k in a) and not torch.equal(a["layer 1"], c["layer 1"])
    assert [tuple(v.shape) for v in a.values()] == [(32, 43, 64), (64, 21, 32), (128, 10, 16), (128, 5, 8),
                                                    (128, 2, 4)]
    net = RandomFeatures(0)
    assert not any(p.requires_grad for p in net.parameters())
    calibration = net(pink_noise(96, torch.Generator().manual_seed(0)))
    for layer in calibration.values():  # the filters are scaled so every layer speaks about as loud
        assert 0.3 < layer.pow(2).mean().item() < 3.0


def test_colour_photos_are_rgb_in_the_unit_range():
    photo = load_colour_photo("immunohistochemistry", 100)
    assert photo.shape == (3, 100, 100) and photo.min() >= 0 and photo.max() <= 1
    grey = load_colour_photo("brick", 50)
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    assert "retina" in COLOUR_PHOTOS
    with pytest.raises(ValueError, match="'name' parameter must be one of"):
        load_colour_photo("mona_lisa")


def small_run(**changes) -> StyleTransfer:
    return StyleTransfer(StyleConfig(style_image_side=64, **changes), RandomFeatures())


def test_a_step_is_torch_adam_on_the_pixels_then_clipped():
    task = small_run()
    image = task.image.detach().clone().requires_grad_(True)
    reference = torch.optim.Adam([image], lr=task.config.lr)
    for _ in range(3):
        reference.zero_grad()
        j_content, j_style = task.costs(image)
        cost = total_cost(j_content, j_style, task.config.content_weight, task.config.style_weight)
        cost.backward()
        reference.step()
        with torch.no_grad():
            image.clamp_(0, 1)
        before, _ = task.step()
        assert before.item() == pytest.approx(cost.item(), rel=1e-5)
    assert torch.allclose(task.image, image, atol=1e-6)
    assert len(task.history) == 3 and task.history[0][0] == 0.0  # it starts as the content photo: J_content = 0


def test_a_second_run_on_the_same_photos_reuses_their_activations_and_paints_the_same():
    class Counted(RandomFeatures):  # a network that counts the images it is shown
        seen = 0

        def forward(self, image):
            Counted.seen += 1
            return super().forward(image)
    network = Counted()
    first = StyleTransfer(StyleConfig(style_image_side=64, style_weight=500.0), network)
    assert Counted.seen == 2  # the two photos; the content photo's own style cost comes from its activations
    assert first.start_style_cost == pytest.approx(float(first.costs(first.content)[1]), rel=1e-6)
    Counted.seen = 0
    second = StyleTransfer(StyleConfig(style_image_side=64, style_weight=500.0, lr=0.05), network)
    assert Counted.seen == 0
    fresh = StyleTransfer(StyleConfig(style_image_side=64, style_weight=500.0, lr=0.05), Counted())
    for _ in range(3):
        assert second.step()[0].item() == fresh.step()[0].item()
    assert torch.equal(second.image, fresh.image)
    Counted.seen = 0
    StyleTransfer(StyleConfig(style_image_side=64, style_photo="brick"), network)
    assert Counted.seen == 1  # only the new style image


def test_painting_makes_the_image_visibly_stylised():
    task = small_run()
    assert task.start_style_cost > 0
    for _ in range(40):
        task.step()
    assert task.image.min() >= 0.0 and task.image.max() <= 1.0
    left = task.evaluate()["style_cost_left"]
    assert left <= STYLISED_DROP and is_stylised(task.history[-1][1], task.start_style_cost)
    assert (task.picture() - task.content).abs().mean() > 0.01  # the pixels moved away from the photo


def test_with_no_style_weight_the_content_photo_stays_as_it_is():
    task = small_run(style_weight=0.0)
    for _ in range(5):
        task.step()
    assert torch.allclose(task.picture(), task.content)


def test_a_shallow_layer_keeps_more_of_the_photo_than_a_deep_one():
    errors = {}
    for layer in ("layer 1", "layer 5"):
        task = StyleTransfer(StyleConfig(content_layer=layer, style_weight=0.0, layer_weights=(0.0,) * 5, lr=0.05,
                                         start="noise", style_image_side=64), RandomFeatures())
        for _ in range(100):
            task.step()
        errors[layer] = (task.picture() - task.content).pow(2).mean().item()
    assert errors["layer 1"] < 0.5 * errors["layer 5"], errors


def test_style_left_and_is_stylised():
    assert style_left(0.5, 10.0) == 0.05 and is_stylised(0.5, 10.0) and not is_stylised(0.6, 10.0)
    assert math.isnan(style_left(1.0, 0.0)) and math.isnan(style_left(float("nan"), 1.0))


@pytest.mark.parametrize("changes, message", [
    ({"style_image_side": 1000}, r"'style_image_side' parameter must be in the range \[64, 384\]. Got 1000"),
    ({"content_layer": "layer 9"}, "'content_layer' parameter must be one of"),
    ({"style_weight": -1.0}, "'style_weight' parameter must be in the range"),
    ({"layer_weights": (1.0, 1.0, 1.0, 1.0, 11.0)}, "'style_layer_weight' parameter"),
    ({"start": "grey"}, "'start' parameter must be one of"),
    ({"style_photo": "mona_lisa"}, "'style_photo' parameter must be one of"),
])
def test_bad_settings_are_refused_by_name(changes, message):
    with pytest.raises(ValueError, match=message):
        StyleConfig(**changes)


def test_too_many_iterations_are_refused_with_the_limit_named():
    with pytest.raises(ValueError, match=r"'style_steps' parameter must be in the range \[1, 2000\]. Got 5000"):
        validate("style_steps", 5000)


def test_the_layer_weights_must_match_the_network():
    with pytest.raises(ValueError, match="one weight per layer"):
        StyleTransfer(StyleConfig(style_image_side=64, layer_weights=(1.0,) * 4), RandomFeatures())


def test_gram_thumbnail_block_averages_large_gram_matrices_only():
    small = torch.arange(16.0).reshape(4, 4)
    assert torch.equal(gram_thumbnail(small, 4), small)
    by_hand = torch.tensor([[(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4],
                            [(8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]])
    assert torch.equal(gram_thumbnail(small, 2), by_hand)
    assert gram_thumbnail(torch.ones(512, 512), 128).shape == (128, 128)
