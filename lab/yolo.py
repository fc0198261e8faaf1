"""A small YOLO-style detector, trained from scratch on generated scenes over real photos.

Scenes: rectangles, ellipses and triangles of random colour, size and aspect ratio, pasted on crops of
scikit-image's photos (coffee, astronaut, chelsea, camera, brick, grass, gravel); every object comes with
its ground-truth box. The detector: a few convolutions shrink a 64×64 image to a 4×4 grid; each cell
predicts, for each of two anchor boxes (one wide, one tall), the vector [t_o, t_x, t_y, t_w, t_h,
class logits] that `lab.detection.yolo_head` turns into [p_c, b_x, b_y, b_w, b_h, class probabilities].

Training follows the course's recipe: each object is the responsibility of the grid cell that holds
its centre, and of the anchor whose shape overlaps it best (highest IoU when both are centred).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from lab.detection import (
    Detections,
    average_precision,
    box_iou,
    decode_yolo,
    match_detections,
    non_max_suppression,
    score_filter,
    yolo_head,
)
from lab.params import validate
from lab.seeding import make_generator

CLASS_NAMES = ("rectangle", "ellipse", "triangle")
PHOTOS = ("coffee", "astronaut", "chelsea", "camera", "brick", "grass", "gravel")  # scikit-image's data
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


@functools.cache
def background_photos(short_side: int = 128) -> tuple[torch.Tensor, ...]:
    """scikit-image's photos as RGB tensors (3, H, W) in [0, 1], shrunk to a `short_side`, loaded once."""
    from skimage import data  # imported here: scikit-image takes a moment to load

    photos = []
    for name in PHOTOS:
        image = torch.as_tensor(getattr(data, name)(), dtype=torch.float32) / 255.0
        image = image[..., None].expand(*image.shape, 3) if image.dim() == 2 else image
        image = image.permute(2, 0, 1)[None]  # (1, 3, H, W)
        scale = short_side / min(image.shape[-2:])
        size = (round(image.shape[-2] * scale), round(image.shape[-1] * scale))
        photos.append(F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)[0])
    return tuple(photos)


def _iou_xyxy(a: list[float], b: list[float]) -> float:
    """IoU of two boxes given as Python lists, for the cheap placement loop."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def best_anchor(wh: torch.Tensor, anchors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For object sizes wh (k, 2) and anchor sizes (A, 2): IoU of each pair when both are centred (k, A),
    and the best anchor (k,)."""
    def centred(sizes):
        return torch.cat([-sizes / 2, sizes / 2], dim=1)
    iou = box_iou(centred(wh), centred(anchors.to(wh)))  # (k, A)
    return iou, iou.argmax(dim=1)


