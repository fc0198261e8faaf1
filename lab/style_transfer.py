"""Neural style transfer: content cost, Gram matrices, style cost, and the image that gradient descent paints.

A feature network turns an image into activations a^[l] of shape (n_C, n_H, n_W) at each layer l. Then:

- content cost   J_content(C, G) = 1/(4·n_H·n_W·n_C) · Σ (a^(C) − a^(G))²  at one chosen layer;
- Gram matrix    G = A·Aᵀ for A = a unrolled to (n_C, n_H·n_W): G_kk′ = how strongly channels k and k′ fire
  together, summed over all positions — *where* things are is gone, *which patterns go together* stays;
- style cost of a layer  J_style^[l](S, G) = 1/(4·n_C²·(n_H·n_W)²) · Σ_k Σ_k′ (G^(S)_kk′ − G^(G)_kk′)²
  = the squared distance of the two Gram matrices, normalized by (2·n_H·n_W·n_C)²;
- style cost     J_style = Σ_l λ^[l] · J_style^[l]  over the chosen layers with weights λ^[l];
- total          J(G) = α·J_content + β·J_style, minimized over the *pixels* of G (the network stays fixed).

The notes drop both squares (the content cost as ½‖a^(C) − a^(G)‖, the style cost as Σ(G^(S) − G^(G))):
`notes_content_cost` and `notes_style_layer_cost` keep their version, to show what goes wrong with it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from lab.feature_network import LAYER_NAMES
from lab.optimizers import Adam
from lab.params import Param, register, validate

CONTENT_PHOTOS = ("chelsea", "astronaut", "coffee", "rocket", "camera")
STYLE_PHOTOS = ("immunohistochemistry", "brick", "gravel", "grass", "hubble_deep_field", "retina", "coffee",
                "astronaut", "chelsea")
STYLISED_DROP = 0.05  # "visibly stylised": the style cost has fallen by 95% from the content photo's own

register(
    Param("content_photo", "Content photo", "The photo whose arrangement (what is where) the result keeps.",
          "chelsea", options=CONTENT_PHOTOS),
    Param("style_photo", "Style image", "The picture whose textures and colours the result takes on.",
          "immunohistochemistry", options=STYLE_PHOTOS),
    Param("content_weight", "Content weight α", "How much keeping the content photo's features counts in J.",
          1.0, low=0.0, high=1e4, log=True, ui_low=1e-3, ui_high=1e3),
    Param("style_weight", "Style weight β", "How much matching the style image's Gram matrices counts in J.",
          1000.0, low=0.0, high=1e7, log=True, ui_low=1.0, ui_high=1e6),
    Param("style_image_side", "Image size (pixels, long side)",
          "Long side of the generated image; the cost of a step grows with its area. Above 384 a CPU step takes "
          "seconds, so the lab refuses it. Below 64 the deepest layer, after four 2 × 2 poolings, would be under 2 "
          "pixels high for a 2:3 photo.", 128, low=64, high=384, step=16, integer=True),
    Param("style_steps", "Iterations", "Gradient steps on the image's pixels; 2,000 at most (minutes on a CPU).",
          300, low=1, high=2000, step=10, integer=True, ui_low=10),
    Param("content_layer", "Content layer", "The layer whose activations J_content compares: a shallow one keeps "
          "the photo's fine detail, a deep one only its rough arrangement.", "layer 3", options=LAYER_NAMES),
    Param("feature_network", "Feature network", "Whose activations the costs compare: five layers of random "
          "filters (nothing to download), or VGG-19 trained on ImageNet (a 548 MB download, once).",
          "random", options=("random", "vgg19")),
    Param("style_layer_weight", "Style weight of a layer λ^[l]",
          "How much this layer's Gram matrix counts in the style cost; 0 leaves the layer out.",
          1.0, low=0.0, high=10.0, step=0.1, ui_high=2.0),
)


# ---------------------------------------------------------------- the costs


def _unroll(a: torch.Tensor) -> torch.Tensor:
    if a.dim() != 3:
        raise ValueError(f"Activations must have shape (n_C, n_H, n_W). Got shape {tuple(a.shape)} instead.")
    return a.reshape(a.shape[0], -1)  # (n_C, n_H·n_W)


def gram_matrix(A: torch.Tensor) -> torch.Tensor:
    """G = A·Aᵀ for A (n_C, n_H·n_W) → G (n_C, n_C); G_kk′ sums the product of channels k and k′ over positions."""
    if A.dim() != 2:
        raise ValueError(f"A must have shape (n_C, n_H·n_W). Got shape {tuple(A.shape)} instead.")
    return A @ A.T  # (n_C, n_C)


def content_cost(a_C: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """1/(4·n_H·n_W·n_C) · Σ (a_C − a_G)² for activations (n_C, n_H, n_W) of the content and generated image."""
    n_C, n_H, n_W = a_G.shape
    return ((a_C - a_G) ** 2).sum() / (4 * n_H * n_W * n_C)


def style_layer_cost(a_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """1/(4·n_C²·(n_H·n_W)²) · Σ (G_S − G_G)² for activations (n_C, n_H, n_W) of the style and generated image.

    The two images may differ in size: each Gram matrix is (n_C, n_C) whatever n_H·n_W, and each is divided by
    its own n_H·n_W (for equal sizes that is exactly the formula above).
    """
    G_S = gram_matrix(_unroll(a_S)) / (a_S.shape[1] * a_S.shape[2])  # (n_C, n_C)
    G_G = gram_matrix(_unroll(a_G)) / (a_G.shape[1] * a_G.shape[2])  # (n_C, n_C)
    return ((G_S - G_G) ** 2).sum() / (4 * a_G.shape[0] ** 2)


def style_cost(style: dict[str, torch.Tensor], generated: dict[str, torch.Tensor],
               layer_weights: dict[str, float]) -> torch.Tensor:
    """Σ_l λ^[l] · J_style^[l] over the layers named in `layer_weights` (activations by layer name)."""
    total = torch.zeros((), device=next(iter(generated.values())).device)
    for name, weight in layer_weights.items():
        if weight:
            total = total + weight * style_layer_cost(style[name], generated[name])
    return total


def total_cost(j_content: torch.Tensor, j_style: torch.Tensor, content_weight: float,
               style_weight: float) -> torch.Tensor:
    """J = α·J_content + β·J_style."""
    return validate("content_weight", content_weight) * j_content + validate("style_weight", style_weight) * j_style


def notes_content_cost(a_C: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """The notes' content cost, ½‖a_C − a_G‖ (no square): its gradient has length ½ however close G is."""
    return 0.5 * (a_C - a_G).norm()


