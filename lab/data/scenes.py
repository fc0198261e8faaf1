"""Generated detection scenes: shapes with ground-truth boxes pasted on crops of real photos, seeded.

Rectangles, ellipses and triangles of random colour, size and aspect ratio, pasted on crops of scikit-image's
photos (coffee, astronaut, chelsea, camera, brick, grass, gravel); every object comes with its ground-truth box
(x1, y1, x2, y2) in pixels. Shapes overlap little, and no two objects of a scene fall on the same (grid cell,
anchor) slot of `SceneConfig`, so every object has its own target in a YOLO tensor (see `lab.yolo`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lab.data.photos import background_photos
from lab.detection import yolo_output_shape
from lab.seeding import make_generator

CLASS_NAMES = ("rectangle", "ellipse", "triangle")
# the background photos; a scene picks one by its index, so this order is part of every seed
SCENE_PHOTOS = ("coffee", "astronaut", "chelsea", "camera", "brick", "grass", "gravel")
COLOURS = ((0.90, 0.10, 0.10), (1.00, 0.60, 0.00), (1.00, 0.95, 0.10), (0.10, 0.80, 0.20),
           (0.10, 0.85, 0.95), (0.15, 0.30, 1.00), (0.95, 0.20, 0.90), (1.00, 1.00, 1.00))
ANCHOR_NAMES = ("wide", "tall")


@dataclass(frozen=True)
class SceneConfig:
    image_size: int = 64  # side of the square scene, in pixels
    grid_size: int = 4  # S: the detector's grid is S × S cells (image_size / 16 for TinyYolo)
    anchors: tuple[tuple[float, float], ...] = ((0.40, 0.24), (0.24, 0.40))  # (width, height), image fractions
    min_side: float = 0.20  # shortest allowed box side, as a fraction of the image
    max_side: float = 0.45  # longest allowed box side
    max_objects: int = 3  # each scene holds 1 … max_objects shapes
    max_overlap: float = 0.15  # a new shape may overlap an earlier one by at most this IoU

    def __post_init__(self):
        yolo_output_shape(self.grid_size, len(self.anchors), self.num_classes)  # validates S and the anchor count

    @property
    def num_classes(self) -> int:
        return len(CLASS_NAMES)

    def anchor_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        return torch.tensor(self.anchors, dtype=torch.float32, device=device)  # (A, 2)


@dataclass(frozen=True)
class Scenes:
    images: torch.Tensor  # (N, 3, H, W) RGB in [0, 1]
    boxes: torch.Tensor  # (N, K, 4) ground truth (x1, y1, x2, y2) in pixels; rows past `counts` are 0
    classes: torch.Tensor  # (N, K) int64 class index; −1 past `counts`
    counts: torch.Tensor  # (N,) objects in each scene
    config: SceneConfig = field(default_factory=SceneConfig)

    def __len__(self) -> int:
        return self.images.shape[0]

    def objects(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Ground-truth boxes (k, 4) in pixels and classes (k,) of scene n."""
        k = int(self.counts[n])
        return self.boxes[n, :k], self.classes[n, :k]

    def to(self, device: torch.device | str) -> Scenes:
        return Scenes(self.images.to(device), self.boxes.to(device), self.classes.to(device),
                      self.counts.to(device), self.config)


