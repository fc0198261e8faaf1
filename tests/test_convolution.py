"""lab.convolution against torch.nn.functional, the course's worked examples, and every validation message."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.convolution import (
    FILTERS,
    avg_pool2d,
    conv2d,
    conv2d_loops,
    conv2d_unfold,
    make_filter,
    max_pool2d,
    notes_output_size,
    output_size,
    pad_image,
    pool2d,
)
from lab.data.photos import load_photo


def _random(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("implementation", [conv2d, conv2d_unfold, conv2d_loops], ids=["shifts", "unfold", "loops"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_batched_multichannel_conv_equals_torch(implementation, stride, padding):
    x, kernel = _random(2, 3, 9, 11), _random(4, 3, 3, 3, seed=1)  # (N, C, H, W), (C_out, C, f, f)
    expected = F.conv2d(x, kernel, stride=stride, padding=padding)
    torch.testing.assert_close(implementation(x, kernel, stride=stride, padding=padding), expected)


@pytest.mark.parametrize("implementation", [conv2d, conv2d_unfold, conv2d_loops], ids=["shifts", "unfold", "loops"])
def test_single_image_and_unbatched_inputs_keep_their_layout(implementation):
    image, kernel = _random(7, 8), _random(3, 3, seed=1)
    out = implementation(image, kernel, stride=2, padding=1)
    assert out.shape == (4, 4)
    torch.testing.assert_close(out, F.conv2d(image[None, None], kernel[None, None], stride=2, padding=1)[0, 0])
    x, kernels = _random(2, 6, 6), _random(5, 2, 3, 3, seed=2)  # (C, H, W), (C_out, C, f, f)
    torch.testing.assert_close(implementation(x, kernels), F.conv2d(x, kernels))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(1, 12),
       w=st.integers(1, 12), f=st.integers(1, 5), stride=st.integers(1, 4), padding=st.integers(0, 3),
       seed=st.integers(0, 10_000))
def test_conv2d_equals_torch_for_any_shape(n, c, c_out, h, w, f, stride, padding, seed):
    x, kernel = _random(n, c, h, w, seed=seed), _random(c_out, c, f, f, seed=seed + 1)
    if f > min(h, w) + 2 * padding:
        with pytest.raises(ValueError, match="'kernel' parameter"):
            conv2d(x, kernel, stride=stride, padding=padding)
        return
    expected = F.conv2d(x, kernel, stride=stride, padding=padding)
    out = conv2d(x, kernel, stride=stride, padding=padding)
    torch.testing.assert_close(conv2d_unfold(x, kernel, stride=stride, padding=padding), expected)
    assert out.shape[-2:] == (output_size(h, f, padding, stride), output_size(w, f, padding, stride))
    torch.testing.assert_close(out, expected)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), f=st.integers(1, 5), stride=st.integers(1, 4),
       padding=st.integers(0, 2), seed=st.integers(0, 10_000))
def test_pooling_equals_torch_for_any_shape(h, w, f, stride, padding, seed):
    x = _random(2, 3, h, w, seed=seed)
    if 2 * padding > f or f > min(h, w) + 2 * padding:
        with pytest.raises(ValueError):
            max_pool2d(x, f, stride, padding)
        return
    torch.testing.assert_close(max_pool2d(x, f, stride, padding), F.max_pool2d(x, f, stride, padding))
    torch.testing.assert_close(avg_pool2d(x, f, stride, padding), F.avg_pool2d(x, f, stride, padding))


@pytest.mark.parametrize(("ours", "theirs"), [(max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)])
def test_pooling_shares_torchs_signature_and_default_stride(ours, theirs):
    x = _random(1, 2, 8, 6)
    torch.testing.assert_close(ours(x, 2), theirs(x, 2))  # stride defaults to the window
    torch.testing.assert_close(ours(x, 3, 1, 1), theirs(x, 3, 1, 1))
    torch.testing.assert_close(ours(x[0, 0], 2), theirs(x, 2)[0, 0])  # a bare (H, W) image


def test_pool2d_picks_the_mode():
    x = _random(6, 6)
    torch.testing.assert_close(pool2d(x, 2, mode="max"), max_pool2d(x, 2))
    torch.testing.assert_close(pool2d(x, 3, 1, mode="average"), avg_pool2d(x, 3, 1))


def test_the_courses_max_pooling_example():
    grid = torch.tensor([[1.0, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
    assert max_pool2d(grid, 2).tolist() == [[9, 2], [6, 3]]
    assert avg_pool2d(grid, 2).tolist() == [[3.75, 1.25], [3.75, 2.0]]


def test_the_notes_four_by_four_example_is_all_zeros_and_two_by_two():
    image = torch.tensor([[3.0] * 4, [4.0] * 4, [5.0] * 4, [6.0] * 4])
    out = conv2d(image, make_filter("vertical_edge"))
    assert out.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert output_size(4, 3) == 2 and notes_output_size(4, 3) == -1  # ERRATA 12: the notes' size is impossible


def test_the_courses_six_by_six_vertical_edge_example():
    bright_left = torch.tensor([[10.0, 10, 10, 0, 0, 0]] * 6)
    out = conv2d(bright_left, make_filter("vertical_edge"))
    assert out.tolist() == [[0.0, 30.0, 30.0, 0.0]] * 4
    assert conv2d(bright_left.flip(1), make_filter("vertical_edge")).tolist() == [[0.0, -30.0, -30.0, 0.0]] * 4
    assert conv2d_loops(bright_left, make_filter("vertical_edge")).tolist() == out.tolist()


def test_integer_images_are_convolved_as_floats():
    image = torch.tensor([[10, 10, 10, 0, 0, 0]] * 6)
    assert conv2d(image, make_filter("vertical_edge"))[0].tolist() == [0.0, 30.0, 30.0, 0.0]


@pytest.mark.parametrize(("n", "f", "p", "s", "expected"), [
    (6, 3, 0, 1, 4), (6, 3, 1, 1, 6), (6, 3, 0, 2, 2), (7, 3, 0, 2, 3), (6, 3, 2, 3, 3), (5, 5, 0, 1, 1),
    (128, 3, 1, 1, 128), (128, 3, 0, 2, 63), (192, 3, 0, 4, 48)])
def test_output_size(n, f, p, s, expected):
    assert output_size(n, f, p, s) == expected


def test_the_notes_formula_differs_from_the_real_size():
    assert notes_output_size(128, 3) == 123 and output_size(128, 3) == 126


def test_filters():
    assert set(FILTERS) == {"vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x", "scharr_y",
                            "box_blur", "gaussian_blur", "sharpen", "identity"}
    for name in FILTERS:
        k = make_filter(name)
        assert k.shape == (3, 3)
        # edge detectors ignore flat areas (weights sum to 0); blur, sharpen and identity keep them (sum 1)
        edge = name in ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x", "scharr_y")
        assert k.sum().item() == pytest.approx(0.0 if edge else 1.0, abs=1e-6)
    torch.testing.assert_close(make_filter("horizontal_edge"), make_filter("vertical_edge").T)
    torch.testing.assert_close(make_filter("sobel_y"), make_filter("sobel_x").T)
    torch.testing.assert_close(make_filter("scharr_y"), make_filter("scharr_x").T)


def test_identity_filter_with_same_padding_returns_the_photo():
    photo = load_photo("chelsea")
    torch.testing.assert_close(conv2d(photo, make_filter("identity"), padding=1), photo)


def test_pad_image():
    padded = pad_image(torch.ones(2, 3), 2)
    assert padded.shape == (6, 7) and padded.sum().item() == 6.0 and padded[0].abs().sum().item() == 0.0


# The claims of the notebook's "Things to try"
def test_things_to_try_numbers():
    brick, cat = load_photo("brick"), load_photo("chelsea")

    def strength(photo, name):
        return conv2d(photo, make_filter(name)).abs().mean().item()

    assert strength(brick, "vertical_edge") / strength(brick, "horizontal_edge") == pytest.approx(2.6, abs=0.15)
    assert strength(brick, "vertical_edge") == pytest.approx(0.21, abs=0.005)
    assert strength(brick, "horizontal_edge") == pytest.approx(0.08, abs=0.005)
    assert strength(cat, "vertical_edge") == pytest.approx(0.13, abs=0.005)
    assert strength(cat, "horizontal_edge") == pytest.approx(0.13, abs=0.005)
    assert strength(brick, "sobel_x") == pytest.approx(0.28, abs=0.005)
    assert cat.std().item() == pytest.approx(0.12, abs=0.005)
    assert conv2d(cat, make_filter("sharpen")).std().item() == pytest.approx(0.16, abs=0.005)
    assert conv2d(cat, make_filter("box_blur")).std().item() == pytest.approx(0.11, abs=0.003)
    edges = conv2d(cat, make_filter("vertical_edge"))
    torch.testing.assert_close(conv2d(cat, -make_filter("vertical_edge")), -edges)
    assert conv2d(cat, make_filter("vertical_edge"), stride=2).shape == (52, 79)
    assert conv2d(cat, make_filter("vertical_edge"), stride=4).shape == (26, 40)
    assert max_pool2d(cat, 2).mean().item() == pytest.approx(0.487, abs=0.001)
    assert avg_pool2d(cat, 2).mean().item() == pytest.approx(cat.mean().item(), abs=1e-5)
    assert cat.mean().item() == pytest.approx(0.460, abs=0.001)
    assert cat.shape == (106, 160) and conv2d(cat, make_filter("identity")).shape == (104, 158)
    assert notes_output_size(106, 3) == 101 and notes_output_size(160, 3) == 155
    flat = torch.full((8, 8), 0.3)
    assert conv2d(flat, make_filter("sobel_x")).abs().max().item() == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(conv2d(flat, make_filter("gaussian_blur")), torch.full((6, 6), 0.3))


# Validation: each message names the parameter
@pytest.mark.parametrize("function", [conv2d, conv2d_unfold, conv2d_loops])
def test_conv_validation(function):
    image, k = torch.zeros(4, 4), make_filter("sobel_x")
    with pytest.raises(ValueError, match=r"The 'kernel' parameter must fit in the padded image \(4 × 4"):
        function(image, torch.zeros(5, 5))
    function(image, torch.zeros(5, 5), padding=1)  # fits once padded: 6 × 6
    with pytest.raises(ValueError, match=r"The 'stride' parameter must be in the range \[1, 64\]. Got 0 instead."):
        function(image, k, stride=0)
    with pytest.raises(ValueError, match=r"The 'padding' parameter must be in the range \[0, 64\]. Got -1"):
        function(image, k, padding=-1)
    with pytest.raises(ValueError, match="The 'stride' parameter must be a whole number. Got 1.5"):
        function(image, k, stride=1.5)
    with pytest.raises(ValueError, match=r"The 'kernel' parameter must be square \(f × f\). Got 3 × 2"):
        function(image, torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"The 'kernel' parameter must be \(f, f\) for a 2-D image"):
        function(image, torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"The 'kernel' parameter must be \(C_out, C, f, f\) for a 4-D input"):
        function(torch.zeros(1, 1, 4, 4), k)
    with pytest.raises(ValueError, match=r"The 'kernel' parameter must have as many channels as x \(3\). Got 2"):
        function(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match=r"The 'x' parameter must be \(H, W\), \(C, H, W\) or \(N, C, H, W\)"):
        function(torch.zeros(4), k)
    with pytest.raises(ValueError, match="The 'x' and 'kernel' parameters must be torch tensors"):
        function([[1.0]], k)


def test_pool_validation():
    image = torch.zeros(4, 4)
    with pytest.raises(ValueError, match=r"The 'pool_size' parameter must fit in the padded image \(4 × 4"):
        max_pool2d(image, 5)
    with pytest.raises(ValueError, match=r"The 'pool_size' parameter must be in the range \[1, 16\]. Got 0"):
        avg_pool2d(image, 0)
    with pytest.raises(ValueError, match="The 'stride' parameter must be in the range"):
        max_pool2d(image, 2, stride=0)
    with pytest.raises(ValueError, match=r"The 'padding' parameter must be at most half the pooling window \(1\)"):
        max_pool2d(image, 2, padding=2)
    with pytest.raises(ValueError, match=r"The 'x' parameter must be \(H, W\)"):
        max_pool2d(torch.zeros(4), 2)
    with pytest.raises(ValueError, match=r"The 'pool_mode' parameter must be one of \['max', 'average'\]"):
        pool2d(image, 2, mode="min")


def test_output_size_validation():
    with pytest.raises(ValueError, match=r"The 'f' parameter must be at most the padded side n \+ 2p = 6. Got 7"):
        output_size(4, 7, padding=1)
    with pytest.raises(ValueError, match="The 'stride' parameter must be in the range"):
        output_size(6, 3, stride=0)
    with pytest.raises(ValueError, match="The 'padding' parameter must be in the range"):
        output_size(6, 3, padding=-2)
    with pytest.raises(ValueError, match="The 'n' parameter must be a whole number ≥ 1. Got 0"):
        output_size(0, 3)
    with pytest.raises(ValueError, match="The 'f' parameter must be a whole number ≥ 1. Got 2.5"):
        output_size(6, 2.5)


def test_filter_names_are_validated():  # photo names: tests/test_data_photos.py
    with pytest.raises(ValueError, match="The 'conv_filter' parameter must be one of"):
        make_filter("emboss")


@pytest.mark.gpu
def test_conv_and_pooling_run_on_cuda_and_match_torch():
    x, kernel = _random(2, 3, 33, 29).cuda(), _random(4, 3, 3, 3, seed=1).cuda()
    for implementation in (conv2d, conv2d_unfold):
        out = implementation(x, kernel, stride=2, padding=1)
        assert out.device.type == "cuda"
        torch.testing.assert_close(out, F.conv2d(x, kernel, stride=2, padding=1))
    torch.testing.assert_close(max_pool2d(x, 3, 2, 1), F.max_pool2d(x, 3, 2, 1))
    torch.testing.assert_close(avg_pool2d(x, 2), F.avg_pool2d(x, 2))
