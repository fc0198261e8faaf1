"""IoU, non-max suppression and YOLO decoding against hand-computed values and brute-force references."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import detection
from lab.detection import (
    Matches,
    average_precision,
    batched_nms,
    box_iou,
    decode_yolo,
    detect,
    match_detections,
    nms,
    overlap,
    yolo_head,
    yolo_output_shape,
)


def iou_reference(a, b):
    """IoU of two boxes written out with plain Python numbers."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_reference(boxes, scores, threshold, classes=None):
    """Greedy NMS as torchvision defines it, one pair at a time (equal scores: lower index first)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(iou_reference(boxes[i], boxes[k]) <= threshold or (classes is not None and classes[i] != classes[k])
               for k in keep):
            keep.append(i)
    return keep


def random_boxes(n, seed, size=100.0, max_side=30.0):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * size
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * max_side
    return torch.cat([xy, xy + wh], dim=1), torch.rand(n, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize(("a", "b", "expected"), [
    ((0, 0, 2, 2), (1, 1, 3, 3), 1 / 7),  # overlap 1, union 4 + 4 − 1
    ((0, 0, 2, 2), (0, 0, 2, 2), 1.0),
    ((0, 0, 2, 2), (2, 0, 4, 2), 0.0),  # touching edges do not overlap
    ((0, 0, 2, 2), (5, 5, 6, 6), 0.0),
    ((0, 0, 4, 4), (1, 1, 2, 2), 1 / 16),  # one inside the other
    ((0, 0, 4, 2), (2, 0, 6, 2), 4 / 12),
    ((1, 1, 1, 1), (1, 1, 1, 1), 0.0),  # zero area: 0 here, NaN in torchvision
])
def test_box_iou_hand_computed(a, b, expected):
    iou = box_iou(torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64))
    assert iou.shape == (1, 1) and iou.item() == pytest.approx(expected)


def test_box_iou_is_n_by_m_and_matches_the_reference():
    boxes1, _ = random_boxes(7, 1)
    boxes2, _ = random_boxes(5, 2)
    iou = box_iou(boxes1, boxes2)
    assert iou.shape == (7, 5)
    expected = [[iou_reference(a, b) for b in boxes2.tolist()] for a in boxes1.tolist()]
    torch.testing.assert_close(iou, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(box_iou(boxes2, boxes1), iou.T)


def test_box_iou_accepts_integer_boxes():
    assert box_iou(torch.tensor([[0, 0, 2, 2]]), torch.tensor([[1, 1, 3, 3]])).item() == pytest.approx(1 / 7)


def test_overlap_gives_the_intersection_rectangle():
    result = overlap(torch.tensor([20.0, 20, 60, 60]), torch.tensor([40.0, 35, 80, 75]))
    assert result.box == (40.0, 35.0, 60.0, 60.0)
    assert (result.intersection, result.union) == (500.0, 2700.0) and result.iou == pytest.approx(500 / 2700)
    assert overlap(torch.tensor([0.0, 0, 1, 1]), torch.tensor([2.0, 2, 3, 3])).box is None


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("seed", range(4))
def test_nms_matches_the_brute_force_reference(seed, threshold):
    boxes, scores = random_boxes(60, seed)
    keep = nms(boxes, scores, threshold)
    assert keep.dtype == torch.long
    assert keep.tolist() == nms_reference(boxes.tolist(), scores.tolist(), threshold)
    assert torch.all(scores[keep][:-1] >= scores[keep][1:])  # by descending score


@pytest.mark.parametrize("block_bytes", [4 * 8, 40 * 8, 1 << 20])  # one row a block, several, all at once
def test_nms_walks_blocks_of_rows_like_the_reference(monkeypatch, block_bytes):
    monkeypatch.setattr(detection, "_BLOCK_BYTES", block_bytes)
    boxes, scores = random_boxes(300, 7)
    classes = torch.randint(0, 3, (300,), generator=torch.Generator().manual_seed(7))
    for threshold in (0.2, 0.5):
        assert nms(boxes, scores, threshold).tolist() == nms_reference(boxes.tolist(), scores.tolist(), threshold)
        assert batched_nms(boxes, scores, classes, threshold).tolist() == nms_reference(
            boxes.tolist(), scores.tolist(), threshold, classes.tolist())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0, 20), st.floats(0, 20),
                          st.integers(0, 4), st.integers(0, 2)), min_size=0, max_size=25),
       st.floats(0, 1))
def test_nms_and_batched_nms_match_the_reference_on_any_boxes(rows, threshold):
    boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h, _, _ in rows], dtype=torch.float64).reshape(-1, 4)
    scores = torch.tensor([s / 4 for *_, s, _ in rows], dtype=torch.float64)  # few values: many ties
    classes = torch.tensor([c for *_, c in rows], dtype=torch.long)
    assert nms(boxes, scores, threshold).tolist() == nms_reference(boxes.tolist(), scores.tolist(), threshold)
    assert batched_nms(boxes, scores, classes, threshold).tolist() == nms_reference(
        boxes.tolist(), scores.tolist(), threshold, classes.tolist())


def test_nms_hand_example():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    # box 3 wins; box 0 overlaps it by IoU 0.9 and goes; box 1 overlaps box 3 by 72/(90 + 100 − 72) = 0.61
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert nms(boxes, scores, 0.65).tolist() == [3, 1, 2]
    assert nms(boxes, scores, 0.95).tolist() == [3, 0, 1, 2]
    assert nms(boxes[:0], scores[:0], 0.5).tolist() == []


def test_batched_nms_never_suppresses_across_classes():
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10.0]])
    scores = torch.tensor([0.5, 0.9, 0.7])
    assert nms(boxes, scores, 0.5).tolist() == [1]
    assert batched_nms(boxes, scores, torch.tensor([0, 1, 0]), 0.5).tolist() == [1, 2]
    assert batched_nms(boxes, scores, torch.tensor([0, 1, 2]), 0.5).tolist() == [1, 2, 0]


def hand_built_prediction():
    """S = 2, two anchors, three classes; one confident box, one weak box, the rest empty."""
    prediction = torch.zeros(2, 2, 2, 8)
    prediction[..., 5:] = 1 / 3
    # row 1, column 0, anchor 1: p_c 0.9, centre (0.25, 0.75), size 0.2 × 0.4, class 1 at 0.7
    prediction[1, 0, 1] = torch.tensor([0.9, 0.25, 0.75, 0.2, 0.4, 0.1, 0.7, 0.2])
    # row 0, column 1, anchor 0: p_c 0.5, class 2 at 0.8 → score 0.4
    prediction[0, 1, 0] = torch.tensor([0.5, 0.75, 0.25, 0.5, 0.5, 0.1, 0.1, 0.8])
    return prediction


def test_decode_yolo_on_a_hand_built_tensor():
    found = decode_yolo(hand_built_prediction(), image_size=100)
    assert len(found) == 8  # every anchor slot gives a box before thresholding
    assert found.scores[:2].tolist() == pytest.approx([0.63, 0.4])  # p_c × class probability, best first
    assert found.classes[:2].tolist() == [1, 2]
    torch.testing.assert_close(found.boxes[0], torch.tensor([15.0, 55.0, 35.0, 95.0]))
    torch.testing.assert_close(found.boxes[1], torch.tensor([50.0, 0.0, 100.0, 50.0]))
    assert found.cells[:2].tolist() == [[1, 0, 1], [0, 1, 0]]
    assert torch.all(found.scores[2:] == 0)
    kept = decode_yolo(hand_built_prediction(), score_threshold=0.6)
    assert len(kept) == 1 and kept.classes.tolist() == [1]
    assert len(decode_yolo(hand_built_prediction(), score_threshold=0.64)) == 0
    assert len(detect(hand_built_prediction(), 0.3, 0.5)) == 2


def test_yolo_head_turns_raw_numbers_into_the_prediction():
    raw = torch.zeros(3, 3, 2, 6, dtype=torch.float64)
    raw[2, 1, 1] = torch.tensor([2.0, 0.0, 0.0, math.log(2), 0.0, 5.0])
    anchors = torch.tensor([[0.2, 0.1], [0.1, 0.3]], dtype=torch.float64)
    out = yolo_head(raw, anchors)
    assert out.shape == raw.shape
    p_c, bx, by, bw, bh, prob = out[2, 1, 1].tolist()
    assert p_c == pytest.approx(1 / (1 + math.exp(-2)))
    assert (bx, by) == pytest.approx(((1 + 0.5) / 3, (2 + 0.5) / 3))  # column 1, row 2, σ(0) = ½
    assert (bw, bh) == pytest.approx((0.2, 0.3))  # anchor 1 is 0.1 × 0.3; e^(log 2) doubles the width
    assert prob == 1.0  # one class: softmax gives 1


def test_the_notes_yolo_tensor_has_1805_boxes_of_85_numbers():
    assert yolo_output_shape(19, 5, 80) == (19, 19, 5, 85)
    assert len(decode_yolo(torch.rand(yolo_output_shape(19, 5, 80)))) == 19 * 19 * 5


def test_average_precision_hand_cases():
    perfect = Matches(torch.tensor([True, True]), torch.tensor([0.9, 0.8]), 2)
    assert average_precision([perfect]) == pytest.approx(1.0)
    # a false positive ranked above the only hit: precision 1/2 at recall 1
    assert average_precision([Matches(torch.tensor([False, True]), torch.tensor([0.9, 0.8]), 1)]) == 0.5
    # half the objects never found
    assert average_precision([Matches(torch.tensor([True]), torch.tensor([0.9]), 2)]) == 0.5
    assert math.isnan(average_precision([Matches(torch.zeros(0, dtype=torch.bool), torch.zeros(0), 0)]))


def test_match_detections_counts_each_object_once():
    truth = torch.tensor([[0.0, 0, 10, 10]])
    boxes = torch.tensor([[0.0, 0, 10, 10], [1.0, 0, 10, 10], [50.0, 50, 60, 60]])
    matches = match_detections(boxes, torch.tensor([0.5, 0.9, 0.7]), truth)
    assert matches.true_positive.tolist() == [True, False, False]  # the 0.9 box takes the object
    assert matches.scores.tolist() == pytest.approx([0.9, 0.7, 0.5])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: box_iou(torch.tensor([[2.0, 0, 1, 1]]), torch.zeros(1, 4)), r"'boxes1' parameter .* x1 ≤ x2"),
    (lambda: box_iou(torch.zeros(1, 4), torch.tensor([[0.0, 3, 1, 1]])), r"'boxes2' parameter .* y1 ≤ y2"),
    (lambda: box_iou(torch.zeros(2, 3), torch.zeros(1, 4)), r"'boxes1' parameter must have shape \(N, 4\)"),
    (lambda: box_iou([[0, 0, 1, 1]], torch.zeros(1, 4)), r"'boxes1' parameter must be a torch.Tensor"),
    (lambda: nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5]), 1.5), r"'iou_threshold' parameter"),
    (lambda: nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5]), -0.1), r"'iou_threshold' parameter"),
    (lambda: nms(torch.tensor([[1.0, 0, 0, 1]]), torch.tensor([0.5]), 0.5), r"'boxes' parameter"),
    (lambda: nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([0.5, 0.2]), 0.5), r"'scores' parameter .* \(1,\)"),
    (lambda: batched_nms(torch.zeros(2, 4), torch.zeros(2), torch.zeros(3), 0.5), r"'classes' parameter"),
    (lambda: decode_yolo(hand_built_prediction(), score_threshold=1.2), r"'score_threshold' parameter"),
    (lambda: decode_yolo(torch.zeros(4, 4, 5)), r"'prediction' parameter must have shape \(S, S, anchors"),
    (lambda: decode_yolo(torch.zeros(4, 4, 2, 5)), r"at least one class"),
])
def test_bad_inputs_raise_a_value_error_naming_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_yolo_output_descriptions_compute_the_sizes():
    from lab.detection import describe_yolo_output, describe_yolo_v1_output

    v2 = describe_yolo_output(608, 19, 5, 80)
    assert "(19, 19, 5, 85)" in v2 and "32 × 32 pixels" in v2 and "1,805 boxes" in v2 and "153,425 numbers" in v2
    v1 = describe_yolo_v1_output()
    assert "(7, 7, 30)" in v1 and "64 × 64 pixels" in v1 and "1,470 numbers" in v1
