"""Classic convolutional networks as data: LeNet-5, AlexNet, VGG-16, ResNet-50 and an Inception block.

Each network is an `Architecture`: an input shape and a tuple of layer specs (`Conv`, `Pool`, `FC`, `Bottleneck`,
`Inception`, `GlobalAvgPool`). From those specs alone the lab works out every layer's output shape, its parameters
and its multiplications (`layer_table`), and builds the same network from torch.nn modules (`build_module`), so a
test can check the counts against `sum(p.numel())` of PyTorch's own layers. Shapes are written as the course
writes them, (n_H, n_W, n_C); the torch.nn modules work on (N, C, H, W).

The counts, for a layer that sees an input of n_H × n_W × n_C_prev:

- CONV with n_C filters of f × f: f·f·n_C_prev·n_C weights + n_C biases (with batch norm instead of biases:
  + 2·n_C for γ and β). Each output number costs f·f·n_C_prev multiplications, and there are
  n_H_out·n_W_out·n_C of them. With g groups (AlexNet's two GPUs) each filter sees only n_C_prev / g channels.
- POOL has nothing to learn; FC from n_in to n units has n_in·n weights + n biases and n_in·n multiplications.

The 1 × 1 convolution's arithmetic, and the Inception block's reason for it, is in `lab.bottleneck`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from lab.convolution import output_size
from lab.params import Param, register, validate

register(
    Param("architecture", "Network", "Which classic network the table describes, layer by layer.", "lenet5",
          options=("lenet5", "alexnet", "vgg16", "resnet50", "inception")),
)

Shape = tuple[int, int, int]  # (n_H, n_W, n_C), the course's order
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "softmax")  # softmax: described, left to the cost


def activation_module(name: str | None) -> nn.Module:
    """The torch.nn module of an activation; softmax and None are the identity (the cost applies softmax)."""
    if name in (None, "softmax"):
        return nn.Identity()
    modules = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if name not in modules:
        raise ValueError(f"The 'activation' parameter must be one of {list(ACTIVATIONS)}. Got {name!r} instead.")
    return modules[name]()


def _check_activation(name: str | None) -> str | None:
    """None, "softmax" (left to the cost) or a declared activation."""
    return name if name in (None, "softmax") else validate("activation", name)


def _count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"The '{what}' parameter must be a whole number ≥ 1. Got {value!r} instead.")
    return value


# ---------------------------------------------------------------- the layer specs


@dataclass(frozen=True)
class Conv:
    """n_C = `filters` filters of f × f over all (or 1/`groups` of the) input channels."""

    name: str  # e.g. "conv1"
    filters: int  # n_C of the output
    f: int  # filter side
    stride: int = 1
    padding: int = 0
    groups: int = 1  # AlexNet's two-GPU split: each filter sees n_C_prev / groups channels
    norm: bool = False  # batch norm after it (ResNet): no bias then, γ and β per channel instead
    activation: str | None = "relu"

    def __post_init__(self):
        for value, what in ((self.filters, "filters"), (self.f, "f"), (self.groups, "groups")):
            _count(value, what)
        validate("stride", self.stride)
        validate("padding", self.padding)
        _check_activation(self.activation)

    def output_shape(self, shape: Shape) -> Shape:
        h, w, c = shape
        if c % self.groups or self.filters % self.groups:
            raise ValueError(f"{self.name}: {self.groups} groups must divide both {c} input channels and "
                             f"{self.filters} filters.")
        return output_size(h, self.f, self.padding, self.stride), output_size(w, self.f, self.padding,
                                                                               self.stride), self.filters

    def num_params(self, shape: Shape) -> int:
        weights = self.f * self.f * (shape[2] // self.groups) * self.filters
        return weights + (2 if self.norm else 1) * self.filters

    def multiplications(self, shape: Shape) -> int:
        h, w, c = self.output_shape(shape)
        return h * w * c * self.f * self.f * (shape[2] // self.groups)

    def describe(self, shape: Shape) -> str:
        extra = [f"p = {self.padding}"] if self.padding else []
        extra += [f"{self.groups} groups"] if self.groups > 1 else []
        after = (" + batch norm" if self.norm else "") + (f" + {_act(self.activation)}" if self.activation else "")
        return f"CONV {self.f}×{self.f}, {self.filters} filters, s = {self.stride}{''.join(', ' + e for e in extra)}" \
               f"{after}"

    def module(self, shape: Shape, device: torch.device | str) -> nn.Sequential:
        parts = [nn.Conv2d(shape[2], self.filters, self.f, self.stride, self.padding, groups=self.groups,
                           bias=not self.norm, device=device)]
        if self.norm:
            parts.append(nn.BatchNorm2d(self.filters, device=device))
        return nn.Sequential(*parts, activation_module(self.activation))


@dataclass(frozen=True)
class Pool:
    """Max or average of each f × f window, channel by channel: nothing to learn."""

    name: str
    f: int
    stride: int
    mode: str = "max"  # or "average"
    padding: int = 0

    def __post_init__(self):
        validate("pool_size", self.f)
        validate("stride", self.stride)
        validate("padding", self.padding)
        validate("pool_mode", self.mode)

    def output_shape(self, shape: Shape) -> Shape:
        h, w, c = shape
        return output_size(h, self.f, self.padding, self.stride), output_size(w, self.f, self.padding,
                                                                               self.stride), c

    def num_params(self, shape: Shape) -> int:
        return 0

    def multiplications(self, shape: Shape) -> int:
        return 0

    def describe(self, shape: Shape) -> str:
        mode = validate("pool_mode", self.mode)
        return f"{'MAX' if mode == 'max' else 'AVG'} POOL {self.f}×{self.f}, s = {self.stride}" + \
            (f", p = {self.padding}" if self.padding else "")

    def module(self, shape: Shape, device: torch.device | str) -> nn.Module:
        if validate("pool_mode", self.mode) == "max":
            return nn.MaxPool2d(self.f, self.stride, self.padding)
        return nn.AvgPool2d(self.f, self.stride, self.padding)


@dataclass(frozen=True)
class GlobalAvgPool:
    """The mean of each whole channel: n_H × n_W × n_C → 1 × 1 × n_C (ResNet's last pooling)."""

    name: str

    def output_shape(self, shape: Shape) -> Shape:
        return 1, 1, shape[2]

    def num_params(self, shape: Shape) -> int:
        return 0

    def multiplications(self, shape: Shape) -> int:
        return 0

    def describe(self, shape: Shape) -> str:
        return f"AVG POOL over the whole {shape[0]}×{shape[1]} map"

    def module(self, shape: Shape, device: torch.device | str) -> nn.Module:
        return nn.AdaptiveAvgPool2d(1)


@dataclass(frozen=True)
class FC:
    """A fully connected layer on the flattened input: n_in = n_H·n_W·n_C numbers → `units`."""

    name: str
    units: int
    activation: str | None = "relu"

    def __post_init__(self):
        _count(self.units, "units")
        _check_activation(self.activation)

    def output_shape(self, shape: Shape) -> Shape:
        return 1, 1, self.units

    def num_params(self, shape: Shape) -> int:
        return (math.prod(shape) + 1) * self.units

    def multiplications(self, shape: Shape) -> int:
        return math.prod(shape) * self.units

    def describe(self, shape: Shape) -> str:
        return f"FC {math.prod(shape)} → {self.units}" + (f" + {_act(self.activation)}" if self.activation else "")

    def module(self, shape: Shape, device: torch.device | str) -> nn.Sequential:
        return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), self.units, device=device),
                             activation_module(self.activation))


