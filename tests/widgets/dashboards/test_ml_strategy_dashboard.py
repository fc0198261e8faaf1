"""Lab 11's dashboards: train as a learner would, move a non-training control, check what the views now show."""

import time

import pytest
import torch
from settle import record_messages
from sklearn.metrics import f1_score, precision_score, recall_score

from lab.metrics import precision_recall_curve
from widgets.dashboards.ml_strategy import satisficing_dashboard, threshold_dashboard
from widgets.dashboards.ml_strategy_mismatch import error_analysis_dashboard, mismatch_dashboard
from widgets.dashboards.ml_strategy_transfer import multitask_dashboard, transfer_dashboard


def trained(dashboard, timeout: float = 240.0, **values):
    """Set the controls (each starts a run) or press Train; wait for the last run to finish."""
    for name, value in values.items():
        dashboard.controls[name].value = value
    if not values:
        dashboard.controls["train"].click()
    time.sleep(0.2)
    assert dashboard.runner.wait(timeout), "the run did not finish"
    assert "Finished" in dashboard.status.widget.value, dashboard.status.widget.value
    return dashboard


def test_threshold_views_wait_for_training_then_follow_the_slider():
    board = threshold_dashboard()
    assert "Press <b>Train</b>" in board.readout.value
    trained(board)
    pr = board.figures["pr_curve"].data
    confusion = board.figures["confusion"].data[0].z
    for t in (0.2, 0.5, 0.8):
        board.controls["decision_threshold"].value = t
        confusion = [list(r) for r in board.figures["confusion"].data[0].z]
        (tn, fp), (fn, tp) = confusion
        assert tn + fp + fn + tp == 449  # the dev quarter of 1,797
        p, r = pr[1].y[0], pr[1].x[0]
        assert p == pytest.approx(tp / (tp + fp) if tp + fp else 0.0) and r == pytest.approx(tp / (tp + fn))
        assert f"recall <b>{r:.1%}</b>" in board.readout.value
    assert len(pr[0].x) > 10 and all(0 <= v <= 1 for v in pr[0].y)
    sent = []  # a threshold moves the point only: resending the whole curve made the browser redraw it too
    board.figures["pr_curve"].observe(lambda change: change["new"] and sent.append(change["new"]),
                                      names="_py2js_update")
    board.controls["decision_threshold"].value = 0.35
    assert len(sent) == 1 and sent[0]["style_traces"] == [1], sent


def test_threshold_metrics_agree_with_scikit_learn_on_the_trained_scores():
    board = trained(threshold_dashboard())
    board.controls["decision_threshold"].value = 0.3
    (tn, fp), (fn, tp) = [list(r) for r in board.figures["confusion"].data[0].z]
    truth = [0] * (tn + fp) + [1] * (fn + tp)
    guess = [0] * tn + [1] * fp + [0] * fn + [1] * tp
    text = board.readout.value
    assert f"precision <b>{precision_score(truth, guess):.1%}</b>" in text
    assert f"recall <b>{recall_score(truth, guess):.1%}</b>" in text
    assert f"F1 <b>{f1_score(truth, guess):.1%}</b>" in text
    precision, recall, _ = precision_recall_curve(torch.tensor([0.1, 0.9]), torch.tensor([0.0, 1.0]))
    assert precision[-1] == 1.0 and recall[0] == 1.0


def test_latency_limit_picks_the_most_accurate_fast_enough_network():
    board = trained(satisficing_dashboard(), num_epochs=2)
    bars = board.figures["accuracy_by_latency"].data
    latencies = [float(name.split("<br>")[1].removesuffix(" ms")) for name in bars[0].x]
    accuracies = [next(v for v in (t.y[i] for t in bars) if v is not None) for i in range(len(latencies))]
    for limit in (0.05, 0.3, 3.0, 100.0):
        board.controls["latency_limit_ms"].value = limit
        allowed = [a for a, ms in zip(accuracies, latencies, strict=True) if ms <= limit]
        chosen = [v for v in bars[2].y if v is not None]
        if allowed:
            assert chosen == [max(allowed)] and "is chosen" in board.readout.value
        else:
            assert chosen == [] and "no network is fast enough" in board.readout.value
        assert all((v is not None) == (ms > limit) for v, ms in zip(bars[1].y, latencies, strict=True))


