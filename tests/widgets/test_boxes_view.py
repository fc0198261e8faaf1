"""The boxes-on-an-image view: layers of outlines, labels, lines and notes, updated in place."""

import base64
import io

import numpy as np
from PIL import Image

from widgets.views.boxes import BoxesView, grid_segments, outline, photo_pixels


def test_outline_joins_boxes_with_gaps():
    xs, ys = outline([(0, 0, 2, 1), (5, 5, 6, 7)])
    assert xs == [0, 2, 2, 0, 0, None, 5, 6, 6, 5, 5, None]
    assert ys == [0, 0, 1, 1, 0, None, 5, 5, 7, 7, 5, None]


def test_a_photo_reaches_the_browser_as_one_png_with_sharp_enlarged_pixels():
    view = BoxesView("scene", 2)
    image = np.array([[[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]], [[0.2, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # (2, 2, 3)
    view.show_image(image)
    (photo,) = view.figure.layout.images
    assert photo.source.startswith("data:image/png;base64,") and (photo.x, photo.y) == (0, 0)
    assert (photo.sizex, photo.sizey, photo.xref, photo.yref, photo.layer) == (2, 2, "x", "y", "below")
    np.testing.assert_array_equal(photo_pixels(view.figure, 2), [[[0, 128, 255], [255, 255, 255]],
                                                                [[51, 0, 0], [0, 0, 0]]])
    enlarged = np.asarray(Image.open(io.BytesIO(base64.b64decode(photo.source.split(",")[1]))))
    assert enlarged.shape == (384, 384, 3) and (enlarged[:192, :192] == [0, 128, 255]).all()  # 192 × 192 blocks
    assert not view.figure.data  # no trace carries the pixels


def test_grid_segments_cut_the_image_into_cells():
    assert grid_segments(64, 4) == [(16, 0, 16, 64), (0, 16, 64, 16), (32, 0, 32, 64), (0, 32, 64, 32),
                                    (48, 0, 48, 64), (0, 48, 64, 48)]
    assert grid_segments(64, 1) == []


def test_layers_show_count_hide_and_label_boxes():
    view = BoxesView("scene", 64, empty_text="Train first")
    view.add_layer("found", "#0072B2", labels=True)
    view.add_layer("grid", "#ffffff", legend=False)
    view.show_image(np.zeros((64, 64, 3)))
    view.set_boxes("found", [(1, 2, 10, 12), (20, 20, 30, 40)], ["a 0.9", "b 0.7"])
    assert view.count("found") == 2
    labels = view.figure.data[1]
    assert labels.text == ("a 0.9", "b 0.7") and labels.x == (1, 20) and labels.y == (2, 20)
    view.set_lines("grid", grid_segments(64, 2))
    assert view.figure.data[2].x == (32, 32, None, 0, 64, None)
    view.set_visible("found", False)
    assert view.figure.data[0].visible is False and view.figure.data[1].visible is False
    assert [a.text for a in view.figure.layout.annotations] == ["Train first"]
    view.note("")
    assert view.figure.layout.annotations == ()
    view.set_boxes("found", [])
    assert view.count("found") == 0


def test_two_views_of_one_photo_share_one_encoding():
    from widgets.views.boxes import _png_uri

    image = np.random.default_rng(1).random((64, 64, 3))
    left, right = BoxesView("before", 64), BoxesView("after", 64)
    misses = _png_uri.cache_info().misses
    left.show_image(image)
    right.show_image(image)
    assert _png_uri.cache_info().misses == misses + 1
    assert left.figure.layout.images[0].source == right.figure.layout.images[0].source
    np.testing.assert_array_equal(photo_pixels(right.figure, 64), np.rint(image * 255))