@dataclass(frozen=True)
class Bottleneck:
    """ResNet-50's residual block: 1×1 (width) → 3×3 (width) → 1×1 (4·width), each with batch norm, plus a
    shortcut that skips all three: the input itself, or a strided 1×1 convolution where the shape changes. As in
    the paper the stride sits on the first 1×1 convolution (torchvision's "v1.5" moves it to the 3×3: the same
    parameters, a few more multiplications)."""

    name: str  # e.g. "res3a"
    width: int
    stride: int = 1

    def __post_init__(self):
        _count(self.width, "width")
        validate("stride", self.stride)

    def parts(self, shape: Shape) -> list[tuple[Conv, Shape]]:
        """The block's convolutions, each with the shape it reads; the projection shortcut last, if any."""
        out = 4 * self.width
        convs = [Conv("a", self.width, 1, self.stride, norm=True),
                 Conv("b", self.width, 3, padding=1, norm=True),
                 Conv("c", out, 1, norm=True, activation=None)]
        found, current = [], shape
        for conv in convs:
            found.append((conv, current))
            current = conv.output_shape(current)
        if self.stride != 1 or shape[2] != out:
            found.append((Conv("shortcut", out, 1, self.stride, norm=True, activation=None), shape))
        return found

    def output_shape(self, shape: Shape) -> Shape:
        conv, read = self.parts(shape)[2]
        return conv.output_shape(read)

    def num_params(self, shape: Shape) -> int:
        return sum(conv.num_params(read) for conv, read in self.parts(shape))

    def multiplications(self, shape: Shape) -> int:
        return sum(conv.multiplications(read) for conv, read in self.parts(shape))

    def describe(self, shape: Shape) -> str:
        parts = self.parts(shape)
        main = " → ".join(f"{c.f}×{c.f}, {c.filters}" for c, _ in parts[:3])
        s = f", s = {self.stride}" if self.stride != 1 else ""
        skip = f"1×1 conv{s}" if len(parts) == 4 else "identity"
        return f"RES block [{main}]{s} + shortcut: {skip}"

    def module(self, shape: Shape, device: torch.device | str) -> nn.Module:
        return _ResidualBlock([conv.module(read, device) for conv, read in self.parts(shape)])


