"""A feature network that needs no download: five convolution layers whose filters are random numbers.

Style transfer needs a network whose activations describe an image: shallow layers respond to colours and small
edges, deep layers to larger arrangements. A network trained on ImageNet (VGG-19, `lab.vgg19`) is the classic
choice, but its weights are a 548 MB download. Random filters do surprisingly well: Ustyuzhaninov, Brendel, Gatys
& Bethge (2016, "Texture synthesis using shallow convolutional networks with random filters") matched the
textures of a trained VGG with the Gram matrices of random filters at several scales, and He, Wang & Hopcroft
(2016, "A powerful generative model using random weights for the deep image representation") reconstructed and
stylised images with an untrained VGG. What random filters cannot give is *meaning*: a trained deep layer keeps
"there is a cat's eye here", a random one only keeps a blurred arrangement of local patterns.

Here the scales come from depth: each layer sees a window twice as wide as the one before (2×2 average pooling
between layers), so layer 1 looks at 3 × 3 pixels and layer 5 at 78 × 78. The filters are drawn once from a
seed with He scaling, √(2/fan-in), so the activations keep their size from layer to layer, and each filter has
zero mean so it responds to changes (edges, texture) rather than to brightness alone.
"""

from __future__ import annotations

import torch
from torch import nn

from lab.params import validate

LAYER_NAMES = ("layer 1", "layer 2", "layer 3", "layer 4", "layer 5")
WIDTHS = (32, 64, 128, 128, 128)  # n_C of each layer
RECEPTIVE_FIELDS = (3, 8, 18, 38, 78)  # pixels (per side) one unit of each layer sees
MEAN_PIXEL = 0.45  # subtracted from the image, so a grey pixel is near zero


def pink_noise(side: int, generator: torch.Generator) -> torch.Tensor:
    """A random image (3, side, side) in [0, 1] with as much contrast at every scale, as photos roughly have."""
    image = torch.zeros(1, 3, side, side)
    cells = 2
    while cells <= side:
        layer = torch.rand(1, 3, cells, cells, generator=generator) - 0.5
        image += nn.functional.interpolate(layer, size=(side, side), mode="bilinear", align_corners=False)
        cells *= 2
    return (image[0] / image.abs().max() * 0.5 + 0.5).clamp(0, 1)  # (3, side, side)


class RandomFeatures(nn.Module):
    """Conv 3×3 → ReLU, then (2×2 average pool → conv 3×3 → ReLU) four times; the filters are fixed random numbers.

    `forward(image)` takes an RGB image (3, H, W) in [0, 1] and returns every layer's activation, (n_C, n_H, n_W).
    """

    layer_names = LAYER_NAMES

    def __init__(self, seed: int = 0, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        generator = torch.Generator().manual_seed(validate("seed", seed))
        self.convs = nn.ModuleList()
        channels = 3
        for width in widths:
            conv = nn.Conv2d(channels, width, 3, padding=1, padding_mode="reflect")
            weight = torch.randn(conv.weight.shape, generator=generator)  # (width, channels, 3, 3)
            weight -= weight.mean(dim=(1, 2, 3), keepdim=True)  # zero mean: blind to a uniform brightness
            fan_in = channels * 9
            conv.weight.data = weight * (2.0 / fan_in) ** 0.5  # He scaling keeps the activations' size
            conv.bias.data.zero_()
            conv.requires_grad_(False)
            self.convs.append(conv)
            channels = width
        self.layer_names = LAYER_NAMES[:len(widths)]
        self._calibrate(pink_noise(96, generator))

    @torch.no_grad()
    def _calibrate(self, image: torch.Tensor) -> None:
        """Scale each layer's filters so its activations have mean square 1 on a random photo-like image. Pooling
        shrinks them otherwise (by about 2.5× a layer), and the style cost, a 4th power, would hear layer 1 alone."""
        x = (image - MEAN_PIXEL)[None]
        for i, conv in enumerate(self.convs):
            if i:
                x = nn.functional.avg_pool2d(x, 2)
            rms = torch.relu(conv(x)).pow(2).mean().sqrt()
            conv.weight /= rms
            x = torch.relu(conv(x))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - MEAN_PIXEL)[None]  # (1, 3, H, W)
        out = {}
        for i, (name, conv) in enumerate(zip(self.layer_names, self.convs, strict=True)):
            if i:
                x = nn.functional.avg_pool2d(x, 2)  # halves n_H and n_W: the next layer sees twice as far
            x = torch.relu(conv(x))  # (1, n_C, n_H, n_W)
            out[name] = x[0]
        return out
