"""Set a control as a learner would, let the runner finish, and check what the plots now show."""

import re

import pytest
import torch
from settle import record_messages, run_with

from lab.data.tables import load_table
from lab.normalization import ScaleComparison, ShiftExperiment, recipe_report
from widgets.dashboards.input_normalization import (
    ContourPair,
    about,
    dev_statistics_dashboard,
    feature_scale_dashboard,
    number,
    recipes_dashboard,
)

RAW, NORMALIZED = ScaleComparison.LABELS



def path(dashboard, which):
    trace = dashboard.figures[which].data[2]
    return list(zip(trace.x, trace.y, strict=True))


def contour(dashboard, which):
    return dashboard.figures[which].data[0].z


# ---------------------------------------------------------------- contours and paths


def test_the_contours_are_drawn_before_anything_trains():
    dashboard = feature_scale_dashboard(pace=0)
    assert dashboard.status.text == "Move a control or press Run to start."
    assert dashboard.figures["costs"].data == ()
    for which in ("raw", "normalized"):
        assert len(contour(dashboard, which)) > 50 and path(dashboard, which) == [(0.0, 0.0)]
    assert dashboard.figures["raw"].layout.title.text == "Raw features: κ = 11,000"  # scale ratio 100 → ~100²
    assert dashboard.figures["normalized"].layout.title.text == "Normalized features: κ = 1.1"
    assert dashboard.figures["raw"].layout.yaxis.scaleanchor == "x"
    assert "Computing on: <b>CPU</b>" in dashboard.children[0].value


def test_a_new_scale_ratio_redraws_each_contour_plot_in_one_message():
    pair = ContourPair()
    sent = {label: record_messages(view.figure) for label, view in pair.views.items()}
    pair.show(ScaleComparison(30.0, 0.5))
    assert sent == {label: ["_py2js_update"] for label in pair.views}  # contours, levels, title and path at once
    assert pair.views[RAW].figure.data[0].contours.size is not None


def test_contours_that_waited_for_a_busy_browser_are_drawn_at_the_end():
    dashboard = feature_scale_dashboard(pace=0)
    dashboard.panel.pace.drawn = lambda: False  # the page never catches up during the run
    before = contour(dashboard, "raw")
    run_with(dashboard, feature_scale=30.0, num_iterations=50)
    assert contour(dashboard, "raw") != before and "κ" in dashboard.figures["raw"].layout.title.text
    assert len(path(dashboard, "raw")) == 51 and len(path(dashboard, "normalized")) == 51


def test_a_new_scale_ratio_walks_both_and_says_how_long_each_needs():
    dashboard = feature_scale_dashboard(pace=0)
    raw_before, normalized_before = contour(dashboard, "raw"), contour(dashboard, "normalized")
    run_with(dashboard, feature_scale=10.0)
    assert dashboard.status.kind == "success"
    assert len(path(dashboard, "raw")) == len(path(dashboard, "normalized")) == 201  # the start and 200 steps
    costs = {trace.meta: trace for trace in dashboard.figures["costs"].data}
    assert set(costs) == {RAW, NORMALIZED} and len(costs[RAW].y) == 200
    assert costs[NORMALIZED].y[-1] < costs[RAW].y[-1]
    assert contour(dashboard, "raw") != raw_before
    assert contour(dashboard, "normalized") == normalized_before  # normalized, the scale ratio is gone
    assert dashboard.figures["raw"].layout.title.text == "Raw features: κ = 110"
    text = dashboard.readout.value
    assert "Normalized features: reached J ≤ 0.370 after <b>6</b> iterations." in text
    assert re.search(r"Raw features: <b>not reached</b> in 200 iterations \(J = 0\.39\d\); at this pace it "
                     r"needs <b>about 5\d0</b>\.", text)
    # the path ends where the walk's weights are, near the minimum for the normalized one
    star = dashboard.figures["normalized"].data[1]
    assert path(dashboard, "normalized")[-1] == pytest.approx((star.x[0], star.y[0]), abs=1e-3)


def test_at_equal_scales_both_reach_the_target_alike():
    dashboard = run_with(feature_scale_dashboard(pace=0), feature_scale=1.0)
    assert re.search(r"Raw features: reached J ≤ 0\.370 after <b>6</b> iterations\. "
                     r"Normalized features: reached J ≤ 0\.370 after <b>6</b> iterations\.", dashboard.readout.value)


def test_the_step_size_scales_both_learning_rates_and_keeps_the_contours():
    dashboard = run_with(feature_scale_dashboard(pace=0), step_fraction=0.5)
    before = contour(dashboard, "raw")
    alphas = re.findall(r"α = <b>([\d.e+-]+)</b>", dashboard.readout.value)
    run_with(dashboard, step_fraction=1.0)
    assert contour(dashboard, "raw") is before or contour(dashboard, "raw") == before
    doubled = re.findall(r"α = <b>([\d.e+-]+)</b>", dashboard.readout.value)
    assert [float(a) for a in doubled] == pytest.approx([2 * float(a) for a in alphas], rel=0.03)