def notes_style_layer_cost(a_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """The notes' style cost, Σ (G_S − G_G) (no square): differences of opposite sign cancel, and making the
    generated image's activations larger lowers it without end."""
    return (gram_matrix(_unroll(a_S)) - gram_matrix(_unroll(a_G))).sum()


def notes_comparison(layer: str = "layer 3", side: int = 96) -> str:
    """The notes' costs next to the correct ones, on the random network's activations of real pictures (text)."""
    from lab.data.photos import load_colour_photo
    from lab.feature_network import RandomFeatures

    network = RandomFeatures()
    with torch.no_grad():
        a_C = network(load_colour_photo("chelsea", side))[layer]  # (n_C, n_H, n_W)
        a_S = network(load_colour_photo("immunohistochemistry", side))[layer]
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(a_C.shape, generator=generator)
    lines = ["Content cost, generated activations a_G = a_C + ε·noise:",
             f"{'ε':>8} {'correct J':>12} {'‖∂J/∂a_G‖':>12} {'notes J':>10} {'‖∂J/∂a_G‖':>12}"]
    for eps in (1.0, 0.1, 0.01, 0.001):
        row = []
        for cost in (content_cost, notes_content_cost):
            a_G = (a_C + eps * noise).requires_grad_(True)
            value = cost(a_C, a_G)
            value.backward()
            row += [float(value.detach()), float(a_G.grad.norm())]
        lines.append(f"{eps:>8g} {row[0]:>12.3g} {row[1]:>12.3g} {row[2]:>10.3g} {row[3]:>12.3g}")
    lines += ["", f"Style cost at {layer}, style image S = immunohistochemistry:",
              f"{'generated image':>34} {'correct J_style':>16} {'notes Σ(G_S − G_G)':>20}"]
    for name, a_G in (("the style image itself", a_S), ("the content photo (cat)", a_C),
                      ("style image, activations × 2", 2 * a_S), ("style image, activations × 10", 10 * a_S)):
        lines.append(f"{name:>34} {float(style_layer_cost(a_S, a_G)):>16.3g} "
                     f"{float(notes_style_layer_cost(a_S, a_G)):>20.3g}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the optimization


@dataclass(frozen=True)
class StyleConfig:
    content_photo: str = "chelsea"
    style_photo: str = "immunohistochemistry"
    content_layer: str = "layer 3"  # where J_content compares the two images
    layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)  # λ^[l] of each layer of the network, in order
    content_weight: float = 1.0  # α
    style_weight: float = 1000.0  # β
    style_image_side: int = 128  # long side of the generated image, pixels
    lr: float = 0.02  # Adam's step on the pixels (in [0, 1])
    start: str = "content"  # "content": start from the content photo; "noise": from random pixels
    seed: int = 0

    def __post_init__(self):
        for name in ("content_photo", "style_photo", "content_layer", "content_weight", "style_weight",
                     "style_image_side", "lr", "seed"):
            validate(name, getattr(self, name))
        for weight in self.layer_weights:
            validate("style_layer_weight", weight)
        if self.start not in ("content", "noise"):
            raise ValueError(f"The 'start' parameter must be one of ['content', 'noise']. Got {self.start!r} instead.")


@functools.lru_cache(maxsize=4)  # a run's two photos and the previous run's: VGG's activations are large
def photo_features(network: torch.nn.Module, photo: str, side: int, device: str,
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A photo (3, H, W) at `side` pixels on its long side, and the network's activations of it at every layer.

    Kept for the next run: a new run that changes only α, β, λ, the learning rate or the iterations starts without
    computing them again (2 forward passes, ~12 ms at 128 px with the random network). Read-only, like the network."""
    from lab.data.photos import load_colour_photo

    image = load_colour_photo(photo, side).to(device)
    with torch.no_grad():
        return image, network(image)


class StyleTransfer:
    """One style-transfer run as a `lab.training.Trainable`: each `step()` is one Adam step on the image's pixels.

    The network's activations of the content photo and the style image are computed once; each step computes the
    generated image's, J = α·J_content + β·J_style, and its gradient with respect to the pixels. After the step the
    pixels are clipped to [0, 1]. `history` keeps (J_content, J_style) of every step, before its update.
    """

    def __init__(self, config: StyleConfig, network: torch.nn.Module, device: torch.device | str = "cpu"):
        self.config, self.network = config, network.to(device)
        names = list(network.layer_names)
        if config.content_layer not in names:
            raise ValueError(f"The 'content_layer' parameter must be one of {names}. Got {config.content_layer!r} "
                             "instead.")
        if len(config.layer_weights) != len(names):
            raise ValueError(f"The 'layer_weights' parameter needs one weight per layer ({len(names)}). "
                             f"Got {len(config.layer_weights)} instead.")
        self.layer_weights = dict(zip(names, config.layer_weights, strict=True))
        side = config.style_image_side
        self.content, content_features = photo_features(self.network, config.content_photo, side, str(device))
        self.style, self.style_features = photo_features(self.network, config.style_photo, side, str(device))
        self.content_features = {config.content_layer: content_features[config.content_layer]}
        if config.start == "content":
            start = self.content.clone()
        else:
            generator = torch.Generator().manual_seed(config.seed)
            start = torch.rand(self.content.shape, generator=generator).to(device)
        self.image = start.requires_grad_(True)  # (3, H, W), the only thing that learns
        self.optimizer = Adam([self.image], lr=config.lr)  # the course's Adam: no 3 s import of torch._dynamo
        self.history: list[tuple[float, float]] = []  # (J_content, J_style) before each step
        # the content photo's own style cost
        self.start_style_cost = float(style_cost(self.style_features, content_features, self.layer_weights))

    def costs(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(J_content, J_style) of `image` (3, H, W)."""
        features = self.network(image)
        layer = self.config.content_layer
        return (content_cost(self.content_features[layer], features[layer]),
                style_cost(self.style_features, features, self.layer_weights))

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        self.optimizer.zero_grad()
        j_content, j_style = self.costs(self.image)
        cost = total_cost(j_content, j_style, self.config.content_weight, self.config.style_weight)
        cost.backward()
        self.optimizer.step()
        with torch.no_grad():
            self.image.clamp_(0.0, 1.0)
        self.history.append(tuple(torch.stack([j_content.detach(), j_style.detach()]).tolist()))
        return cost.detach(), {"pixels": self.image.grad}

    def evaluate(self) -> dict[str, float]:
        with torch.no_grad():
            j_content, j_style = self.costs(self.image)
        metrics = {"content_cost": float(j_content), "style_cost": float(j_style)}
        if self.start_style_cost > 0:  # a run without style (rebuilding a photo) has nothing to compare
            metrics["style_cost_left"] = style_left(float(j_style), self.start_style_cost)
        return metrics

    def picture(self) -> torch.Tensor:
        """The generated image now, (3, H, W) in [0, 1], on the CPU."""
        return self.image.detach().to("cpu", torch.float32).clone()

    def grams(self, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The Gram matrices G/(n_H·n_W) of the style image and of the generated image at `layer`, (n_C, n_C) each."""
        with torch.no_grad():
            generated = self.network(self.image)[layer]
        return tuple(gram_matrix(_unroll(a)).cpu() / (a.shape[1] * a.shape[2])
                     for a in (self.style_features[layer], generated))


def style_left(j_style: float, start: float) -> float:
    """The style cost as a fraction of the content photo's own (1: not stylised at all, 0: the style's Grams)."""
    return j_style / start if start > 0 and math.isfinite(j_style) else math.nan


def is_stylised(j_style: float, start: float) -> bool:
    """'Visibly stylised', measurably: the style cost is at most STYLISED_DROP of the content photo's own."""
    return style_left(j_style, start) <= STYLISED_DROP


def gram_thumbnail(gram: torch.Tensor, side: int) -> torch.Tensor:
    """A Gram matrix (n_C, n_C) block-averaged down to at most `side` rows and columns, to be drawn: VGG's 512
    channels would otherwise send a 512 × 512 picture on every redraw."""
    factor = -(-gram.shape[0] // side)  # ⌈n_C / side⌉
    if factor <= 1:
        return gram
    return torch.nn.functional.avg_pool2d(gram[None, None], factor, ceil_mode=True)[0, 0]
