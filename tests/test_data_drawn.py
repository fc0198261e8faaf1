"""lab.data.drawn: the presets, the learner's drawing, and the words that say what a drawing lacks."""

import math

import pytest
import torch

from lab.data.drawn import (
    MAX_POINTS,
    PLANE,
    PRESETS,
    DrawnSet,
    drawn_set_problem,
    make_preset,
    points_to_tensors,
)


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_is_seeded_inside_the_plane_and_has_both_classes(name):
    X, Y = make_preset(name, m=200, seed=4)
    assert X.shape == (2, 200) and Y.shape == (1, 200) and X.dtype == torch.float32
    torch.testing.assert_close(X, make_preset(name, m=200, seed=4)[0])
    assert not torch.equal(X, make_preset(name, m=200, seed=5)[0])
    assert X.min() >= PLANE[0] and X.max() <= PLANE[1]
    assert set(Y.flatten().tolist()) == {0.0, 1.0} and 0.4 < Y.mean().item() < 0.6


def test_xor_labels_are_one_where_the_coordinates_share_a_sign():
    X, Y = make_preset("xor", m=300)
    assert torch.equal(Y[0], ((X[0] > 0) == (X[1] > 0)).float())
    assert X.abs().min().item() >= 0.4  # a margin around both axes


def test_circles_put_class_one_inside():
    X, Y = make_preset("circles", m=400)
    radius = X.norm(dim=0)
    assert radius[Y[0] == 1].mean() < 2 < radius[Y[0] == 0].mean()


def test_moons_are_not_linearly_trivial_but_centred():
    X, _ = make_preset("moons", m=400)
    assert X.mean(dim=1).abs().max().item() < 0.6


def test_make_preset_validates_its_arguments():
    with pytest.raises(ValueError, match=r"The 'preset' parameter must be one of \['flower', 'moons', 'circles', "
                                         r"'xor'\]\. Got 'spiral' instead\."):
        make_preset("spiral")
    with pytest.raises(ValueError, match=rf"The 'm' parameter must be a whole number in the range "
                                         rf"\[2, {MAX_POINTS}\]\. Got 1 instead\."):
        make_preset("moons", m=1)
    with pytest.raises(ValueError, match=r"The 'm' parameter must be a whole number .* Got 2\.5 instead\."):
        make_preset("moons", m=2.5)


@pytest.mark.parametrize("labels, words", [
    ([], "There are no points yet: choose a class, then click on the plot"),
    ([1], "The only point is blue: a classifier needs both classes"),
    ([1, 1, 1, 1, 1, 1, 1], "All 7 points are blue: a classifier needs both classes to draw a boundary between them. "
                            "Set 'New points are' to orange (class 0) and click to add some."),
    ([0, 0, 0], "All 3 points are orange: a classifier needs both classes to draw a boundary between them. "
                "Set 'New points are' to blue (class 1)"),
    ([0, 1, 0, 1], "Only 4 points (2 orange, 2 blue): there is too little to learn from. Click to add more, until "
                   "there are at least 6 with 2 or more of each class."),
    ([0, 0, 0, 0, 0, 0, 1], "Only 7 points (6 orange, 1 blue)"),
])
def test_a_drawing_that_cannot_be_learned_is_explained(labels, words):
    assert drawn_set_problem(labels).startswith(words)


def test_a_drawing_with_enough_of_both_classes_is_fine():
    assert drawn_set_problem([0, 0, 0, 1, 1, 1]) is None
    assert DrawnSet("circles").problem() is None


def test_a_drawn_set_starts_from_a_preset_and_names_what_it_holds():
    drawn = DrawnSet("moons", seed=2)
    X, Y = make_preset("moons", seed=2, dtype=torch.float64)
    assert drawn.name == "moons" and len(drawn.points) == 200
    torch.testing.assert_close(drawn.tensors(torch.float64)[0], X)
    drawn.add(1.5, -2.0, 1)
    assert drawn.name == "moons + your points" and drawn.points[-1] == (1.5, -2.0, 1)
    drawn.clear()
    assert drawn.points == [] and drawn.name == "your points" and drawn.problem().startswith("There are no points")
    drawn.load("xor")
    assert drawn.name == "xor" and len(drawn.points) == 200


def test_adding_replaces_the_list_so_a_snapshot_never_changes():
    drawn = DrawnSet(None)
    snapshot = drawn.points
    drawn.add(0.0, 0.0, 0)
    assert snapshot == [] and len(drawn.points) == 1


@pytest.mark.parametrize("x1, x2, label, message", [
    (0.0, 0.0, 2, r"The 'label' parameter must be 0 or 1\. Got 2 instead\."),
    (6.0, 0.0, 1, r"The 'x1' parameter must be in the range \[-5\.0, 5\.0\]\. Got 6\.0 instead\."),
    (0.0, math.nan, 1, r"The 'x2' parameter must be in the range \[-5\.0, 5\.0\]\. Got nan instead\."),
])
def test_a_bad_point_is_a_value_error_and_nothing_is_added(x1, x2, label, message):
    drawn = DrawnSet(None)
    with pytest.raises(ValueError, match=message):
        drawn.add(x1, x2, label)
    assert drawn.points == []


def test_a_full_board_says_what_to_do_and_keeps_its_points():
    drawn = DrawnSet(None)
    drawn.points = [(0.0, 0.0, i % 2) for i in range(MAX_POINTS)]
    with pytest.raises(ValueError, match=rf"The board holds at most {MAX_POINTS} points: press 'Clear points'"):
        drawn.add(1.0, 1.0, 0)
    assert len(drawn.points) == MAX_POINTS


def test_points_to_tensors_gives_the_course_layout():
    X, Y = points_to_tensors([(1.0, 2.0, 0), (3.0, 4.0, 1), (5.0, -1.0, 1)], dtype=torch.float64)
    assert X.tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, -1.0]] and Y.tolist() == [[0.0, 1.0, 1.0]]
    X, Y = points_to_tensors([])
    assert X.shape == (2, 0) and Y.shape == (1, 0)
