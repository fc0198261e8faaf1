"""The face-verification dashboard: the view controls redraw without training and show what they claim, a
training control starts a run whose curves and readouts follow it, and a collapsed embedding is said in words."""

import ipywidgets as W
import pytest
from settle import record_messages, run_with

from lab.face_verification import NUM_PAIRS, digit_test_sets
from widgets.dashboards.face_verification import face_verification_dashboard


@pytest.fixture
def dashboard():
    return face_verification_dashboard()


def texts(widget) -> str:
    """Every HTML line of the dashboard, joined."""
    if isinstance(widget, W.HTML):
        return widget.value
    return " ".join(texts(child) for child in getattr(widget, "children", ()))


def trace(figure, meta):
    return next(t for t in figure.data if t.meta == meta)


def test_the_untrained_network_is_shown_before_any_training(dashboard):
    assert "The untrained network" in dashboard.readout.value and "raw pixels 71%" in dashboard.readout.value
    assert not dashboard.runner.running and dashboard.figures["costs"].data == ()  # nothing trains at load
    scatter = dashboard.figures["projection"]
    assert [t.name for t in scatter.data[:5]] == [f"digit {d}" for d in range(5, 10)]
    assert sum(len(t.x) for t in scatter.data[:5]) == 5 * 40
    assert trace(scatter, "chosen triplet").text == ("A", "P", "N")
    assert len(dashboard.figures["roc"].data[0].x) > 10 and "area 0.8" in dashboard.figures["roc"].layout.title.text


def test_threshold_moves_the_roc_point_and_the_verdicts(dashboard):
    roc, pairs = dashboard.figures["roc"], dashboard.figures["pairs"]
    point = roc.data[2]
    dashboard.controls["verify_threshold"].value = 0.3
    low = (point.x[0], point.y[0])
    dashboard.controls["verify_threshold"].value = 1.5
    high = (point.x[0], point.y[0])
    assert high[0] > low[0] and high[1] > low[1]  # a larger τ accepts more pairs of both kinds
    assert point.text == ("τ = 1.50",) and "At τ = 1.50" in texts(dashboard)
    captions = [a.text for a in pairs.layout.annotations]
    assert len(captions) == 8 and "τ = 1.50" in pairs.layout.title.text
    dashboard.controls["verify_threshold"].value = 4.0
    assert (point.x[0], point.y[0]) == (1.0, 1.0)
    assert "Every pair is called “same”" in texts(dashboard)
    assert all("accept" in a.text for a in pairs.layout.annotations)
    assert all(a.text.endswith("✗") for a in pairs.layout.annotations[4:])  # different identities, accepted
    dashboard.controls["verify_threshold"].value = 0.0
    assert "Every pair is called “different”" in texts(dashboard) and (point.x[0], point.y[0]) == (0.0, 0.0)


def test_the_triplet_chooser_draws_its_arrows_and_images(dashboard):
    scatter, images = dashboard.figures["projection"], dashboard.figures["triplet"]
    dashboard.controls["triplet_index"].value = 7
    chosen = trace(scatter, "chosen triplet")
    a_to_p, a_to_n = trace(scatter, "arrow0"), trace(scatter, "arrow1")
    assert (a_to_p.x[0], a_to_p.x[1]) == (chosen.x[0], chosen.x[1]) and a_to_n.x[1] == chosen.x[2]
    test = digit_test_sets()["unseen"]
    assert images.layout.annotations[0].text == f"anchor: {int(test.y[test.triplets[7, 0]])}"
    assert "Triplet 7: d(A, P)" in texts(dashboard) and "its loss is max(" in texts(dashboard)
    before = a_to_n.x
    dashboard.controls["triplet_index"].value = 8
    assert trace(scatter, "arrow1").x != before


def test_judging_on_new_images_of_the_trained_digits(dashboard):
    dashboard.controls["judge_on"].value = "new_photos"
    scatter = dashboard.figures["projection"]
    assert [t.name for t in scatter.data[:5]] == [f"digit {d}" for d in range(5)]
    assert "new images of digits 0–4" in scatter.layout.title.text and "held-back images" in texts(dashboard)


