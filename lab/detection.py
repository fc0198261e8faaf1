"""Object detection in plain torch: IoU, non-max suppression and reading a YOLO output tensor.

Boxes are (x1, y1, x2, y2) corners, x to the right and y downwards, as in `torchvision.ops`. A YOLO
prediction is a tensor of shape (S, S, A, 5 + C): for the anchor a of the grid cell in row i and
column j, the vector [p_c, b_x, b_y, b_w, b_h, c_1 … c_C] gives the probability that an object is
there, its centre and size (as fractions of the image) and the class probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lab.params import Param, register, validate

register(
    Param("score_threshold", "Score threshold", "Boxes whose score p_c × class probability is lower are dropped.",
          0.6, low=0.0, high=1.0, step=0.01),
    Param("iou_threshold", "IoU threshold (NMS)", "Non-max suppression removes a box that overlaps a "
          "higher-scoring one by more than this IoU.", 0.5, low=0.0, high=1.0, step=0.01),
    Param("grid_size", "Grid S × S", "The image is cut into S × S cells; each predicts boxes.",
          4, low=1, high=32, step=1, integer=True, ui_high=19),
    Param("num_anchors", "Anchor boxes", "Box shapes each grid cell predicts for.",
          2, low=1, high=16, step=1, integer=True, ui_high=9),
    Param("box_x", "Left edge x", "Where the box's left side is, in pixels from the left.",
          20.0, low=-1000.0, high=1000.0, step=1.0, ui_low=0.0, ui_high=80.0),
    Param("box_y", "Top edge y", "Where the box's top side is, in pixels from the top.",
          20.0, low=-1000.0, high=1000.0, step=1.0, ui_low=0.0, ui_high=80.0),
    Param("box_width", "Width", "The box's width in pixels.", 40.0, low=0.0, high=1000.0, step=1.0,
          ui_low=1.0, ui_high=80.0),
    Param("box_height", "Height", "The box's height in pixels.", 40.0, low=0.0, high=1000.0, step=1.0,
          ui_low=1.0, ui_high=80.0),
)

# ---------------------------------------------------------------------------------------------------------------
# Checking inputs: every bad shape or box raises a ValueError that names the parameter.


def check_boxes(boxes: torch.Tensor, name: str = "boxes") -> torch.Tensor:
    """Return `boxes` (Tensor[N, 4], floating point) if every box has x1 ≤ x2 and y1 ≤ y2, else raise ValueError."""
    if not isinstance(boxes, torch.Tensor):
        raise ValueError(f"The '{name}' parameter must be a torch.Tensor of shape (N, 4). "
                         f"Got {type(boxes).__name__} instead.")
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"The '{name}' parameter must have shape (N, 4) with (x1, y1, x2, y2) rows. "
                         f"Got shape {tuple(boxes.shape)} instead.")
    if not boxes.is_floating_point():
        boxes = boxes.to(torch.get_default_dtype())
    bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]) | ~torch.isfinite(boxes).all(dim=1)
    if bad.any():
        i = int(bad.nonzero()[0, 0])
        raise ValueError(f"The '{name}' parameter must hold (x1, y1, x2, y2) boxes with x1 ≤ x2 and y1 ≤ y2. "
                         f"Got box {i} = {[round(v, 4) for v in boxes[i].tolist()]} instead.")
    return boxes


def _check_vector(values: torch.Tensor, name: str, n: int) -> None:
    if not isinstance(values, torch.Tensor) or values.shape != (n,):
        shape = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise ValueError(f"The '{name}' parameter must have shape ({n},), one value per box. Got {shape} instead.")


# ---------------------------------------------------------------------------------------------------------------
# Intersection over union


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas (Tensor[N]) of boxes (Tensor[N, 4]) in (x1, y1, x2, y2) format: (x2 − x1)·(y2 − y1)."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _intersection_union(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Overlap areas and union areas (N, M) of every box of a (N, 4) with every box of b (M, 4), unchecked."""
    ax1, ay1, ax2, ay2 = (a[:, k].contiguous()[:, None] for k in range(4))  # (N, 1) each
    bx1, by1, bx2, by2 = (b[:, k].contiguous()[None, :] for k in range(4))  # (1, M) each
    # one coordinate at a time: much faster on a CPU than an (N, M, 2) tensor of corners
    width = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp_(min=0)  # (N, M): 0 if no overlap
    height = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp_(min=0)  # (N, M)
    inter = width.mul_(height)  # (N, M)
    union = (box_area(a)[:, None] + box_area(b)[None, :]) - inter  # (N, M)
    return inter, union


