"""The classic networks as layer specs: shapes, parameters and multiplications against PyTorch's own layers (built on
the meta device, so VGG-16's 138 M parameters cost no memory), and against the published totals."""

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from lab.cnn_architectures import (
    BUILDERS,
    FC,
    Bottleneck,
    Conv,
    Pool,
    alexnet,
    build_module,
    count_multiplications,
    count_parameters,
    format_table,
    get_architecture,
    layer_table,
    lenet5,
    notes_lenet_check,
    resnet50,
    short_count,
)

NAMES = list(BUILDERS)


def torch_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_input(shape):
    h, w, c = shape
    return torch.empty(1, c, h, w, device="meta")


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_equal_the_torch_modules_built_from_the_same_specs(name):
    network = get_architecture(name)
    module = build_module(network)  # meta: nothing allocated
    assert all(p.device.type == "meta" for p in module.parameters())
    assert count_parameters(network) == torch_count(module)
    if name != "inception":  # one table row per layer, one child module per layer
        rows = layer_table(network)[1:]
        assert [r.name for r in rows] == [n for n, _ in module.named_children()]
        assert [r.params for r in rows] == [torch_count(child) for child in module.children()]


@pytest.mark.parametrize("name", NAMES)
def test_every_output_shape_is_what_torch_computes(name):
    network = get_architecture(name)
    module, x = build_module(network), meta_input(network.input_shape)
    if name == "inception":
        out = module(x)
        assert layer_table(network)[-1].shape == (out.shape[2], out.shape[3], out.shape[1])
        return
    for row, child in zip(layer_table(network)[1:], module.children(), strict=True):
        x = child(x)
        shape = (x.shape[2], x.shape[3], x.shape[1]) if x.dim() == 4 else (1, 1, x.shape[1])
        assert row.shape == shape, row.name


@pytest.mark.parametrize("name", NAMES)
def test_multiplications_equal_half_of_pytorchs_flop_count(name):
    network = get_architecture(name)
    with FlopCounterMode(display=False) as counter:  # counts a multiply-add as 2 FLOPs
        build_module(network)(meta_input(network.input_shape))
    assert count_multiplications(network) == counter.get_total_flops() // 2


def test_the_totals_match_the_published_ones():
    totals = {name: count_parameters(get_architecture(name)) for name in NAMES}
    assert totals["lenet5"] == 61_706 and short_count(totals["lenet5"]) == "61.7 k"
    assert round(totals["alexnet"] / 1e6) == 61 and totals["alexnet"] == 60_965_224
    assert totals["vgg16"] == 138_357_544 and round(totals["vgg16"] / 1e6) == 138  # torchvision's vgg16
    assert totals["resnet50"] == 25_557_032 and short_count(totals["resnet50"]) == "25.6 M"  # torchvision's resnet50
    assert totals["inception"] == 163_696
    for name in NAMES:
        network = get_architecture(name)
        assert math.isclose(totals[name], network.published, rel_tol=0.03), name
    # ResNet-50's paper gives 3.8·10⁹ multiply-adds for one 224 × 224 image
    assert round(count_multiplications(resnet50()) / 1e8) / 10 == 3.9


def test_lenet5_is_the_course_drawing():
    rows = layer_table(lenet5())
    assert [r.shape_text() for r in rows] == ["32 × 32 × 1", "28 × 28 × 6", "14 × 14 × 6", "10 × 10 × 16",
                                              "5 × 5 × 16", "120", "84", "10"]
    assert [r.params for r in rows] == [0, 156, 0, 2416, 0, 48_120, 10_164, 850]
    assert rows[2].description == "AVG POOL 2×2, s = 2" and rows[1].description.endswith("+ tanh")
    relu = lenet5("relu", "max")  # neither changes a count
    assert count_parameters(relu) == 61_706 and layer_table(relu)[2].description.startswith("MAX POOL")


def test_alexnet_would_have_more_parameters_without_its_two_gpu_groups():
    grouped = alexnet()
    ungrouped = grouped.__class__(**{**grouped.__dict__, "layers": tuple(
        Conv(layer.name, layer.filters, layer.f, layer.stride, layer.padding) if isinstance(layer, Conv) else layer
        for layer in grouped.layers)})
    assert count_parameters(ungrouped) == 62_378_344 and count_parameters(grouped) == 60_965_224
    assert "62.4 M" in grouped.note


def test_resnet50_blocks_have_a_projection_only_where_the_shape_changes():
    rows = {r.name: r for r in layer_table(resnet50())}
    assert "shortcut: 1×1 conv" in rows["res2a"].description  # 64 → 256 channels
    assert "shortcut: identity" in rows["res2b"].description
    assert rows["res3a"].shape == (28, 28, 512) and "s = 2" in rows["res3a"].description
    # 1×1 from 256 to 64, 3×3 from 64 to 64, 1×1 from 64 to 256, and γ, β for 64 + 64 + 256 channels
    assert rows["res2b"].params == Bottleneck("x", 64).num_params((56, 56, 256)) == \
        256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256) == 70_400


def test_the_inception_block_stacks_its_four_branches():
    rows = layer_table(get_architecture("inception"))
    assert rows[-1].shape == (28, 28, 256) and rows[-1].description == "stack the 4 branches along the channels"
    assert [r.name for r in rows[1:-1]] == ["inception/1x1", "inception/3x3_reduce", "inception/3x3",
                                            "inception/5x5_reduce", "inception/5x5", "inception/pool",
                                            "inception/pool_proj"]
    assert sum(r.shape[2] for r in rows[1:-1] if r.name in ("inception/1x1", "inception/3x3", "inception/5x5",
                                                             "inception/pool_proj")) == 256


def test_the_notes_lenet_runs_out_of_image_and_c5_is_fc_120():
    text = notes_lenet_check()
    assert "conv3  CONV 5×5, 120 filters → 1 × 1 × 120" in text
    assert "pool3  POOL 2×2              → nothing: a 2 × 2 window does not fit in a 1 × 1 map" in text
    assert "61,706 parameters" in text and "gives 1 × 1 × 120 and 48,120 parameters" in text
    assert "FC 400 → 120 has 48,120" in text


def test_format_table_lists_every_row_and_the_total():
    text = format_table(lenet5())
    lines = text.splitlines()
    assert len(lines) == 1 + 8 + 1 and lines[-1].split()[-1] == "61,706"
    assert "fc4    FC 120 → 84 + tanh" in text


def test_bad_specs_and_names_are_refused_in_words():
    with pytest.raises(ValueError, match=r"The 'architecture' parameter must be one of .*Got 'vgg19' instead"):
        get_architecture("vgg19")
    with pytest.raises(ValueError, match="The 'activation' parameter must be one of"):
        lenet5("gelu")
    with pytest.raises(ValueError, match="The 'pool_mode' parameter must be one of"):
        lenet5(pool_mode="median")
    with pytest.raises(ValueError, match="2 groups must divide both 3 input channels"):
        Conv("c", 4, 3, groups=2).output_shape((8, 8, 3))
    with pytest.raises(ValueError, match="The 'f' parameter must be at most the padded side"):
        Pool("p", 3, 1).output_shape((2, 2, 1))
    assert FC("fc", 10).num_params((5, 5, 16)) == 4010
