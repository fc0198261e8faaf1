"""A small YOLO-style detector, trained from scratch on generated scenes over real photos.

Scenes (`lab.data.scenes`): shapes of random colour, size and aspect ratio pasted on crops of real photos,
every object with its ground-truth box. The detector: a few convolutions shrink a 64×64 image to a 4×4 grid; each cell
predicts, for each of two anchor boxes (one wide, one tall), the vector [t_o, t_x, t_y, t_w, t_h,
class logits] that `lab.detection.yolo_head` turns into [p_c, b_x, b_y, b_w, b_h, class probabilities].

Training follows the course's recipe: each object is the responsibility of the grid cell that holds
its centre, and of the anchor whose shape overlaps it best (highest IoU when both are centred).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from lab.data.scenes import SceneConfig, Scenes, make_scenes, test_scenes
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
from lab.optimizers import Adam
from lab.params import Param, register, validate
from lab.seeding import make_generator

register(
    Param("window_stride", "Window stride", "Pixels a sliding window moves between two positions.",
          4, low=1, high=64, step=1, integer=True, ui_high=16),
    Param("detector_steps", "Training steps", "Mini-batches of 32 fresh scenes the detector learns from.",
          600, low=1, high=100_000, step=50, integer=True, ui_low=50, ui_high=3000),
)


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
        num_anchors = validate("num_anchors", num_anchors)
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
        self.optimizer = Adam(self.model.parameters(), lr=config.lr)  # the course's: no 1.2 s torch._dynamo import
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
    score_threshold = validate("score_threshold", score_threshold)
    iou_threshold = validate("iou_threshold", iou_threshold)
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
    stride = validate("window_stride", stride)
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
    stride = validate("window_stride", stride)
    model.eval()
    crops = window_crops(image, window_sizes, stride)
    window_seconds = timed(lambda: model(crops), repeats)
    yolo_seconds = timed(lambda: model(image), repeats)
    S = image.shape[-1] // 16
    return PassCost(len(crops), window_seconds, 1, S * S * model.num_anchors, yolo_seconds)
