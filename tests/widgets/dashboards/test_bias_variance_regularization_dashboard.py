"""Move each control of the lab-05 dashboards and check the curves, boundary and diagnosis move the right way."""

import base64
import json
import re

import numpy as np
import pytest
import torch
from settle import record_messages

from lab.regularization import flip_images
from widgets.dashboards.bias_variance_regularization import (
    boundary_dashboard,
    flip_dashboard,
    regularization_dashboard,
)
from widgets.views.figure import heatmap_z


@pytest.fixture
def board():
    return regularization_dashboard()


@pytest.fixture
def planar():
    return boundary_dashboard()


def set_controls(dashboard, **values):
    """Set controls as a learner would; if none of them changes, press Train so a run with them exists."""
    changed = False
    for name, value in values.items():
        changed |= dashboard.controls[name].value != value
        dashboard.controls[name].value = value
    if not changed:
        dashboard.controls["train"].click()
    assert dashboard.runner.wait(120)
    return dashboard


def final(dashboard, figure, trace):
    return dashboard.figures[figure].data[trace].y[-1]


def cost_gap(dashboard):
    return final(dashboard, "costs", 1) - final(dashboard, "costs", 0)


def test_nothing_trains_at_build():
    dashboard = regularization_dashboard()
    assert dashboard.figures["errors"].data[0].x == () and dashboard.readout.value == ""
    assert dashboard.status.text == "Move a control or press Train to start."


def test_an_unregularized_network_overfits_the_small_digit_set(board):
    set_controls(board, lambd=0.0, keep_prob=1.0, patience=0, augmentation="off", num_iterations=500)
    assert final(board, "errors", 0) < 1.0 and final(board, "errors", 1) > 5.0  # train ~0%, dev ~9%
    assert "→ high variance (overfitting)" in board.readout.value and "Test error" in board.readout.value


def test_larger_lambda_narrows_the_train_dev_gap(board):
    set_controls(board, lambd=0.0, keep_prob=1.0, patience=0, augmentation="off")
    without = cost_gap(board)
    set_controls(board, lambd=3.0)
    assert cost_gap(board) < 0.6 * without
    assert final(board, "costs", 0) > final(board, "costs", 2)  # the train cost is higher than the previous run's
    assert board.figures["errors"].data[2].y  # the previous run stays as a dotted line


def test_keep_prob_one_equals_no_dropout_and_dropout_changes_training(board):
    set_controls(board, lambd=0.0, keep_prob=0.5)
    dropped = list(board.figures["costs"].data[0].y)
    set_controls(board, keep_prob=1.0)
    plain = list(board.figures["costs"].data[0].y)
    board.controls["train"].click()
    board.runner.wait(120)
    assert list(board.figures["costs"].data[0].y) == plain  # deterministic: keep-prob 1 is exactly no dropout
    assert dropped != plain


def test_patience_stops_early_and_restores_the_best_weights(board):
    set_controls(board, lambd=0.0, keep_prob=1.0, patience=50)
    steps = board.figures["costs"].data[1].x
    assert steps[-1] < 500
    star = board.figures["costs"].data[4]
    assert star.y[0] == pytest.approx(min(board.figures["costs"].data[1].y))  # the kept weights: lowest dev cost
    assert "Early stopping ended the run at iteration" in board.readout.value
    assert "stopped at" in board.status.text
    set_controls(board, patience=0)
    assert board.figures["costs"].data[1].x[-1] == 500


def test_iterations_set_the_run_length(board):
    set_controls(board, num_iterations=200)
    assert board.figures["errors"].data[0].x[-1] == 200


def test_mirrored_faces_help_on_the_face_photos(board):
    set_controls(board, overfit_data="faces", lambd=0.0, keep_prob=1.0, patience=0, augmentation="off")
    assert "previous run" not in board.readout.value  # new data: the digits' gap is not comparable
    plain_dev = final(board, "errors", 1)
    plain_dev_costs = list(board.figures["costs"].data[1].y)
    set_controls(board, augmentation="mirror")
    assert "mirror" in board.status.text
    fit = board.panel.run.model
    photos, X, Y = fit.split.X_train, fit.task.X_train, fit.task.Y_train
    assert photos.shape[1] == 30 and X.shape[1] == Y.shape[1] == 60  # every photo got a twin…
    assert torch.equal(X[:, :30], photos) and torch.equal(Y[:, 30:], Y[:, :30])
    assert torch.equal(X[:, 30:], flip_images(photos, fit.split.image_shape)) and not torch.equal(X[:, 30:], photos)
    assert list(board.figures["costs"].data[1].y) != plain_dev_costs  # …and the twins changed what was learned
    assert final(board, "errors", 1) <= plain_dev
    assert board.figures["errors"].data[0].x[-1] == 400  # faces use 400 iterations


