"""lab.data.scenes: seeded detection scenes, shapes painted inside their ground-truth boxes."""

import pytest
import torch

from lab.data.scenes import CLASS_NAMES, SceneConfig, describe_scene, make_scenes, shape_masks
from lab.data.scenes import test_scenes as held_out_scenes  # renamed: pytest would collect test_scenes
from lab.seeding import make_generator


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(40, seed=3)


def test_scenes_are_seeded_and_boxes_lie_inside_the_image(scenes):
    again = make_scenes(40, seed=3)
    torch.testing.assert_close(scenes.images, again.images)
    assert torch.equal(scenes.boxes, again.boxes)
    assert not torch.equal(make_scenes(40, seed=4).boxes, scenes.boxes)
    assert scenes.images.shape == (40, 3, 64, 64) and scenes.images.min() >= 0 and scenes.images.max() <= 1
    assert scenes.counts.min() >= 1 and scenes.counts.max() <= 3
    for n in range(len(scenes)):
        boxes, classes = scenes.objects(n)
        assert torch.all(boxes >= 0) and torch.all(boxes <= 64)
        assert torch.all((boxes[:, 2:] - boxes[:, :2]) >= 0.2 * 64 - 1e-4)
        assert set(classes.tolist()) <= {0, 1, 2}
        assert torch.all(scenes.classes[n, len(classes):] == -1)


def test_each_shape_is_painted_in_one_colour_inside_its_box(scenes):
    boxes, _ = scenes.objects(0)
    x1, y1, x2, y2 = boxes[-1].tolist()  # painted last: nothing covers it
    cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2 + (y2 - y1) / 4)  # inside every kind of shape
    centre = scenes.images[0, :, cy, cx]
    assert torch.allclose(scenes.images[0, :, cy + 1, cx], centre)  # a flat colour, not the photo


def test_describe_scene_lists_each_object(scenes):
    text = describe_scene(scenes, 0).splitlines()
    assert len(text) == int(scenes.counts[0])
    box = [round(v, 1) for v in scenes.objects(0)[0][0].tolist()]
    assert text[0].endswith(f"x1, y1, x2, y2 = {box}")


def test_a_seed_and_a_generator_of_that_seed_make_the_same_scenes():
    assert torch.equal(make_scenes(3, 7).boxes, make_scenes(3, make_generator(7)).boxes)


def test_shape_masks_fill_a_rectangle_an_ellipse_and_a_triangle_inside_their_box():
    boxes = torch.tensor([[2.0, 2.0, 10.0, 10.0]] * 3)
    masks = shape_masks(boxes, torch.tensor([0, 1, 2]), 12)  # (3, 12, 12)
    rectangle, ellipse, triangle = masks.sum(dim=(1, 2)).tolist()
    assert rectangle == 64 and triangle < ellipse < rectangle  # 8 × 8 box: π·4² ≈ 50, the triangle ≈ 32
    assert not masks[:, :2].any() and not masks[:, :, 10:].any()  # nothing outside the box
    assert len(CLASS_NAMES) == 3 == SceneConfig().num_classes


def test_make_scenes_refuses_a_bad_count():
    with pytest.raises(ValueError, match="The 'num_scenes' parameter must be a whole number ≥ 1. Got 0 instead."):
        make_scenes(0)


def test_held_out_scenes_are_made_once():
    assert held_out_scenes(4, 1) is held_out_scenes(4, 1)
