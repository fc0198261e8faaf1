"""Move every control of the detection dashboards and check that the picture changes as it should."""

import re

import pytest
from settle import record_messages

from lab.yolo import DetectorConfig
from widgets.dashboards.object_detection_yolo import detector_dashboard, iou_dashboard, sliding_windows_dashboard


def iou_of(dashboard) -> float:
    return float(re.search(r"IoU = ([\d.]+)", dashboard.readout.value).group(1))


def test_iou_explorer_reads_out_the_overlap_of_the_two_boxes():
    dashboard = iou_dashboard()
    figure = dashboard.figures["boxes"]
    assert iou_of(dashboard) == pytest.approx(500 / 2700, abs=1e-3)  # A (20, 20, 60, 60), B (40, 35, 80, 75)
    assert list(figure.data[2].x) == [40, 60, 60, 40, 40] and list(figure.data[2].y) == [35, 35, 60, 60, 35]
    dashboard.controls["b_x"].value = 20.0
    dashboard.controls["b_y"].value = 20.0
    assert iou_of(dashboard) == 1.0 and "drop the lower-scoring box" in dashboard.readout.value
    dashboard.controls["b_width"].value = 20.0  # B is now half of A
    assert iou_of(dashboard) == 0.5 and "keep both" in dashboard.readout.value
    dashboard.controls["b_height"].value = 20.0
    assert iou_of(dashboard) == 0.25
    dashboard.controls["a_x"].value = 30.0  # A moves right: the overlap shrinks to 10 × 20
    assert iou_of(dashboard) == pytest.approx(200 / 1800, abs=1e-3)
    dashboard.controls["a_y"].value = 80.0  # A moves far below B
    assert iou_of(dashboard) == 0.0 and figure.data[2].x == ()
    assert "Intersection 0 px²" in dashboard.readout.value


def test_sliding_windows_count_grows_as_the_stride_shrinks():
    dashboard = sliding_windows_dashboard()
    bars = dashboard.figures["bars"]
    assert bars.data[0].y == (275, 1) and "<b>275</b> crops" in dashboard.readout.value
    dashboard.controls["window_stride"].value = 16
    assert bars.data[0].y == (16 + 9 + 4, 1)
    (windows,) = [trace for trace in dashboard.figures["windows"].data if trace.meta == "windows"]
    assert sum(v is None for v in windows.x) == 29
    assert dashboard.figures["windows"].layout.title.text == "Sliding windows: 29 crops"
    dashboard.controls["window_stride"].value = 2
    assert bars.data[0].y[0] == 25 ** 2 + 17 ** 2 + 9 ** 2
    assert re.search(r"in <b>[\d.]+ ms</b>, \d+× faster", dashboard.readout.value)


@pytest.fixture
def detector():
    return detector_dashboard(DetectorConfig(batch_size=8, width=4, num_test=20), num_steps=50)


def boxes_drawn(dashboard, panel):
    view = dashboard.figures[panel]
    return sum(sum(v is None for v in t.x or ()) for t in view.data
               if t.meta in ("rectangle", "ellipse", "triangle"))


def test_before_training_the_dashboard_asks_for_training(detector):
    assert "Train the detector first" in detector.readout.value
    assert [a.text for a in detector.figures["before"].layout.annotations] == ["Train the detector first"]
    assert boxes_drawn(detector, "before") == 0
    detector.controls["score_threshold"].value = 0.3  # nothing to threshold yet, and no error
    assert "Train the detector first" in detector.readout.value
    truth = next(t for t in detector.figures["before"].data if t.meta == "ground truth")
    assert sum(v is None for v in truth.x) >= 1  # the ground truth is there without a network
    assert detector.status.text == "Press Train to train the detector."


def test_scene_grid_and_anchor_controls(detector):
    before = detector.figures["before"]
    traces = {t.meta: t for t in before.data}
    first = list(traces["ground truth"].x)
    detector.controls["scene"].value = 5
    assert list(traces["ground truth"].x) != first
    assert "Scene 5" in detector.readout.value
    n_objects = sum(v is None for v in traces["ground truth"].x)
    assert sum(v is None for v in traces["assigned anchor"].x) == n_objects
    assert detector.children[-4].value.count("<li>") == n_objects  # who is responsible, in words
    assert traces["grid"].visible is not False
    detector.controls["show_grid"].value = False
    assert traces["grid"].visible is False
    detector.controls["show_anchors"].value = False
    assert traces["assigned anchor"].visible is False and traces["responsible cell"].visible is False
    detector.controls["show_anchors"].value = True
    detector.controls["show_grid"].value = True
    assert traces["assigned anchor"].visible is True and traces["grid"].visible is True


def test_training_streams_then_thresholds_redraw_real_predictions(detector):
    detector.controls["train"].click()
    assert detector.runner.wait(300)
    assert detector.status.kind == "success", detector.status.text
    assert len(detector.figures["costs"].data[-1].y) == 50
    assert "mAP@0.5" in detector.children[3].value
    assert 'download="50_steps_lr_0.01_seed_0.json"' in detector.panel.export.widget.value
    detector.controls["scene"].value = 0
    detector.controls["iou_threshold"].value = 0.5
    counts = []
    for threshold in (1.0, 0.5, 0.2, 0.05, 0.0):
        detector.controls["score_threshold"].value = threshold
        counts.append(boxes_drawn(detector, "before"))
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 32  # lower threshold, more boxes
    assert "<b>32</b> of the 32 predicted boxes" in detector.readout.value
    after = []
    for threshold in (1.0, 0.7, 0.3, 0.0):
        detector.controls["iou_threshold"].value = threshold
        after.append(boxes_drawn(detector, "after"))
    assert after[0] == 32 and after == sorted(after, reverse=True) and after[-1] < after[0]  # lower IoU, fewer
    assert boxes_drawn(detector, "after") <= boxes_drawn(detector, "before")


def test_stop_ends_a_long_run_and_keeps_its_predictions(detector):
    detector.controls["detector_steps"].value = 3000
    assert not detector.runner.running and detector.status.text == "Press Train to train the detector."
    detector.controls["train"].click()
    detector.controls["stop"].click()
    assert detector.runner.wait(60)
    assert detector.status.text.startswith("Stopped")
    assert "stopped after" in detector.children[3].value
    detector.controls["score_threshold"].value = 0.0
    assert boxes_drawn(detector, "before") == 32  # predictions of the stopped network are shown


def test_the_windows_are_drawn_before_the_network_is_timed_over_them(monkeypatch):
    """Timing the search runs the network over every crop three times: the picture of the windows goes first."""
    import widgets.dashboards.object_detection_yolo as module

    dashboard = sliding_windows_dashboard()
    sent = record_messages(dashboard.figures["windows"])
    sent_when_timed, timing = [], module.compare_sliding_windows

    def timed(*args, **kwargs):
        sent_when_timed.append(list(sent))
        return timing(*args, **kwargs)
    monkeypatch.setattr(module, "compare_sliding_windows", timed)
    dashboard.controls["window_stride"].value = 2
    assert sent_when_timed == [["_py2js_update"]]
    assert dashboard.figures["windows"].layout.title.text == f"Sliding windows: {25 ** 2 + 17 ** 2 + 9 ** 2:,} crops"