class _ResidualBlock(nn.Module):
    """ReLU(main(x) + shortcut(x)), the main path three convolutions, the shortcut identity or a 1×1 conv."""

    def __init__(self, convs: list[nn.Module]):
        super().__init__()
        self.main = nn.Sequential(*convs[:3])
        self.shortcut = convs[3] if len(convs) == 4 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.main(x) + self.shortcut(x))  # (N, 4·width, H_out, W_out)


@dataclass(frozen=True)
class Inception:
    """Several branches read the same input; their outputs, all n_H × n_W, are stacked along the channels."""

    name: str
    branches: tuple[tuple[Conv | Pool, ...], ...]

    def branch_shapes(self, shape: Shape) -> list[list[tuple[Conv | Pool, Shape, Shape]]]:
        """Per branch: (layer, shape it reads, shape it gives), in order."""
        found = []
        for branch in self.branches:
            steps, current = [], shape
            for layer in branch:
                out = layer.output_shape(current)
                steps.append((layer, current, out))
                current = out
            found.append(steps)
        return found

    def output_shape(self, shape: Shape) -> Shape:
        ends = [steps[-1][2] for steps in self.branch_shapes(shape)]
        if len({end[:2] for end in ends}) != 1:
            raise ValueError(f"{self.name}: every branch must keep one n_H × n_W to be stacked. Got {ends} instead.")
        return ends[0][0], ends[0][1], sum(end[2] for end in ends)

    def num_params(self, shape: Shape) -> int:
        return sum(layer.num_params(read) for steps in self.branch_shapes(shape) for layer, read, _ in steps)

    def multiplications(self, shape: Shape) -> int:
        return sum(layer.multiplications(read) for steps in self.branch_shapes(shape) for layer, read, _ in steps)

    def describe(self, shape: Shape) -> str:
        return f"stack the {len(self.branches)} branches along the channels"

    def rows(self, shape: Shape) -> list[LayerRow]:
        """One row per layer of each branch, then the stacking."""
        rows = [LayerRow(f"{self.name}/{layer.name}", f"branch {b}: {layer.describe(read)}", out,
                         layer.num_params(read), layer.multiplications(read))
                for b, steps in enumerate(self.branch_shapes(shape), start=1) for layer, read, out in steps]
        return [*rows, LayerRow(self.name, self.describe(shape), self.output_shape(shape), 0, 0)]

    def module(self, shape: Shape, device: torch.device | str) -> nn.Module:
        return _InceptionModule([nn.Sequential(*(layer.module(read, device) for layer, read, _ in steps))
                                 for steps in self.branch_shapes(shape)])