def assign(boxes: torch.Tensor, config: SceneConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Which slot is responsible for each ground-truth box (k, 4) in pixels: (k, 3) = (row i, column j,
    anchor a), plus the IoU of each object with every anchor shape (k, A)."""
    size, S = config.image_size, config.grid_size
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / size  # (k, 2) fractions
    wh = (boxes[:, 2:] - boxes[:, :2]) / size  # (k, 2)
    col = (centre[:, 0] * S).floor().long().clamp(0, S - 1)
    row = (centre[:, 1] * S).floor().long().clamp(0, S - 1)
    iou, anchor = best_anchor(wh, config.anchor_tensor(boxes.device))
    return torch.stack([row, col, anchor], dim=1), iou


def slot_boxes(slots: torch.Tensor, config: SceneConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """For slots (k, 3) = (row, column, anchor): each cell's box and its anchor's shape centred in the
    cell, both (k, 4) in pixels — what the dashboard draws to show who is responsible for an object."""
    cell = config.image_size / config.grid_size
    row, col, anchor = slots.unbind(1)
    cells = torch.stack([col, row, col + 1, row + 1], dim=1).float() * cell  # (k, 4)
    centre = torch.stack([col, row], dim=1).float() * cell + cell / 2  # (k, 2)
    wh = config.anchor_tensor()[anchor] * config.image_size  # (k, 2)
    return cells, torch.cat([centre - wh / 2, centre + wh / 2], dim=1)


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
    photos = background_photos()
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


@dataclass(frozen=True)
class Targets:
    """What the network should output, per slot (B, S, S, A)."""

    has_object: torch.Tensor  # (B, S, S, A) bool: this slot is responsible for an object
    xy: torch.Tensor  # (B, S, S, A, 2) where the centre lies inside its cell, in [0, 1): the target of σ(t_x), σ(t_y)
    twh: torch.Tensor  # (B, S, S, A, 2) log(object size / anchor size): the target of t_w, t_h
    classes: torch.Tensor  # (B, S, S, A) int64 class index (0 where there is no object)


def encode_targets(scenes: Scenes, index: torch.Tensor | None = None) -> Targets:
    """The training targets of the scenes at `index` (all when None), with the anchor chosen by best IoU."""
    config = scenes.config
    index = torch.arange(len(scenes)) if index is None else index
    S, A, size = config.grid_size, len(config.anchors), config.image_size
    B, device = len(index), scenes.boxes.device
    has_object = torch.zeros(B, S, S, A, dtype=torch.bool, device=device)
    xy = torch.zeros(B, S, S, A, 2, device=device)
    twh = torch.zeros(B, S, S, A, 2, device=device)
    classes = torch.zeros(B, S, S, A, dtype=torch.long, device=device)
    valid = scenes.classes[index] >= 0  # (B, K)
    b = torch.arange(B, device=device)[:, None].expand_as(valid)[valid]  # (k,) which scene each object is in
    boxes = scenes.boxes[index][valid]  # (k, 4)
    slots, _ = assign(boxes, config)  # (k, 3)
    i, j, a = slots.unbind(1)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / size * S  # (k, 2) in cell units
    wh = (boxes[:, 2:] - boxes[:, :2]) / size  # (k, 2)
    has_object[b, i, j, a] = True
    xy[b, i, j, a] = centre - torch.stack([j, i], dim=1).to(centre)
    twh[b, i, j, a] = torch.log(wh / config.anchor_tensor(device)[a])
    classes[b, i, j, a] = scenes.classes[index][valid]
    return Targets(has_object, xy, twh, classes)


class TinyYolo(nn.Module):
    """Four 3×3 conv blocks (conv, batch norm, leaky ReLU, 2×2 max-pool) shrink H × W to H/16 × W/16,
    one more 3×3 conv mixes neighbouring cells, and a 1×1 conv gives A·(5 + C) numbers per cell."""

    def __init__(self, num_anchors: int = 2, num_classes: int = 3, width: int = 8):
        super().__init__()
        self.num_anchors, self.num_classes = num_anchors, num_classes
        channels = [3, width, 2 * width, 4 * width, 4 * width]
        blocks = []
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.LeakyReLU(0.1), nn.MaxPool2d(2)]
        blocks += [nn.Conv2d(channels[-1], channels[-1], 3, padding=1, bias=False), nn.BatchNorm2d(channels[-1]),
                   nn.LeakyReLU(0.1)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Conv2d(channels[-1], num_anchors * (5 + num_classes), 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) → raw output (B, S, S, A, 5 + C) with S = H / 16."""
        out = self.head(self.features(images))  # (B, A·(5 + C), S, S)
        B, _, rows, cols = out.shape
        return out.view(B, self.num_anchors, 5 + self.num_classes, rows, cols).permute(0, 3, 4, 1, 2)


def yolo_loss(raw: torch.Tensor, targets: Targets, *, lambda_coord: float = 5.0, lambda_noobj: float = 0.5,
              ) -> torch.Tensor:
    """The YOLO loss, summed over slots and averaged over the B images; raw (B, S, S, A, 5 + C).

    Slots responsible for an object: squared error on σ(t_x), σ(t_y) and on t_w, t_h (weighted by
    λ_coord), log-loss pushing p_c to 1, cross-entropy on the class. All other slots: log-loss pushing
    p_c to 0, weighted by λ_noobj because they far outnumber the others. (YOLOv1 used squared error for
    p_c and the classes; the log-losses learn faster.)
    """
    obj = targets.has_object
    B = raw.shape[0]
    conf = raw[..., 0]
    obj_conf = F.binary_cross_entropy_with_logits(conf[obj], torch.ones_like(conf[obj]), reduction="sum")
    noobj_conf = F.binary_cross_entropy_with_logits(conf[~obj], torch.zeros_like(conf[~obj]), reduction="sum")
    xy = ((torch.sigmoid(raw[..., 1:3][obj]) - targets.xy[obj]) ** 2).sum()
    wh = ((raw[..., 3:5][obj] - targets.twh[obj]) ** 2).sum()
    cls = F.cross_entropy(raw[..., 5:][obj], targets.classes[obj], reduction="sum")
    return (lambda_coord * (xy + wh) + obj_conf + lambda_noobj * noobj_conf + cls) / B


@dataclass(frozen=True)
class DetectorConfig:
    lr: float = 1e-2  # Adam's learning rate
    batch_size: int = 32  # fresh scenes per step: the data never repeats, so there is no overfitting
    width: int = 8  # channels of the first conv layer (doubling twice)
    seed: int = 0  # initial weights and training scenes
    num_test: int = 200  # held-out scenes for the metrics (always the same ones)
    test_seed: int = 10_000
    scenes: SceneConfig = field(default_factory=SceneConfig)

    def __post_init__(self):
        validate("lr", self.lr)
        validate("batch_size", self.batch_size)
        validate("seed", self.seed)


@functools.cache
def test_scenes(num_test: int = 200, seed: int = 10_000, config: SceneConfig | None = None) -> Scenes:
    """The held-out scenes, generated once per process."""
    return make_scenes(num_test, seed, config or SceneConfig())


def make_detector(config: DetectorConfig) -> TinyYolo:
    """A TinyYolo with seeded He-initialised weights, and p_c ≈ 0.01 everywhere to start: most slots hold
    no object, so a network that starts out sure of nothing learns faster (YOLO and RetinaNet do the same)."""
    gen = make_generator(config.seed)
    model = TinyYolo(len(config.scenes.anchors), config.scenes.num_classes, config.width)
    with torch.no_grad():  # drawn from our own generator: no hidden global seed
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / p[0].numel()) ** 0.5)
        model.head.bias.zero_()
        model.head.bias.view(-1, 5 + config.scenes.num_classes)[:, 0] = -4.6  # σ(−4.6) ≈ 0.01
    return model