def test_the_iterations_slider_sets_the_length_of_both_paths():
    dashboard = run_with(feature_scale_dashboard(pace=0), num_iterations=40)
    assert len(path(dashboard, "raw")) == 41
    assert [len(t.x) for t in dashboard.figures["costs"].data] == [40, 40]
    assert "in 40 iterations" in dashboard.readout.value


def test_stop_ends_the_walks_at_once():
    dashboard = feature_scale_dashboard(pace=0.5)
    dashboard.controls["num_iterations"].value = 2000  # 0.05 s a step: far longer than the test waits
    dashboard.controls["stop"].click()
    assert dashboard.runner.wait(5)
    assert dashboard.status.text.startswith("Stopped")
    assert 1 <= len(path(dashboard, "raw")) < 100
    if len(path(dashboard, "raw")) > 1:  # it stopped after its first step: the readout says so
        assert re.search(r"not reached</b> in \d+ iterations? \(J = [\d.]+, stopped\)", dashboard.readout.value)


def test_numbers_read_as_words():
    assert [number(x) for x in (1.08, 46.2, 112.0, 17_123.0, 4.59e8)] == ["1.1", "46", "110", "17,000", "4.6·10⁸"]
    assert [about(x) for x in (515.3, 7416.0, 8.98e6, float("inf"))] == [
        "about 520", "about 7,400", "about 9 million", "more iterations than any run could take"]


# ---------------------------------------------------------------- the notes' recipe


def test_recipes_show_a_bar_per_feature_for_each_recipe():
    dashboard = recipes_dashboard()
    figure = dashboard.figures["spreads"]
    assert [trace.name for trace in figure.data] == ["raw measurements", "x / mean (the notes)",
                                                     "(x − μ) / σ (the course)"]
    assert list(figure.data[0].x) == list(load_table("wine").feature_names)
    assert list(figure.data[2].y) == pytest.approx([1.0] * 13)
    assert "κ = <b>4.6·10⁸</b>" in dashboard.readout.value and "κ = <b>46</b>" in dashboard.readout.value


def test_choosing_the_breast_cancer_table_redraws_every_bar():
    dashboard = recipes_dashboard()
    dashboard.controls["feature_table"].value = "breast_cancer"
    figure = dashboard.figures["spreads"]
    assert all(len(trace.x) == 30 for trace in figure.data)
    report = recipe_report("breast_cancer")
    assert list(figure.data[1].y) == pytest.approx(report["notes"].spreads)
    assert "κ = <b>2.4·10¹²</b>" in dashboard.readout.value
    assert list(figure.layout.yaxis.tickvals)[0] < 0.003  # the log axis now reaches the smallest spread


# ---------------------------------------------------------------- the dev set


def dev_points(figure):
    """(x, y) of every dev ring on a boundary plot."""
    return [(x, y) for trace in figure.data if trace.name.startswith("dev:")
            for x, y in zip(trace.x, trace.y, strict=True)]


def test_the_dev_set_is_drawn_twice_at_the_start():
    dashboard = dev_statistics_dashboard()
    for which in ("training", "own"):
        assert len(dev_points(dashboard.figures[which])) == 200
    assert dashboard.figures["training"].layout.title.text.endswith("accuracy 90.0%")
    assert dashboard.figures["own"].layout.title.text.endswith("accuracy 68.0%")


def test_moving_the_dev_shift_moves_only_the_honest_picture():
    dashboard = dev_statistics_dashboard()
    dashboard.controls["dev_shift"].value = 3.0
    training, own = (dev_points(dashboard.figures[w]) for w in ("training", "own"))
    mean_y = sum(y for _, y in training) / len(training)
    assert mean_y == pytest.approx(3.0, abs=0.4)  # moved up by about 3 training σ
    assert sum(y for _, y in own) / len(own) == pytest.approx(0.0, abs=1e-9)  # its own μ hides the move
    _, scores = ShiftExperiment().dev_scores(3.0)
    text = dashboard.readout.value
    assert f"dev accuracy <b>{scores['training'].accuracy:.1%}</b>" in text
    assert f"dev accuracy <b>{scores['own'].accuracy:.1%}</b>" in text
    assert "average (0.00, 0.00): the shift is hidden" in text


def test_a_new_shift_redraws_the_dev_points_alone_then_the_titles():
    """Per plot, one message that draws only the dev traces again, then the title: the 300 training points and
    the shading are not re-plotted on every press."""
    dashboard = dev_statistics_dashboard()
    sent = {which: record_messages(dashboard.figures[which]) for which in ("training", "own")}
    dashboard.controls["dev_shift"].value = 2.5
    assert sent == {which: ["_py2js_animate", "_py2js_relayout"] for which in ("training", "own")}


def test_at_no_shift_the_two_accuracies_agree():
    dashboard = dev_statistics_dashboard()
    dashboard.controls["dev_shift"].value = 0.0
    accuracies = [float(re.search(r"([\d.]+)%$", dashboard.figures[w].layout.title.text).group(1))
                  for w in ("training", "own")]
    assert abs(accuracies[0] - accuracies[1]) < 1.0
    torch.testing.assert_close(torch.tensor(dev_points(dashboard.figures["training"])).mean(0),
                               torch.tensor([0.04, 0.1]), atol=0.1, rtol=0)