class _InceptionModule(nn.Module):
    def __init__(self, branches: list[nn.Module]):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)  # (N, Σ n_C, H, W)


Layer = Conv | Pool | GlobalAvgPool | FC | Bottleneck | Inception


def _act(name: str) -> str:
    return {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "leaky_relu": "Leaky ReLU",
            "softmax": "softmax"}[name]


# ---------------------------------------------------------------- networks and their tables


@dataclass(frozen=True)
class Architecture:
    name: str  # e.g. "VGG-16"
    input_shape: Shape  # (n_H, n_W, n_C) of the image
    layers: tuple[Layer, ...]
    published: float  # the parameter count its paper (or the course) gives, e.g. 138e6
    published_text: str  # that number in words, with where it comes from
    note: str = ""  # what this version is, where versions differ


@dataclass(frozen=True)
class LayerRow:
    name: str  # "conv1", "res3a", "inception/3x3_reduce" (a layer inside a block)
    description: str  # "CONV 5×5, 6 filters, s = 1 + tanh"
    shape: Shape  # output (n_H, n_W, n_C)
    params: int  # weights and biases (γ and β of batch norm included)
    multiplications: int  # weight × input products for one image

    @property
    def activations(self) -> int:
        """Numbers in the output volume, n_H·n_W·n_C."""
        return math.prod(self.shape)

    def shape_text(self) -> str:
        """'28 × 28 × 6', or '120' for the output of a fully connected layer."""
        h, w, c = self.shape
        return str(c) if (h, w) == (1, 1) and self.description.startswith("FC") else f"{h} × {w} × {c}"


def layer_table(architecture: Architecture) -> list[LayerRow]:
    """The input and every layer (each branch layer of an Inception block): output shape, parameters and
    multiplications, all worked out from the specs."""
    shape = architecture.input_shape
    rows = [LayerRow("input", "image", shape, 0, 0)]
    for layer in architecture.layers:
        if isinstance(layer, Inception):
            rows += layer.rows(shape)
        else:
            rows.append(LayerRow(layer.name, layer.describe(shape), layer.output_shape(shape),
                                 layer.num_params(shape), layer.multiplications(shape)))
        shape = layer.output_shape(shape)
    return rows


def count_parameters(architecture: Architecture) -> int:
    return sum(row.params for row in layer_table(architecture))


def count_multiplications(architecture: Architecture) -> int:
    return sum(row.multiplications for row in layer_table(architecture))


def build_module(architecture: Architecture, device: torch.device | str = "meta") -> nn.Sequential:
    """The network as torch.nn modules, one named child per layer spec. On the "meta" device (the default)
    nothing is allocated, so VGG-16's 138 M parameters cost no memory: shapes and counts only."""
    modules, shape = OrderedDict(), architecture.input_shape
    for layer in architecture.layers:
        modules[layer.name] = layer.module(shape, device)
        shape = layer.output_shape(shape)
    return nn.Sequential(modules)