def test_mismatch_table_follows_human_level_without_training():
    board = trained(mismatch_dashboard(), mismatch_noise=0.3)
    errors = list(board.figures["errors"].data[0].y)
    assert errors[3] > errors[2]  # distorted dev is harder than clean train-dev
    assert "data mismatch" in board.readout.value
    runs = board.panel.run.number
    board.controls["human_level_error"].value = 15.0
    assert board.figures["errors"].data[0].y[0] == pytest.approx(0.15)
    assert list(board.figures["errors"].data[0].y[1:]) == pytest.approx(errors[1:])
    assert "avoidable bias</td><td style='text-align:right'><b>-" in board.readout.value
    assert board.panel.run.number == runs  # no new training


def test_the_examples_show_the_digits_each_run_trained_and_judged_on():
    board = trained(mismatch_dashboard(), mismatch_noise=0.0, mismatch_blur=0.0)
    grid = board.figures["examples"]
    captions = [a.text for a in grid.layout.annotations]
    assert len(captions) == 16 and captions[0].startswith("train ") and captions[8].startswith("dev ")
    clean = [list(row) for row in grid.data[0].z]
    trained(board, mismatch_shift=2)
    moved = [list(row) for row in grid.data[0].z]
    assert moved != clean and all(m[:120] == c[:120] for m, c in zip(moved, clean, strict=True))  # only dev moved


def test_no_distortion_leaves_variance_as_the_gap_and_a_tiny_network_has_bias():
    board = trained(mismatch_dashboard(), mismatch_noise=0.0, mismatch_blur=0.0)
    assert "Largest gap: <b>variance</b>" in board.readout.value or "Largest gap: <b>data mismatch</b>" \
        not in board.readout.value
    trained(board, softmax_hidden_units=1)
    assert "Largest gap: <b>avoidable bias</b>" in board.readout.value


def test_tagging_counts_and_ceilings():
    board = trained(error_analysis_dashboard())
    assert "tagged so far" in board.readout.value and "0 tagged" in board.readout.value
    board.controls["tag blur"].value = True
    assert list(board.figures["tag_counts"].data[0].y) == [0, 1, 0, 0, 0]
    board.controls["mistake"].value = 1
    assert board.controls["tag blur"].value is False  # the next mistake has its own (no) tags
    board.controls["tag blur"].value = True
    board.controls["tag noise"].value = True
    assert list(board.figures["tag_counts"].data[0].y) == [1, 2, 0, 0, 0]
    board.controls["mistake"].value = 0
    assert board.controls["tag blur"].value is True
    board.controls["answer_key"].click()
    counts = list(board.figures["tag_counts"].data[0].y)
    assert counts[0] > 1 and counts[1] > 2
    assert "Misclassified dev digit: true" in board.figures["mistake"].layout.title.text


def test_transfer_trains_three_networks_and_collects_accuracy_against_n():
    board = trained(transfer_dashboard(), transfer_examples=20)
    assert "pre-training on 0–4" in board.panel.run.histories  # the first run pre-trains
    sent = record_messages(board.figures["accuracy_by_n"])
    trained(board, transfer_examples=100)
    assert sent == ["_py2js_update"]  # the three networks' new points, in one redraw
    assert "pre-training on 0–4" not in board.panel.run.histories  # later runs reuse it
    by_n = {t.name: list(t.x) for t in board.figures["accuracy_by_n"].data}
    assert by_n["from scratch"] == [20, 100] and by_n["transfer, last layer only"] == [20, 100]
    assert "n = 100:" in board.readout.value


def test_multitask_shows_each_label_for_both_setups():
    board = trained(multitask_dashboard(), missing_label_share=0.5)
    bars = board.figures["label_accuracy"].data
    assert list(bars[0].x) == ["even", "≥ 5", "has a loop", "prime"] and all(v > 0.6 for v in bars[0].y)
    assert "50% missing" in board.readout.value