def test_a_training_run_draws_its_loss_and_accuracy_and_then_the_views(dashboard):
    run_with(dashboard, triplet_steps=50)
    assert dashboard.status.kind == "success", dashboard.status.text
    label = "α=0.2 · d=16 · lr=0.003 · random triplets · 50 steps"
    costs = trace(dashboard.figures["costs"], label)
    assert costs.x[-1] == 50 and costs.y[-1] < costs.y[0]
    accuracy = dashboard.figures["accuracy"]
    learned = next(t for t in accuracy.data if t.name == "new images of digits 0–4")
    assert learned.x == (0, 25, 50) and learned.y[-1] > 0.9  # new images of the trained digits
    assert f"<b>{label}</b>. After 50 steps" in dashboard.readout.value
    assert "after 50 steps" in dashboard.figures["projection"].layout.title.text
    # the views follow the trained network: a larger embedding size starts a run with its own label
    run_with(dashboard, face_embedding_dim=4)
    assert "d=4" in dashboard.figures["costs"].data[-1].name and len(dashboard.figures["costs"].data) == 2


def test_margin_zero_collapse_is_said_in_words(dashboard):
    run_with(dashboard, triplet_steps=100, triplet_margin=0.0)
    assert "collapsed" in dashboard.readout.value and "α = 0" in dashboard.readout.value
    dashboard.controls["verify_threshold"].value = 0.8
    assert "Every pair is called “same”" in texts(dashboard) and "α = 0" in texts(dashboard)
    assert f"of the {2 * NUM_PAIRS} pairs called right" in texts(dashboard)


def test_moving_the_triplet_moves_only_its_points(dashboard):
    scatter = dashboard.figures["projection"]
    digits_before = [(t.x, t.y) for t in scatter.data[:5]]
    places = set()
    for index in (3, 11):
        dashboard.controls["triplet_index"].value = index
        chosen = trace(scatter, "chosen triplet")
        assert len(chosen.x) == 3 and trace(scatter, "arrow1").x == (chosen.x[0], chosen.x[2])
        assert trace(scatter, "arrow0").y == (chosen.y[0], chosen.y[1])
        places.add(chosen.x)
    assert len(places) == 2  # the triplet moved
    assert [(t.x, t.y) for t in scatter.data[:5]] == digits_before
    dashboard.controls["judge_on"].value = "new_photos"
    assert [(t.x, t.y) for t in scatter.data[:5]] != digits_before


def test_a_browser_slow_to_draw_loses_no_accuracy_point(dashboard):
    dashboard.runner.ready = lambda: False  # every routine push is held: the last batch holds both evaluations
    run_with(dashboard, triplet_steps=50)
    learned = next(t for t in dashboard.figures["accuracy"].data if t.name == "new images of digits 0–4")
    assert learned.x == (0, 25, 50) and dashboard.status.kind == "success"


def test_the_views_redraw_at_each_look_in_one_message_per_plot(dashboard):
    views = ("projection", "triplet", "roc", "pairs")
    sent = {name: record_messages(dashboard.figures[name]) for name in views}
    dashboard.runner.interval = 0.0  # every event its own push: fast steps may not merge the two looks into one
    run_with(dashboard, triplet_steps=50)  # looks at steps 25 and 50; none with the first step
    assert {name: len(messages) for name, messages in sent.items()} == dict.fromkeys(views, 2)
    assert "after 50 steps" in dashboard.figures["projection"].layout.title.text


def test_a_new_run_sends_its_accuracy_with_its_first_points_and_clear_empties_it(dashboard):
    run_with(dashboard, triplet_steps=50)
    accuracy = dashboard.figures["accuracy"]
    sent = record_messages(accuracy)
    dashboard.runner.ready = lambda: False  # routine pushes held: the run's first push and its last remain
    run_with(dashboard, triplet_steps=100)
    assert len(sent) == 2  # no message from the slider's handler, ahead of the new run's first point
    learned = next(t for t in accuracy.data if t.name == "new images of digits 0–4")
    assert learned.x == (0, 25, 50, 75, 100)
    dashboard.panel.clear()
    assert all(trace.x in (None, ()) for trace in accuracy.data if trace.name != "chance (1 in 5)")
