"""Dashboards that recompute a picture without training: each control changes what it claims to."""

import math

import pytest
import torch

from lab.data import load_faces
from widgets.loss_shape_dashboard import loss_shape_dashboard
from widgets.photo_vector_dashboard import photo_vector_dashboard
from widgets.sigmoid_dashboard import sigmoid_dashboard


def test_photo_slider_shows_that_photo_and_its_vector():
    data = load_faces()
    dashboard = photo_vector_dashboard(data)
    dashboard.controls["example_index"].value = 17
    expected = data.X_train[:, 17]
    assert dashboard.figures["vector"].data[0].y == pytest.approx(expected.tolist())
    photo = torch.tensor(dashboard.figures["photo"].data[0].z, dtype=torch.float32)
    torch.testing.assert_close(photo, expected.reshape(25, 25))
    label = data.class_names[int(data.Y_train[0, 17])]
    assert dashboard.figures["photo"].layout.title.text == f"Photo #17: y = {int(data.Y_train[0, 17])} ({label})"
    assert "shape <b>(625, 1)</b>" in dashboard.readout.value and "<b>(625, 150)</b>" in dashboard.readout.value
    assert dashboard.controls["example_index"].max == 149


def test_sigmoid_marker_follows_z():
    dashboard = sigmoid_dashboard()
    dashboard.controls["z"].value = -2.0
    marker = dashboard.figures["sigmoid"].data[1]
    assert marker.x == (-2.0,) and marker.y[0] == pytest.approx(1 / (1 + math.exp(2.0)))
    assert "predicts <b>not a face</b>" in dashboard.readout.value
    dashboard.controls["z"].value = 3.0
    assert "σ(3.0) = <b>0.9526</b>" in dashboard.readout.value and "<b>face</b>" in dashboard.readout.value


def test_loss_shape_direction_and_span_redraw_both_curves():
    dashboard = loss_shape_dashboard()
    figure = dashboard.figures["costs"]
    before = list(figure.data[1].y)
    dashboard.controls["seed"].value = 4
    assert list(figure.data[1].y) != before
    dashboard.controls["line_span"].value = 10.0
    assert figure.data[0].x[0] == pytest.approx(-10.0) and figure.data[0].x[-1] == pytest.approx(10.0)
    assert "cross-entropy cost bends down on <b>0%</b>" in dashboard.readout.value
    assert "<b>not convex</b>" in dashboard.readout.value


def test_loss_shape_says_when_the_stretch_is_too_short_to_tell():
    dashboard = loss_shape_dashboard()
    dashboard.controls["line_span"].value = 0.1
    assert "widen the distance" in dashboard.readout.value