def _pairwise_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every box of a (N, 4) with every box of b (M, 4), unchecked; 0 where both areas are 0."""
    inter, union = _intersection_union(a, b)
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), torch.zeros_like(inter))


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair: boxes1 (Tensor[N, 4]) × boxes2 (Tensor[M, 4]) → Tensor[N, M].

    IoU = area of the overlap / area of the union, from 0 (disjoint) to 1 (the same box). Two boxes of
    zero area have IoU 0 here (torchvision returns NaN for 0/0).
    """
    boxes1, boxes2 = check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2")
    return _pairwise_iou(boxes1, boxes2)


@dataclass(frozen=True)
class Overlap:
    intersection: float  # area of the overlap
    union: float  # area covered by either box
    iou: float  # intersection / union (0 when the union is empty)
    box: tuple[float, float, float, float] | None  # the overlap rectangle, None when the boxes do not overlap


def overlap(box1: torch.Tensor, box2: torch.Tensor) -> Overlap:
    """Intersection, union, IoU and the overlap rectangle of two boxes (Tensor[4] each, x1, y1, x2, y2)."""
    a = check_boxes(torch.as_tensor(box1, dtype=torch.float64).reshape(-1, 4), "box1")
    b = check_boxes(torch.as_tensor(box2, dtype=torch.float64).reshape(-1, 4), "box2")
    inter, union = (v.item() for v in _intersection_union(a, b))
    x1, y1 = torch.maximum(a[0, :2], b[0, :2]).tolist()
    x2, y2 = torch.minimum(a[0, 2:], b[0, 2:]).tolist()
    return Overlap(inter, union, inter / union if union > 0 else 0.0,
                   (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None)


# ---------------------------------------------------------------------------------------------------------------
# Non-max suppression


# Temporaries of a block stay under glibc's default mmap threshold (128 KiB): a fresh N × N matrix each call
# came from mmap and cost a page fault per 4 KiB — about 7 of the 11 ms that 1,000 boxes took.
_BLOCK_BYTES = 120 * 1024


class _SortedBoxes:
    """Boxes sorted by descending score, as numpy columns, with the IoU test of a block of rows."""

    def __init__(self, boxes: np.ndarray, classes: np.ndarray | None):
        self.x1, self.y1, self.x2, self.y2 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
        self.area = (self.x2 - self.x1) * (self.y2 - self.y1)
        self.classes = classes

    def overlaps(self, rows: np.ndarray, start: int, iou_threshold: float) -> np.ndarray:
        """Boolean (len(rows), N − start): IoU(row box, box j) > iou_threshold for every box j ≥ start.

        Tests inter > t·union instead of dividing (no 0/0 for boxes of zero area), in place to keep it small.
        """
        x1, y1, x2, y2 = self.x1[start:], self.y1[start:], self.x2[start:], self.y2[start:]
        inter = np.minimum(self.x2[rows, None], x2)  # the overlap's width …
        inter -= np.maximum(self.x1[rows, None], x1)
        np.maximum(inter, 0, out=inter)
        height = np.minimum(self.y2[rows, None], y2)
        height -= np.maximum(self.y1[rows, None], y1)
        np.maximum(height, 0, out=height)
        inter *= height  # … times its height
        union = self.area[rows, None] + self.area[start:]
        union -= inter
        union *= iou_threshold
        over = inter > union
        if self.classes is not None:  # boxes of different classes never suppress each other
            over &= self.classes[rows, None] == self.classes[start:]
        return over


def _greedy_nms(boxes: np.ndarray, iou_threshold: float, classes: np.ndarray | None) -> list[int]:
    """Greedy NMS over boxes (N, 4) already sorted by descending score: the positions of the boxes kept.

    Walk down the list: a box not yet suppressed is kept and suppresses every later box it overlaps too much.
    The walk goes a block of rows at a time, and only the rows still alive are compared with the later boxes,
    so the work is about half the N × N matrix at most, and far less when many boxes are suppressed.
    """
    n = boxes.shape[0]
    sorted_boxes = _SortedBoxes(boxes, classes)
    block = max(1, _BLOCK_BYTES // (boxes.itemsize * n))
    suppressed = np.zeros(n, dtype=bool)
    keep: list[int] = []
    for start in range(0, n, block):
        rows = np.flatnonzero(~suppressed[start:start + block]) + start
        if rows.size == 0:
            continue
        over = sorted_boxes.overlaps(rows, start, iou_threshold)
        for row, i in zip(over, rows.tolist(), strict=True):
            if not suppressed[i]:
                keep.append(i)
                suppressed[start:] |= row
    return keep


def _nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, classes: torch.Tensor | None,
         ) -> torch.Tensor:
    order = torch.sort(scores, descending=True, stable=True).indices  # ties: the lower index first
    sorted_classes = None if classes is None else classes[order].cpu().numpy()
    keep = _greedy_nms(boxes[order].detach().cpu().numpy(), iou_threshold, sorted_classes)
    return order[torch.as_tensor(keep, dtype=torch.long, device=order.device)]


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Non-max suppression: indices (Tensor[K], int64) of the boxes kept, by descending score.

    Take the highest-scoring box, drop every other box whose IoU with it is greater than
    `iou_threshold`, and repeat with the best box left — the definition of `torchvision.ops.nms`.
    boxes (Tensor[N, 4]) in (x1, y1, x2, y2) format; scores (Tensor[N]); iou_threshold in [0, 1].
    Equal scores keep the box with the lower index first.
    """
    boxes = check_boxes(boxes, "boxes")
    _check_vector(scores, "scores", boxes.shape[0])
    iou_threshold = validate("iou_threshold", iou_threshold)
    if boxes.shape[0] == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    return _nms(boxes, scores, iou_threshold, None)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, iou_threshold: float,
                ) -> torch.Tensor:
    """Non-max suppression done separately for each class, like `torchvision.ops.batched_nms`.

    A car box never suppresses a pedestrian box, however much they overlap. classes (Tensor[N], integers);
    the rest as in `nms`. Returns kept indices (Tensor[K], int64) by descending score, all classes merged.
    """
    boxes = check_boxes(boxes, "boxes")
    _check_vector(scores, "scores", boxes.shape[0])
    _check_vector(classes, "classes", boxes.shape[0])
    iou_threshold = validate("iou_threshold", iou_threshold)
    if boxes.shape[0] == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    return _nms(boxes, scores, iou_threshold, classes)


# ---------------------------------------------------------------------------------------------------------------
# The YOLO output tensor


def yolo_output_shape(grid_size: int, num_anchors: int, num_classes: int) -> tuple[int, int, int, int]:
    """(S, S, A, 5 + C): per cell and anchor, p_c, four box numbers and C class probabilities."""
    grid_size, num_anchors = validate("grid_size", grid_size), validate("num_anchors", num_anchors)
    return (grid_size, grid_size, num_anchors, 5 + num_classes)


def describe_yolo_output(image_size: int, grid_size: int, num_anchors: int, num_classes: int) -> str:
    """The sizes in a YOLO output tensor, in words: shape, boxes, numbers per box, pixels per cell."""
    S, _, A, per_box = yolo_output_shape(grid_size, num_anchors, num_classes)
    return (f"input {image_size} × {image_size} → output tensor {(S, S, A, per_box)}\n"
            f"  {S} × {S} cells of {image_size / S:g} × {image_size / S:g} pixels, {A} anchor boxes each\n"
            f"  {S * S * A:,} boxes, each [p_c, b_x, b_y, b_w, b_h] + {num_classes} class probabilities "
            f"= {per_box} numbers\n"
            f"  {S * S * A * per_box:,} numbers in all")


def describe_yolo_v1_output(image_size: int = 448, grid_size: int = 7, boxes_per_cell: int = 2,
                            num_classes: int = 20) -> str:
    """The first YOLO's output (Redmon et al., 2016): S × S × (B·5 + C), one set of class probabilities
    per cell shared by its B boxes, no anchors."""
    per_cell = boxes_per_cell * 5 + num_classes
    S = validate("grid_size", grid_size)
    return (f"input {image_size} × {image_size} → output tensor {(S, S, per_cell)}\n"
            f"  {S} × {S} cells of {image_size / S:g} × {image_size / S:g} pixels, {boxes_per_cell} boxes each\n"
            f"  {S * S * boxes_per_cell:,} boxes; per cell {boxes_per_cell} × [p_c, x, y, w, h] + {num_classes} "
            f"class probabilities = {per_cell} numbers\n"
            f"  {S * S * per_cell:,} numbers in all")


def check_prediction(prediction: torch.Tensor, name: str = "prediction") -> None:
    """Raise ValueError unless `prediction` has shape (S_rows, S_cols, A, 5 + C) with C ≥ 1."""
    if not isinstance(prediction, torch.Tensor) or prediction.dim() != 4 or prediction.shape[-1] < 6:
        shape = tuple(prediction.shape) if isinstance(prediction, torch.Tensor) else type(prediction).__name__
        raise ValueError(f"The '{name}' parameter must have shape (S, S, anchors, 5 + classes) with at least one "
                         f"class. Got {shape} instead.")


def yolo_head(raw: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Turn a network's raw output (…, S, S, A, 5 + C) into the prediction `decode_yolo` reads (same shape).

    Per anchor slot, with (c_x, c_y) the cell's column and row and (p_w, p_h) the anchor's size (a fraction
    of the image; anchors is Tensor[A, 2]): p_c = σ(t_o), b_x = (c_x + σ(t_x)) / S, b_y = (c_y + σ(t_y)) / S,
    b_w = p_w·e^(t_w), b_h = p_h·e^(t_h), class probabilities = softmax of the class logits (YOLOv2's form).
    """
    rows, cols = raw.shape[-4], raw.shape[-3]
    col = torch.arange(cols, device=raw.device, dtype=raw.dtype)[None, :, None]  # (1, S, 1)
    row = torch.arange(rows, device=raw.device, dtype=raw.dtype)[:, None, None]  # (S, 1, 1)
    p_c = torch.sigmoid(raw[..., 0:1])
    b_x = (col + torch.sigmoid(raw[..., 1])) / cols
    b_y = (row + torch.sigmoid(raw[..., 2])) / rows
    b_wh = anchors.to(raw) * torch.exp(raw[..., 3:5].clamp(max=8.0))  # clamp: e^t must not overflow
    probs = torch.softmax(raw[..., 5:], dim=-1)
    return torch.cat([p_c, b_x[..., None], b_y[..., None], b_wh, probs], dim=-1)


def center_to_corners(boxes: torch.Tensor) -> torch.Tensor:
    """(…, 4) boxes as (b_x, b_y, b_w, b_h) centre and size → (…, 4) corners (x1, y1, x2, y2)."""
    xy, wh = boxes[..., :2], boxes[..., 2:4]
    return torch.cat([xy - wh / 2, xy + wh / 2], dim=-1)


@dataclass(frozen=True)
class Detections:
    boxes: torch.Tensor  # (K, 4) corners (x1, y1, x2, y2), in pixels when an image size was given
    scores: torch.Tensor  # (K,) p_c × probability of the chosen class
    classes: torch.Tensor  # (K,) int64, the most probable class
    cells: torch.Tensor  # (K, 3) int64: grid row i, grid column j, anchor a that predicted each box

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def select(self, index: torch.Tensor) -> Detections:
        """The detections at `index` (a boolean mask or a tensor of indices), in that order."""
        return Detections(self.boxes[index], self.scores[index], self.classes[index], self.cells[index])


def decode_yolo(prediction: torch.Tensor, *, score_threshold: float = 0.0, image_size: float = 1.0) -> Detections:
    """Turn a YOLO prediction (S, S, A, 5 + C) into scored boxes, best first.

    Each of the S·S·A anchor slots gives one box. Its class is the most probable one, and its score is
    p_c × P(class | object): "how sure that there is an object here, times how sure what it is". Boxes
    scoring below `score_threshold` (in [0, 1]) are dropped. b_x, b_y, b_w, b_h are fractions of the
    image; the corners come back multiplied by `image_size` (pixels for a square image of that side).
    """
    check_prediction(prediction)
    score_threshold = validate("score_threshold", score_threshold)
    rows, cols, anchors, _ = prediction.shape
    flat = prediction.reshape(-1, prediction.shape[-1])  # (S·S·A, 5 + C), row-major: i, then j, then a
    class_scores = flat[:, :1] * flat[:, 5:]  # (S·S·A, C): p_c × class probability
    scores, classes = class_scores.max(dim=1)  # (S·S·A,) each
    boxes = center_to_corners(flat[:, 1:5]) * image_size  # (S·S·A, 4)
    index = torch.arange(flat.shape[0], device=flat.device)
    cells = torch.stack([index // (cols * anchors), index // anchors % cols, index % anchors], dim=1)  # (S·S·A, 3)
    keep = scores >= score_threshold
    order = torch.sort(scores[keep], descending=True, stable=True).indices
    kept = keep.nonzero()[:, 0][order]
    return Detections(boxes[kept], scores[kept], classes[kept], cells[kept])


def score_filter(detections: Detections, score_threshold: float) -> Detections:
    """The detections whose score is at least `score_threshold` (in [0, 1])."""
    score_threshold = validate("score_threshold", score_threshold)
    return detections.select(detections.scores >= score_threshold)


def non_max_suppression(detections: Detections, iou_threshold: float, per_class: bool = True) -> Detections:
    """`batched_nms` (or plain `nms` when `per_class` is False) applied to a set of detections."""
    if per_class:
        keep = batched_nms(detections.boxes, detections.scores, detections.classes, iou_threshold)
    else:
        keep = nms(detections.boxes, detections.scores, iou_threshold)
    return detections.select(keep)


def detect(prediction: torch.Tensor, score_threshold: float, iou_threshold: float, *, image_size: float = 1.0,
           ) -> Detections:
    """The YOLO pipeline after the network: decode, drop low scores, then per-class non-max suppression."""
    decoded = decode_yolo(prediction, score_threshold=score_threshold, image_size=image_size)
    return non_max_suppression(decoded, iou_threshold)


# ---------------------------------------------------------------------------------------------------------------
# Measuring a detector


@dataclass(frozen=True)
class Matches:
    true_positive: torch.Tensor  # (K,) bool, for detections sorted by descending score
    scores: torch.Tensor  # (K,) their scores
    num_objects: int  # ground-truth objects of this class


def match_detections(boxes: torch.Tensor, scores: torch.Tensor, truth: torch.Tensor, iou_threshold: float = 0.5,
                     ) -> Matches:
    """Greedy PASCAL VOC matching in one image and class: by descending score, a detection is a true
    positive if its best IoU with a not-yet-matched ground-truth box (Tensor[G, 4]) is ≥ `iou_threshold`."""
    iou_threshold = validate("iou_threshold", iou_threshold)
    order = torch.sort(scores, descending=True, stable=True).indices
    boxes, scores = boxes[order], scores[order]
    hit = torch.zeros(len(order), dtype=torch.bool)
    if len(truth) and len(order):
        iou = _pairwise_iou(boxes, truth).cpu()  # (K, G)
        taken = torch.zeros(len(truth), dtype=torch.bool)
        for k in range(len(order)):
            candidates = iou[k].masked_fill(taken, -1.0)
            best = int(candidates.argmax())
            if candidates[best] >= iou_threshold:
                hit[k], taken[best] = True, True
    return Matches(hit, scores.cpu(), len(truth))


def average_precision(matches: list[Matches]) -> float:
    """Area under the precision–recall curve of one class over many images (VOC all-points interpolation).

    NaN when the class has no ground-truth object."""
    num_objects = sum(m.num_objects for m in matches)
    if num_objects == 0:
        return float("nan")
    hits = torch.cat([m.true_positive for m in matches] + [torch.zeros(0, dtype=torch.bool)])
    scores = torch.cat([m.scores for m in matches] + [torch.zeros(0)])
    if len(hits) == 0:
        return 0.0
    hits = hits[torch.sort(scores, descending=True, stable=True).indices].double()
    tp = torch.cumsum(hits, 0)
    precision = tp / torch.arange(1, len(hits) + 1, dtype=torch.float64)
    recall = tp / num_objects
    # make precision non-increasing from the right, then sum the rectangles under it
    precision = torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])
    recall_steps = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((precision * recall_steps).sum())