def test_ui_offers_only_valid_values(board):
    assert board.controls["keep_prob"].min > 0 and board.controls["keep_prob"].max == 1.0
    assert board.controls["lambd"].min == 0.0


def crossings(z):
    """How often ŷ crosses 0.5 between neighbouring grid cells: a wiggly boundary crosses more."""
    count = 0
    for row in z:
        count += sum((a - 0.5) * (b - 0.5) < 0 for a, b in zip(row, row[1:], strict=False))
    return count


def test_planar_lambda_smooths_the_boundary_and_closes_the_gap(planar):
    set_controls(planar, lambd=0.0, keep_prob=1.0, patience=0)
    wiggly = crossings(planar.figures["boundary"].data[0].z)
    gap = final(planar, "errors", 1) - final(planar, "errors", 0)
    assert gap > 8 and "high variance" in planar.readout.value
    set_controls(planar, lambd=1.0)
    assert crossings(planar.figures["boundary"].data[0].z) < wiggly
    assert final(planar, "errors", 1) - final(planar, "errors", 0) < gap / 2


def test_planar_keep_prob_and_patience_change_the_boundary(planar):
    set_controls(planar, lambd=0.0, keep_prob=1.0, patience=0)
    plain = heatmap_z(planar.figures["boundary"])
    plain_gap = final(planar, "errors", 1) - final(planar, "errors", 0)
    set_controls(planar, keep_prob=0.7)
    assert not np.array_equal(heatmap_z(planar.figures["boundary"]), plain)
    assert final(planar, "errors", 1) - final(planar, "errors", 0) < plain_gap  # dropout narrows the gap
    set_controls(planar, keep_prob=1.0, patience=200)
    assert planar.figures["errors"].data[0].x[-1] < 1500
    assert sum(len(t.x) for t in planar.figures["boundary"].data if t.name.startswith("train:")) == 100


def test_a_boundary_that_waited_for_a_busy_browser_is_drawn_at_the_end(planar):
    set_controls(planar, lambd=0.0, keep_prob=1.0, patience=0)
    wiggly = heatmap_z(planar.figures["boundary"])
    planar.panel.pace.drawn = lambda: False  # the page never catches up: every push skips the boundary
    set_controls(planar, lambd=1.0)
    assert not np.array_equal(heatmap_z(planar.figures["boundary"]), wiggly)  # the smoother boundary of the end
    assert crossings(planar.figures["boundary"].data[0].z) < crossings(wiggly)


def test_the_curves_send_nothing_before_the_first_evaluation(planar):
    set_controls(planar, num_iterations=300)
    planar.runner.ready = lambda: False  # pushes: the first step, the first evaluation and the end, nothing between
    sent = {name: record_messages(planar.figures[name]) for name in ("errors", "costs")}
    set_controls(planar, keep_prob=0.9)
    assert {name: len(messages) for name, messages in sent.items()} == {"errors": 2, "costs": 2}
    assert planar.figures["errors"].data[2].x != ()  # the run before is now the dotted one


def test_flip_gallery_shows_originals_and_flips():
    gallery = flip_dashboard()
    before = heatmap_z(gallery.figures["flips"])
    gallery.controls["direction"].value = "up_down"
    after = heatmap_z(gallery.figures["flips"])
    assert after.shape == before.shape and not np.array_equal(after, before)
    assert len(gallery.figures["flips"].layout.annotations) == 16
    assert "a 5 mirrored top to bottom looks like a 2" in gallery.readout.value
    assert [text for text, _ in gallery.controls["direction"].options] == ["mirror (left ↔ right)",
                                                                           "mirror (top ↔ bottom)"]


def test_export_links_hold_the_run_and_its_settings(board):
    set_controls(board, num_iterations=100)
    links = board.panel.export.widget.value
    csv_text = base64.b64decode(re.search(r'href="data:text/csv;base64,([^"]+)"', links).group(1)).decode()
    assert len(csv_text.splitlines()) == 1 + 100  # a header and a row per iteration
    settings = json.loads(base64.b64decode(re.search(r'href="data:application/json;base64,([^"]+)"',
                                                     links).group(1)))["settings"]
    assert settings["lr"] == 0.2 and settings["data"] == "digits" and settings["seed"] == 0
