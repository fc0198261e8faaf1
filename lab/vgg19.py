"""VGG-19's convolution layers, and the opt-in loader of their published ImageNet weights.

The classic style transfer (Gatys, Ecker & Bethge 2015) reads its features from VGG-19 trained on ImageNet. Those
weights are a download of about 548 MB, so the lab never fetches them by itself: a learner asks for them (a
button in lab 16), and `load_vgg19_features` fetches the file once into torch's cache (`torch.hub.get_dir()`,
i.e. `$TORCH_HOME/hub/checkpoints`) and reads it from there afterwards. Everything else works without them.

The layers are laid out exactly as torchvision's `vgg19().features` (same `nn.Sequential` indices), so the
published state dict's `features.N.weight` / `features.N.bias` load by name; torchvision itself is not needed.
Only the 16 convolutions are kept: the classifier's 3 fully connected layers (most of the file) are dropped.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from lab.feature_network import LAYER_NAMES

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_MB = 548  # size of the published file (MiB), shown before the download starts
# torchvision's configuration "E": channels of each 3×3 convolution, "M" a 2×2 max pool
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
# the ReLU after the first convolution of each block: conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 (Gatys et al.)
FEATURE_INDICES = (1, 6, 11, 20, 29)
CONV_NAMES = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """torchvision's VGG-19 `features`, cut after conv5_1's ReLU when run. `forward(image)` takes an RGB image
    (3, H, W) in [0, 1] and returns the activations of conv1_1 … conv5_1 (after ReLU), (n_C, n_H, n_W) each, under
    the lab's layer names "layer 1" … "layer 5" (`CONV_NAMES` gives VGG's own)."""

    layer_names = LAYER_NAMES

    def __init__(self, layout: tuple = VGG19_LAYOUT):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in layout:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.features.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = ((image - self.mean) / self.std)[None]  # (1, 3, H, W), normalized as for ImageNet training
        out = {}
        for index, layer in enumerate(self.features[:FEATURE_INDICES[-1] + 1]):
            x = layer(x)
            if index in FEATURE_INDICES:
                out[LAYER_NAMES[FEATURE_INDICES.index(index)]] = x[0]
        return out


def vgg19_file(url: str = VGG19_URL) -> Path:
    """Where torch's cache keeps the downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def vgg19_downloaded(url: str = VGG19_URL) -> bool:
    return vgg19_file(url).is_file()


def bytes_downloaded(url: str = VGG19_URL) -> int:
    """Bytes of the weights on disk so far: the finished file, or the partial file torch.hub is writing."""
    target = vgg19_file(url)
    if target.is_file():
        return target.stat().st_size
    partial = list(target.parent.glob(target.name + ".*.partial")) if target.parent.is_dir() else []
    return max((p.stat().st_size for p in partial), default=0)


def load_vgg19_features(url: str = VGG19_URL, *, progress: bool = False,
                        layout: tuple = VGG19_LAYOUT) -> VGG19Features:
    """VGG-19's convolution layers with the published ImageNet weights: downloaded into torch's cache the first
    time (this is the one call in the lab that may use the network), read from the cache afterwards.

    Raises OSError (e.g. `urllib.error.URLError`) when the file is not cached and cannot be downloaded.
    `layout` is for tests, which save a small state dict with the same key names.
    """
    state = torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=progress, check_hash=True,
                                               weights_only=True)
    features = {name: tensor for name, tensor in state.items() if name.startswith("features.")}
    del state  # the classifier's weights (about 470 MB) are not needed
    network = VGG19Features(layout)
    network.load_state_dict(features)  # strict: every convolution's weight and bias must be in the file
    return network.eval()
