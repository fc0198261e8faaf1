import math

import numpy as np

from widgets.views.loss_surface import SurfacePaths


def test_show_surface_sends_nested_lists_and_fixes_the_axes():
    view = SurfacePaths()
    view.show_surface([0.0, 1.0, 2.0], [-1.0, 1.0], np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.123456]]), (1.0, 0.0),
                      "a bowl")
    contour = view.figure.data[0]
    assert [list(row) for row in contour.z] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.1235]]  # rounded, not an array
    assert not isinstance(contour.z, np.ndarray)
    assert view.figure.layout.xaxis.range == (0.0, 2.0) and view.figure.layout.yaxis.range == (-1.0, 1.0)
    assert list(view.figure.data[1].x) == [1.0] and view.figure.layout.title.text == "a bowl"


def test_paths_are_replaced_redrawn_and_nan_becomes_a_gap():
    view = SurfacePaths()
    view.set_paths(["gd", "adam"])
    assert view.labels == ["gd", "adam"]
    view.update_paths({"gd": [(0.0, 1.0), (math.nan, math.inf)]}, {"gd": "diverged"})
    gd, adam = view.figure.data[2:]
    assert gd.x == (0.0, None) and gd.y == (1.0, None) and gd.name == "gd (diverged)"
    assert adam.x == () and gd.line.color != adam.line.color
    view.set_paths(["momentum"])
    assert view.labels == ["momentum"] and len(view.figure.data) == 3


def test_a_new_walk_with_the_same_paths_reuses_their_traces_and_keeps_a_common_prefix():
    view = SurfacePaths()
    view.set_paths(["gd", "adam"])
    gd, adam = view.figure.data[2:]
    view.start_paths({"gd": [(1.0, 2.0)], "adam": [(3.0, 4.0)]})
    assert view.figure.data[2] is gd and view.figure.data[3] is adam  # no trace added or deleted
    assert gd.x == (1.0,) and adam.y == (4.0,)
    view.start_paths({"gd": [(0.0, 0.0)], "adam": [], "notes": [(5.0, 6.0)]})
    assert view.figure.data[2] is gd and view.labels == ["gd", "adam", "notes"] and view.figure.data[4].x == (5.0,)
    assert adam.x == ()
    view.start_paths({"gd": [(0.0, 0.0)], "momentum": []})
    assert view.figure.data[2] is gd and view.labels == ["gd", "momentum"]


def test_new_paths_arrive_with_their_points_in_one_message():
    view = SurfacePaths()
    sent = []  # the edits sent to the browser, each a redraw of the whole plot there
    view.figure.observe(lambda change: change["new"] and sent.append(change["name"]),
                        names=["_py2js_addTraces", "_py2js_update", "_py2js_restyle", "_py2js_deleteTraces"])
    view.start_paths({"gd": [(1.0, 2.0)], "momentum": [(1.0, 2.0)], "adam": [(3.0, 4.0)]})
    assert sent == ["_py2js_addTraces"]  # one redraw of the contours, not one per path and one more for the points
    assert [t.x for t in view.figure.data[2:]] == [(1.0,), (1.0,), (3.0,)]
    assert [t.name for t in view.figure.data[2:]] == ["gd", "momentum", "adam"]
    assert len({t.line.color for t in view.figure.data[2:]}) == 3