def short_count(n: float) -> str:
    """61,706 → '61.7 k', 138,357,544 → '138.4 M'."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f}"


def format_table(architecture: Architecture) -> str:
    """The layer table as plain text, one line per row, with the totals."""
    rows = layer_table(architecture)
    names, width = max(len(r.name) for r in rows), max(len(r.description) for r in rows)
    lines = [f"{'layer':<{names}}  {'what':<{width}}  {'output':>15} {'parameters':>12}"]
    for r in rows:
        lines.append(f"{r.name:<{names}}  {r.description:<{width}}  {r.shape_text():>15} {r.params:>12,}")
    total = count_parameters(architecture)
    lines.append(f"{'total':<{names}}  {'':<{width}}  {'':>15} {total:>12,}")
    return "\n".join(lines)


def lenet5(activation: str = "tanh", pool_mode: str = "average") -> Architecture:
    """LeNet-5 as the course draws it: 32×32×1 → CONV 5×5 (6) → POOL → CONV 5×5 (16) → POOL → FC 120 → FC 84 → 10.

    `activation` (tanh in 1998, ReLU in most networks since) follows every layer but the last; `pool_mode` is
    "average" (LeNet-5's) or "max" (what came later). Neither changes a shape or a parameter count.
    """
    act, pool = validate("activation", activation), validate("pool_mode", pool_mode)
    return Architecture(
        "LeNet-5", (32, 32, 1),
        (Conv("conv1", 6, 5, activation=act), Pool("pool1", 2, 2, pool), Conv("conv2", 16, 5, activation=act),
         Pool("pool2", 2, 2, pool), FC("fc3", 120, act), FC("fc4", 84, act), FC("fc5", 10, "softmax")),
        60e3, "≈ 60 k (LeCun et al. 1998, and the course)",
        "The modern reading: every unit of conv2 sees all 6 maps (the 1998 paper wired each to a subset), and a "
        "softmax output replaces the paper's radial-basis units.")


def alexnet() -> Architecture:
    """AlexNet as published (227×227×3 input), with the split over two GPUs: conv2, conv4 and conv5 see only the
    half of the channels on their own GPU (groups = 2). Local response normalisation has no parameters: left out."""
    return Architecture(
        "AlexNet", (227, 227, 3),
        (Conv("conv1", 96, 11, stride=4), Pool("pool1", 3, 2), Conv("conv2", 256, 5, padding=2, groups=2),
         Pool("pool2", 3, 2), Conv("conv3", 384, 3, padding=1), Conv("conv4", 384, 3, padding=1, groups=2),
         Conv("conv5", 256, 3, padding=1, groups=2), Pool("pool5", 3, 2), FC("fc6", 4096), FC("fc7", 4096),
         FC("fc8", 1000, "softmax")),
        61e6, "≈ 61 M (Krizhevsky et al. 2012: '60 million')",
        "Without the two-GPU groups it would have 62.4 M parameters; torchvision's later single-GPU variant has "
        "61.1 M.")


def vgg16() -> Architecture:
    """VGG-16 (configuration D): 13 CONV 3×3 'same' layers in five stacks, each stack halved by a 2×2 max pool,
    then FC 4096 → FC 4096 → 1000."""
    layers: list[Layer] = []
    for stack, (filters, repeat) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        layers += [Conv(f"conv{stack}_{i}", filters, 3, padding=1) for i in range(1, repeat + 1)]
        layers.append(Pool(f"pool{stack}", 2, 2))
    layers += [FC("fc6", 4096), FC("fc7", 4096), FC("fc8", 1000, "softmax")]
    return Architecture("VGG-16", (224, 224, 3), tuple(layers), 138e6,
                        "≈ 138 M (Simonyan & Zisserman 2015)")


def resnet50() -> Architecture:
    """ResNet-50: CONV 7×7 and a max pool, 16 bottleneck blocks in four stages (3, 4, 6, 3 blocks of width 64,
    128, 256, 512), a global average pool and FC 1000. Batch norm after every convolution, whose γ and β count."""
    layers: list[Layer] = [Conv("conv1", 64, 7, stride=2, padding=3, norm=True), Pool("pool1", 3, 2, padding=1)]
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        layers += [Bottleneck(f"res{stage}{'abcdef'[b]}", width, 2 if b == 0 and stage > 2 else 1)
                   for b in range(blocks)]
    layers += [GlobalAvgPool("avgpool"), FC("fc", 1000, "softmax")]
    return Architecture("ResNet-50", (224, 224, 3), tuple(layers), 25.6e6, "≈ 25.6 M (He et al. 2016; torchvision)")


def inception_block() -> Architecture:
    """The course's Inception block (GoogLeNet's 3a): on 28×28×192, 1×1 (64); 1×1 (96) → 3×3 (128); 1×1 (16) →
    5×5 (32); 3×3 max pool (stride 1, 'same') → 1×1 (32); stacked: 28×28×256."""
    branches = ((Conv("1x1", 64, 1),),
                (Conv("3x3_reduce", 96, 1), Conv("3x3", 128, 3, padding=1)),
                (Conv("5x5_reduce", 16, 1), Conv("5x5", 32, 5, padding=2)),
                (Pool("pool", 3, 1, padding=1), Conv("pool_proj", 32, 1)))
    return Architecture("Inception block", (28, 28, 192), (Inception("inception", branches),), 163_696,
                        "163,696 (GoogLeNet's block 3a, every convolution with a bias)")


BUILDERS = {"lenet5": lenet5, "alexnet": alexnet, "vgg16": vgg16, "resnet50": resnet50, "inception": inception_block}


def get_architecture(architecture: str) -> Architecture:
    """The network named `architecture`: lenet5, alexnet, vgg16, resnet50 or inception."""
    return BUILDERS[validate("architecture", architecture)]()


def notes_lenet_check() -> str:
    """What happens to the notes' LeNet-5 (three CONV + POOL pairs, then 120 → 10) on a 32×32 image, as text,
    next to the real one: where the third pair runs out of image, and why C5 of the paper is FC 120."""
    real = lenet5()
    shape, lines = real.input_shape, ["The notes' LeNet-5, three CONV 5×5 + POOL 2×2 pairs, then 120 → 10:"]
    layers = [Conv("conv1", 6, 5), Pool("pool1", 2, 2, "average"), Conv("conv2", 16, 5),
              Pool("pool2", 2, 2, "average"), Conv("conv3", 120, 5), Pool("pool3", 2, 2, "average")]
    for layer in layers:
        what = f"CONV 5×5, {layer.filters:>3} filters" if isinstance(layer, Conv) else "POOL 2×2"
        try:
            shape = layer.output_shape(shape)
        except ValueError:  # output_size refuses a window larger than the (padded) map
            lines.append(f"  {layer.name}  {what:<21} → nothing: a {layer.f} × {layer.f} window does not fit in a "
                         f"{shape[0]} × {shape[1]} map")
            break
        lines.append(f"  {layer.name}  {what:<21} → {shape[0]} × {shape[1]} × {shape[2]}")
    c5, fc = Conv("c5", 120, 5), FC("fc3", 120)
    h, w, c = c5.output_shape((5, 5, 16))
    lines += ["The course's LeNet-5, two CONV + POOL pairs, then FC 120 → FC 84 → 10:",
              "  " + " → ".join(r.shape_text() for r in layer_table(real)),
              f"  {count_parameters(real):,} parameters",
              f"The paper's 'C5', a CONV 5×5 with 120 filters on the 5 × 5 × 16 map, gives {h} × {w} × {c} and "
              f"{c5.num_params((5, 5, 16)):,} parameters;",
              f"FC 400 → 120 has {fc.num_params((5, 5, 16)):,}: the same layer, drawn as a convolution."]
    return "\n".join(lines)
