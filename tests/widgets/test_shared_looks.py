"""Widgets a dashboard builds share equal layouts and styles (widgets/shared_looks.py); nothing else does, and a
shared one cannot change."""

from __future__ import annotations

import ipywidgets as W
import pytest

import widgets  # noqa: F401 (installs the sharing)
from widgets.controls import button, control


def two_sliders_dashboard():
    """Built as a dashboard function builds its widgets (the name is what counts)."""
    return control("lr"), control("lr", label="Learning rate again"), W.HTML("a"), W.HTML("b"), button("Go", "go")


def test_a_dashboards_widgets_that_look_alike_share_one_layout_and_one_style():
    first, second, text, more_text, go = two_sliders_dashboard()
    assert first.layout is second.layout and first.style is second.style
    assert text.layout is more_text.layout and text.style is more_text.style
    assert go.layout is not first.layout  # another look: {"width": "auto"}, not the sliders' 420px
    assert first.layout.width == "420px" and first.style.description_width == "initial"
    # the browser gets the same models as before, only fewer of them
    assert first.layout._model_name == "LayoutModel" and first.style._model_name == "SliderStyleModel"
    assert first.layout.get_state() == W.Layout(width="420px").get_state()


def test_widgets_built_outside_a_dashboard_keep_their_own():
    first, second = control("lr"), control("lr")
    assert first.layout is not second.layout and first.style is not second.style
    first.layout.width = "300px"  # a learner's own widget changes as ipywidgets lets it
    assert second.layout.width == "420px"


def test_a_shared_layout_cannot_change_and_says_how_to_give_the_widget_its_own():
    first, second, *_ = two_sliders_dashboard()
    with pytest.raises(AttributeError, match=r"layout=W\.Layout"):
        first.layout.display = "none"
    assert second.layout.display is None

    def own_layout_dashboard():
        slider = control("lr")
        slider.layout = W.Layout(width="420px")  # an instance: never shared
        return slider

    own = own_layout_dashboard()
    own.layout.display = "none"
    assert own.layout.display == "none" and second.layout.display is None


def test_a_real_page_builds_fewer_models():
    from widgets.dashboards.ml_strategy import threshold_dashboard

    board = threshold_dashboard()
    tree, layouts = [], set()
    pending = [board]
    while pending:
        widget = pending.pop()
        tree.append(widget)
        layouts.add(id(widget.layout))
        pending.extend(child for child in getattr(widget, "children", ()) if isinstance(child, W.DOMWidget))
    assert len(tree) >= 10 and len(layouts) <= len(tree) // 2


def test_the_detector_still_hides_and_shows_its_anchor_assignment():
    """The one dashboard widget that changes its layout after it is built has one of its own."""
    from widgets.dashboards.object_detection_yolo import DetectorConfig, detector_dashboard

    board = detector_dashboard(DetectorConfig(batch_size=8, width=4, num_test=20), num_steps=50)
    shown = [w for w in board.children if isinstance(w, W.HTML) and "responsible" in w.value]
    assert len(shown) == 1 and shown[0].layout.display is None
    board.controls["show_anchors"].value = False
    assert shown[0].layout.display == "none"
    board.controls["show_anchors"].value = True
    assert shown[0].layout.display is None