def _iou_xyxy(a: list[float], b: list[float]) -> float:
    """IoU of two boxes given as Python lists, for the cheap placement loop."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _slot(box: list[float], config: SceneConfig) -> tuple[int, int, int]:
    """`assign` for one box in image fractions, in plain Python (row, column, anchor)."""
    S = config.grid_size
    cx, cy, w, h = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]
    ious = [_iou_xyxy([-w / 2, -h / 2, w / 2, h / 2], [-aw / 2, -ah / 2, aw / 2, ah / 2]) for aw, ah in config.anchors]
    return min(int(cy * S), S - 1), min(int(cx * S), S - 1), ious.index(max(ious))


def shape_masks(boxes: torch.Tensor, kinds: torch.Tensor, size: int) -> torch.Tensor:
    """Boolean masks (k, size, size) of filled shapes inside boxes (k, 4) in pixels: kind 0 a rectangle,
    1 an ellipse, 2 a triangle pointing up."""
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    y, x = centres[None, :, None], centres[None, None, :]  # pixel centres, (1, H, 1) and (1, 1, W)
    x1, y1, x2, y2 = (boxes[:, k, None, None] for k in range(4))  # (k, 1, 1) each
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    rectangle = (x >= x1) & (x <= x2) & (y >= y1) & (y <= y2)  # (k, H, W)
    ellipse = ((x - cx) / (w / 2)) ** 2 + ((y - cy) / (h / 2)) ** 2 <= 1.0
    triangle = rectangle & ((x - cx).abs() <= (w / 2) * (y - y1) / h)
    kinds = kinds[:, None, None]
    return torch.where(kinds == 0, rectangle, torch.where(kinds == 1, ellipse, triangle))


def make_scenes(num_scenes: int, seed: int | torch.Generator = 0, config: SceneConfig | None = None) -> Scenes:
    """`num_scenes` seeded scenes: a random crop of a real photo with 1 … max_objects shapes pasted on it.

    Shapes overlap little, and no two objects of a scene fall on the same (cell, anchor) slot, so every
    object has its own target in the YOLO tensor. `seed` is a whole number or a torch.Generator.
    """
    config = config or SceneConfig()
    if isinstance(num_scenes, bool) or not isinstance(num_scenes, int) or num_scenes < 1:
        raise ValueError(f"The 'num_scenes' parameter must be a whole number ≥ 1. Got {num_scenes!r} instead.")
    gen = seed if isinstance(seed, torch.Generator) else make_generator(seed)
    size, K, tries = config.image_size, config.max_objects, 12
    photos = background_photos(SCENE_PHOTOS)
    # every random number up front; plain Python then decides which candidate shapes fit
    rand = torch.rand(num_scenes, 6 + tries * 6, generator=gen, dtype=torch.float64).tolist()
    boxes = [[[0.0] * 4 for _ in range(K)] for _ in range(num_scenes)]  # plain lists: one tensor at the end
    classes = [[-1] * K for _ in range(num_scenes)]
    colours = [[(0.0, 0.0, 0.0)] * K for _ in range(num_scenes)]
    counts, photo_of, theta = [], [], []
    for n, r in enumerate(rand):
        p = int(r[0] * len(photos))
        _, H, W = photos[p].shape
        side = 0.25 + 0.75 * r[1]  # crop a quarter to all of the photo's short side …
        sx, sy = side * min(H, W) / W, side * min(H, W) / H  # … as fractions of its width and height
        flip = -1.0 if r[4] < 0.5 else 1.0
        # affine_grid maps the output square [−1, 1]² into the crop, mirrored half of the time
        theta.append([[sx * flip, 0.0, (1 - sx) * (2 * r[2] - 1)], [0.0, sy, (1 - sy) * (2 * r[3] - 1)]])
        photo_of.append(p)
        wanted = 1 + int(r[5] * K)
        placed: list[list[float]] = []
        slots: set[tuple[int, int, int]] = set()
        for t in range(tries):
            if len(placed) == wanted:
                break
            u = r[6 + 6 * t: 12 + 6 * t]
            long_side = config.min_side + (config.max_side - config.min_side) * u[0]
            aspect = 2.0 ** (2 * u[1] - 1)  # width / height, from ½ to 2 on a log scale
            w, h = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
            w, h = max(w, config.min_side), max(h, config.min_side)
            cx, cy = w / 2 + (1 - w) * u[2], h / 2 + (1 - h) * u[3]
            box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]  # fractions of the image
            slot = _slot(box, config)
            if slot in slots or any(_iou_xyxy(box, other) > config.max_overlap for other in placed):
                continue
            k = len(placed)
            boxes[n][k] = [v * size for v in box]
            classes[n][k] = int(u[4] * len(CLASS_NAMES))
            colours[n][k] = COLOURS[int(u[5] * len(COLOURS))]
            placed.append(box)
            slots.add(slot)
        counts.append(len(placed))
    boxes, classes = torch.tensor(boxes), torch.tensor(classes)  # (N, K, 4), (N, K)
    colours, counts, theta = torch.tensor(colours), torch.tensor(counts), torch.tensor(theta)
    images = torch.empty(num_scenes, 3, size, size)
    grid = F.affine_grid(theta, [num_scenes, 3, size, size], align_corners=False)  # (N, H, W, 2)
    photo_of = torch.tensor(photo_of)
    for p, photo in enumerate(photos):  # one resampling call per photo
        mine = (photo_of == p).nonzero()[:, 0]
        if len(mine):
            images[mine] = F.grid_sample(photo[None].expand(len(mine), -1, -1, -1), grid[mine], mode="bilinear",
                                         align_corners=False)
    for k in range(K):  # paint the k-th shape of every scene at once, in order
        masks = shape_masks(boxes[:, k], classes[:, k].clamp(min=0), size) & (classes[:, k] >= 0)[:, None, None]
        images = torch.where(masks[:, None], colours[:, k, :, None, None], images)
    return Scenes(images.clamp(0, 1), boxes, classes, counts, config)


def describe_scene(scenes: Scenes, n: int) -> str:
    """Scene n's objects, one line each: class and box (x1, y1, x2, y2) in pixels, to one decimal."""
    boxes, classes = scenes.objects(n)
    return "\n".join(f"{CLASS_NAMES[c]:<9}  x1, y1, x2, y2 = {[round(v, 1) for v in box]}"
                     for box, c in zip(boxes.tolist(), classes.tolist(), strict=True))


@functools.cache
def test_scenes(num_test: int = 200, seed: int = 10_000, config: SceneConfig | None = None) -> Scenes:
    """The held-out scenes, generated once per process."""
    return make_scenes(num_test, seed, config or SceneConfig())