class DetectorTraining:
    """A `lab.training` task: one step = one Adam step on a fresh mini-batch of generated scenes."""

    def __init__(self, config: DetectorConfig | None = None, device: torch.device | str = "cpu"):
        self.config = config = config or DetectorConfig()
        self.device = torch.device(device)
        self.data_gen = make_generator(config.seed + 1)
        self.model = make_detector(config)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.anchors = config.scenes.anchor_tensor(self.device)
        self.test = test_scenes(config.num_test, config.test_seed, config.scenes).to(self.device)
        self.steps_done = 0

    def step(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        batch = make_scenes(self.config.batch_size, self.data_gen, self.config.scenes).to(self.device)
        targets = encode_targets(batch)
        self.model.train()
        raw = self.model(batch.images)
        loss = yolo_loss(raw, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps_done += 1
        grads = {name.replace(".weight", ""): p.grad for name, p in self.model.named_parameters()
                 if name.endswith("weight") and p.dim() == 4}
        return loss.detach(), grads

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predictions (B, S, S, A, 5 + C) in the [p_c, b_x, b_y, b_w, b_h, class probabilities] form."""
        self.model.eval()
        return yolo_head(self.model(images.to(self.device)), self.anchors)

    def evaluate(self) -> dict[str, float]:
        return evaluate_detector(self.predict(self.test.images), self.test)


def evaluate_detector(predictions: torch.Tensor, scenes: Scenes, *, score_threshold: float = 0.5,
                      iou_threshold: float = 0.5) -> dict[str, float]:
    """mAP at IoU 0.5 over all scores (PASCAL VOC style), and precision and recall of the boxes kept at
    `score_threshold` after non-max suppression at `iou_threshold`, over the scenes."""
    size = scenes.config.image_size
    per_class: dict[int, list] = {c: [] for c in range(scenes.config.num_classes)}
    kept_hits = kept = 0
    for n in range(len(scenes)):
        found = non_max_suppression(decode_yolo(predictions[n], score_threshold=0.01, image_size=size),
                                    iou_threshold)
        truth_boxes, truth_classes = scenes.objects(n)
        confident = found.scores >= score_threshold
        for c, matches in per_class.items():
            mine = found.classes == c
            m = match_detections(found.boxes[mine], found.scores[mine], truth_boxes[truth_classes == c])
            matches.append(m)
            above = m.scores >= score_threshold
            kept_hits += int(m.true_positive[above].sum())
        kept += int(confident.sum())
    num_objects = int(scenes.counts.sum())
    aps = [average_precision(m) for m in per_class.values()]
    aps = [a for a in aps if a == a]  # drop classes without objects (NaN)
    return {"test_mAP_at_IoU_0.5": sum(aps) / len(aps),
            "test_recall": kept_hits / max(num_objects, 1),
            "test_precision": kept_hits / max(kept, 1)}


def detections_for(predictions: torch.Tensor, scenes: Scenes, n: int, score_threshold: float, iou_threshold: float,
                   ) -> tuple[Detections, Detections]:
    """Scene n's boxes (in pixels) scoring ≥ `score_threshold`, before and after per-class NMS."""
    everything = decode_yolo(predictions[n], image_size=scenes.config.image_size)
    before = score_filter(everything, score_threshold)
    return before, non_max_suppression(before, iou_threshold)


def timed(function, repeats: int = 3) -> float:
    """The best of `repeats` wall times of `function()`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------------------------------------------------------
# Sliding windows against one pass


def sliding_window_boxes(image_size: int, window_sizes: tuple[int, ...], stride: int) -> torch.Tensor:
    """Every window (n, 4) in (x1, y1, x2, y2) pixels: each size slid over the image by `stride` pixels.

    A window of side f fits ⌊(image_size − f)/stride⌋ + 1 times along each side.
    """
    stride = validate("window_stride", stride)
    boxes = []
    for f in window_sizes:
        starts = torch.arange(0, image_size - f + 1, stride, dtype=torch.float32)
        y, x = torch.meshgrid(starts, starts, indexing="ij")
        boxes.append(torch.stack([x.flatten(), y.flatten(), x.flatten() + f, y.flatten() + f], dim=1))
    return torch.cat(boxes)


def window_crops(images: torch.Tensor, window_sizes: tuple[int, ...], stride: int, cell: int = 16) -> torch.Tensor:
    """The windows of one image (1, 3, H, W), each resized to `cell` × `cell`: (n, 3, cell, cell),
    in the order of `sliding_window_boxes`."""
    crops = []
    for f in window_sizes:
        windows = images.unfold(2, f, stride).unfold(3, f, stride)  # (1, 3, rows, cols, f, f)
        windows = windows.permute(0, 2, 3, 1, 4, 5).reshape(-1, images.shape[1], f, f)  # (rows·cols, 3, f, f)
        crops.append(windows if f == cell else F.interpolate(windows, size=(cell, cell), mode="bilinear",
                                                              align_corners=False))
    return torch.cat(crops)


@dataclass(frozen=True)
class PassCost:
    windows: int  # classifier evaluations the sliding-window search needs
    window_seconds: float  # their time, all windows in one batch
    yolo_passes: int  # always 1
    yolo_slots: int  # boxes one YOLO pass predicts: S · S · A
    yolo_seconds: float  # the time of that one pass


@torch.no_grad()
def compare_sliding_windows(model: TinyYolo, image: torch.Tensor, stride: int,
                            window_sizes: tuple[int, ...] = (16, 32, 48), repeats: int = 3) -> PassCost:
    """Time a sliding-window search (every window resized to one 16 × 16 cell and run through `model`)
    against one pass of `model` over the whole image (1, 3, H, W). Best of `repeats` timings each."""
    model.eval()
    crops = window_crops(image, window_sizes, stride)
    window_seconds = timed(lambda: model(crops), repeats)
    yolo_seconds = timed(lambda: model(image), repeats)
    S = image.shape[-1] // 16
    return PassCost(len(crops), window_seconds, 1, S * S * model.num_anchors, yolo_seconds)
