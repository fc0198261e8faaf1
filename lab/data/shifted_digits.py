"""The digits from two distributions: clean ones to train on, distorted ones for dev and test.

scikit-learn's 1,797 digits are cut in two disjoint pools. The clean pool gives the training set and a
**train-dev** set (same distribution as training, never trained on). The other pool is distorted, as images from
a new camera or a new app would differ, and gives the dev and test sets (the distribution the product must do
well on). Each distorted image gets each of three distortions independently with probability ½:

- noise: Gaussian noise of standard deviation `mismatch_noise`, pixels clipped to [0, 1];
- blur: a 3×3 filter with weight 1 in the middle and `mismatch_blur` on the eight neighbours, normalized;
- shift: moved by up to `mismatch_shift` pixels in x and y (not 0 in both), the edge filled with 0.

Which distortions each dev/test image got is kept (`dev_distortions`), as the answer key for error analysis.
X has shape (64, m), one 8×8 image per column with pixels in [0, 1]; Y (1, m) holds the digit 0…9 (int64).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.data.digits import digit_images
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("mismatch_noise", "Dev/test noise σ", "Standard deviation of the Gaussian noise added to the dev and "
          "test digits (pixels run 0…1).", 0.2, low=0.0, high=1.0, step=0.05, ui_high=0.6),
    Param("mismatch_blur", "Dev/test blur", "Weight of the eight neighbours in the 3×3 blur of the dev and test "
          "digits: 0 is no blur, 1 a box blur.", 0.5, low=0.0, high=1.0, step=0.05),
    Param("mismatch_shift", "Dev/test shift (pixels)", "How far the dev and test digits may be moved in x and y.",
          0, low=0, high=3, step=1, integer=True),
)

DISTORTIONS = ("noise", "blur", "shift")  # the columns of `dev_distortions`
SIZES = {"train": 700, "train_dev": 200, "dev": 450}  # the test set takes the rest of the distorted pool (447)


@dataclass(frozen=True)
class MismatchSplit:
    X_train: torch.Tensor  # (64, 700) clean: what the parameters are fitted on
    Y_train: torch.Tensor  # (1, 700)
    X_train_dev: torch.Tensor  # (64, 200) clean, never trained on: measures variance apart from mismatch
    Y_train_dev: torch.Tensor
    X_dev: torch.Tensor  # (64, 450) distorted: the distribution the product must do well on
    Y_dev: torch.Tensor
    X_test: torch.Tensor  # (64, 447) distorted, same distribution as dev
    Y_test: torch.Tensor
    dev_distortions: torch.Tensor  # (450, 3) bool: which of DISTORTIONS each dev image got

    def to(self, device: torch.device | str) -> MismatchSplit:
        return MismatchSplit(**{k: getattr(self, k).to(device) for k in self.__dataclass_fields__})


def blur_images(images: torch.Tensor, mismatch_blur: float) -> torch.Tensor:
    """images (k, 8, 8) → the same shape, each pixel the weighted mean of itself (weight 1) and its eight
    neighbours (weight `mismatch_blur` each); pixels outside the image count as 0."""
    b = validate("mismatch_blur", mismatch_blur)
    kernel = torch.full((3, 3), float(b), dtype=images.dtype)
    kernel[1, 1] = 1.0
    kernel = (kernel / kernel.sum()).reshape(1, 1, 3, 3)
    return torch.nn.functional.conv2d(images.unsqueeze(1), kernel, padding=1).squeeze(1)


def shift_images(images: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """images (k, H, W) moved right by dx (k,) and down by dy (k,) pixels (negative: left, up), filled with 0."""
    k, H, W = images.shape
    rows = torch.arange(H).reshape(1, H, 1) - dy.reshape(k, 1, 1)  # source row of each target pixel
    cols = torch.arange(W).reshape(1, 1, W) - dx.reshape(k, 1, 1)
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    source = images[torch.arange(k).reshape(k, 1, 1), rows.clamp(0, H - 1), cols.clamp(0, W - 1)]
    return torch.where(inside, source, torch.zeros_like(source))


def distort(X: torch.Tensor, mismatch_noise: float, mismatch_blur: float, mismatch_shift: int,
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """X (64, m) → (distorted X (64, m), which distortions each column got (m, 3) bool). Each distortion is
    drawn for each image with probability ½; one at strength 0 leaves the image as it was (and is not recorded)."""
    noise, shift = validate("mismatch_noise", mismatch_noise), validate("mismatch_shift", mismatch_shift)
    mismatch_blur = validate("mismatch_blur", mismatch_blur)
    m = X.shape[1]
    applied = torch.rand(m, 3, generator=generator) < 0.5
    applied &= torch.tensor([noise > 0, mismatch_blur > 0, shift > 0])
    images = X.T.reshape(m, 8, 8)
    images = torch.where(applied[:, 1].reshape(m, 1, 1), blur_images(images, mismatch_blur), images)
    d = torch.randint(-shift, shift + 1, (m, 2), generator=generator)
    d[(d == 0).all(dim=1), 0] = shift  # never "shifted" by (0, 0)
    d[~applied[:, 2]] = 0
    images = shift_images(images, d[:, 0], d[:, 1])
    sigma = noise * applied[:, 0].to(X.dtype).reshape(m, 1, 1)
    images = (images + sigma * torch.randn(m, 8, 8, generator=generator, dtype=X.dtype)).clamp(0.0, 1.0)
    return images.reshape(m, 64).T.contiguous(), applied


def load_mismatched_digits(mismatch_noise: float = 0.2, mismatch_blur: float = 0.5, mismatch_shift: int = 0,
                           seed: int = 0) -> MismatchSplit:
    """Clean train (700) and train-dev (200); distorted dev (450) and test (447); the cut and the distortions
    drawn from `seed`."""
    X, labels = digit_images()
    generator = make_generator(seed)
    order = torch.randperm(X.shape[1], generator=generator)
    a, b, c = SIZES["train"], SIZES["train"] + SIZES["train_dev"], SIZES["train"] + SIZES["train_dev"] + SIZES["dev"]
    shifted, applied = distort(X[:, order[b:]], mismatch_noise, mismatch_blur, mismatch_shift, generator)
    Y = labels.reshape(1, -1)
    return MismatchSplit(X[:, order[:a]], Y[:, order[:a]], X[:, order[a:b]], Y[:, order[a:b]],
                         shifted[:, :c - b], Y[:, order[b:c]], shifted[:, c - b:], Y[:, order[c:]],
                         applied[:c - b])
