"""1 × 1 convolutions: the course's bottleneck example, counts against PyTorch's parameters and FLOP counter, and a
1 × 1 convolution against a matrix product at every pixel."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from lab.bottleneck import bottleneck_architectures, bottleneck_cost, bottleneck_text, pointwise_check
from lab.cnn_architectures import build_module


def torch_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_input(shape):
    h, w, c = shape
    return torch.empty(1, c, h, w, device="meta")


def test_the_course_bottleneck_example():
    c = bottleneck_cost()
    assert (c.direct, c.reduce, c.expand, c.with_bottleneck) == (120_422_400, 2_408_448, 10_035_200, 12_443_648)
    assert (c.direct_params, c.bottleneck_params) == (153_632, 15_920)
    assert c.saving == pytest.approx(9.677, abs=1e-3)
    text = bottleneck_text()
    assert "120,422,400 multiplications" in text and "12,443,648 multiplications" in text and "9.7× fewer" in text


@pytest.mark.parametrize("settings", [{}, {"size": 14, "in_channels": 480, "out_channels": 48, "bottleneck": 16,
                                           "filter_size": 3}, {"bottleneck": 256, "filter_size": 1}])
def test_bottleneck_counts_equal_torchs_parameters_and_flop_count(settings):
    c = bottleneck_cost(**settings)
    networks = bottleneck_architectures(c)
    for kind, multiplications, params in (("direct", c.direct, c.direct_params),
                                          ("bottleneck", c.with_bottleneck, c.bottleneck_params)):
        module = build_module(networks[kind])
        with FlopCounterMode(display=False) as counter:
            out = module(meta_input(networks[kind].input_shape))
        assert out.shape == (1, c.out_channels, c.size, c.size)  # 'same': n_H × n_W kept
        assert counter.get_total_flops() // 2 == multiplications and torch_count(module) == params


@pytest.mark.parametrize("name, value, words", [
    ("filter_size", 4, "The 'filter_size' parameter must be odd"),
    ("filter_size", 17, "The 'filter_size' parameter must be in the range"),
    ("in_channels", 0, "The 'input_channels' parameter must be in the range"),
    ("bottleneck", 2.5, "The 'bottleneck_channels' parameter must be a whole number"),
    ("size", -3, "The 'feature_map_size' parameter must be in the range"),
    ("out_channels", float("nan"), "The 'output_channels' parameter must be finite"),
])
def test_bad_bottleneck_settings_are_refused_naming_the_parameter(name, value, words):
    with pytest.raises(ValueError, match=words):
        bottleneck_cost(**{name: value})


def test_a_one_by_one_convolution_is_a_fully_connected_layer_at_every_pixel():
    text = pointwise_check()
    assert text.endswith("the pixel's 192 channels: True (largest difference below 10⁻¹²)") and "output 6×6×32" in text
    assert pointwise_check(3, 2, 4).startswith("1×1 CONV with 2 filters on 4×4×3: output 4×4×2.")
    with pytest.raises(ValueError, match="The 'size' parameter must be a whole number from 1 to 16"):
        pointwise_check(size=17)
