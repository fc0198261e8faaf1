"""Lab 09 in Voilà: every control of its two dashboards is moved once, and the plot it drives shows what that control
should give — the mini-batch size in the histograms' counts, another unit's weights, a run with the settings the
controls show, a plain run that diverges where batch norm trains, the watched layer and unit in the histograms."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import (
    choose,
    click_slider,
    dashboard,
    eventually,
    finished,
    plot_data,
    readout,
    trace,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "09_batch_normalization.ipynb"
UNIT = "Unit j of the first hidden layer"
SEED = "Seed (which digits, which weights)"
COSTS = "Cost J on the training digits"
PLAIN, BN, TEST_TIME = "Plain network", "With batch norm", "Test time"
BN_BOX = "Batch norm after every hidden layer"
M_TRAIN, PROBE = 1079, 256


def counts(data: dict) -> list[int]:
    """Each histogram outline's total count (its last point repeats the last bin, to close the outline)."""
    return [sum(t["y"][:-1]) for t in data["traces"]]


def batch_norm_ticked(board) -> bool:
    return board.locator(".widget-checkbox", has_text=BN_BOX).locator("input").is_checked()


def run_label(board) -> str:
    """The label of the run the training controls now describe."""
    kind = "batch norm" if batch_norm_ticked(board) else "plain"
    return (f"{kind} · L={int(readout(board, 'Layers L'))} · α={readout(board, 'Learning rate α'):.2g} · "
            f"batch {int(readout(board, 'Mini-batch size'))}")


def check_run(board, label: str) -> dict:
    """The run `label` finished, with the steps its epochs and batch size need, and its curve spans the epochs."""
    epochs, batch = int(readout(board, "Epochs")), int(readout(board, "Mini-batch size"))
    per_epoch = M_TRAIN // batch + (1 if M_TRAIN % batch >= 2 else 0)  # a last batch of one digit is left out
    finished(board, f"{label}: {epochs * per_epoch} mini-batch steps")
    curve = trace(plot_data(board, COSTS), label)
    assert curve["x"][-1] == pytest.approx(epochs)
    return curve


def check_histogram(board, panel: str, label: str, what: str = "ReLU input", moments: int = 5) -> None:
    """The panel shows run `label`'s watched unit — the layer and unit the sliders pick, the layer clamped to the
    run's last hidden one — over the 256 probe digits at `moments` moments of training."""
    data = plot_data(board, panel)
    depth = int(re.search(r" · L=(\d+) · ", label).group(1))  # the run's, not the slider's: runs differ
    layer = min(int(readout(board, "Hidden layer l")), depth - 1)
    assert label in data["title"], data["title"]
    assert f"{what} of layer {layer}, unit {int(readout(board, 'Unit j'))}" in data["title"], data["title"]
    assert counts(data) == [PROBE] * moments, counts(data)


def check_test_time(board) -> None:
    """Running averages: one accuracy for every test batch size; a batch of 1: one answer for every digit."""
    data = plot_data(board, TEST_TIME)
    running, own = trace(data, "running averages"), trace(data, "each batch's own")
    assert running["x"] == ["batch of 1", "batch of 2", "batch of 8", "batch of 64"]
    assert len(set(running["y"])) == 1 and running["y"][0] > 0.85, running["y"]
    assert own["y"][0] < 0.2 < own["y"][3], own["y"]
    assert "for every digit" in board.inner_text()


def test_every_control_of_lab_09_shows_what_it_should(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)

    # ---- what gets normalized: mini-batch size, unit, seed
    errata = dashboard(page, "Unit ")  # its plots' titles name the unit shown
    click_slider(errata, "Mini-batch size", 0.5)

    def batch_drawn():
        b = int(readout(errata, "Mini-batch size"))
        assert b != 64
        assert counts(plot_data(errata, f"Unit 1's z over a mini-batch of {b} digits")) == [b, b, b]
        assert f"this unit's z over the {b} digits" in errata.inner_text()
        assert "ẑ has mean 0.000 and spread 1.000" in errata.inner_text()
    eventually(page, batch_drawn)

    weights = plot_data(errata, "Unit 1's 64 incoming weights")
    click_slider(errata, UNIT, 0.8)

    def other_unit():
        j = int(readout(errata, UNIT))
        assert j > 1
        now = plot_data(errata, f"Unit {j}'s 64 incoming weights")
        assert counts(now) == [64, 64] and now["traces"][0]["y"] != weights["traces"][0]["y"]
    eventually(page, other_unit)

    j = int(readout(errata, UNIT))
    values, line = plot_data(errata, f"Unit {j}'s z over"), errata.inner_text()
    click_slider(errata, SEED, 0.5)

    def other_digits():
        assert readout(errata, SEED) > 0
        assert plot_data(errata, f"Unit {j}'s z over")["traces"] != values["traces"]
        assert errata.inner_text() != line and "ẑ has mean 0.000 and spread 1.000" in errata.inner_text()
    eventually(page, other_digits)

    # ---- training: Train, batch norm off, then each slider
    board = dashboard(page, COSTS)
    board.locator("button", has_text=re.compile(r"^\s*Train\s*$")).click()
    bn_label = run_label(board)
    assert bn_label.startswith("batch norm · ")
    check_run(board, bn_label)
    eventually(page, lambda: check_histogram(board, BN, bn_label))
    eventually(page, lambda: check_test_time(board))

    board.locator(".widget-checkbox", has_text=BN_BOX).locator("input").click()
    plain_label = run_label(board)
    assert plain_label == bn_label.replace("batch norm", "plain")
    check_run(board, plain_label)
    eventually(page, lambda: check_histogram(board, PLAIN, plain_label))
    assert "wandered over" in board.inner_text()
    screenshot(page, ARTIFACTS / "voila-09_batch_normalization-two-runs.png")

    click_slider(board, "Learning rate α", 0.88)  # α ≈ 3: the plain network blows up …
    diverged = run_label(board)
    assert 2 < readout(board, "Learning rate α") < 5
    status = board.locator(".lab-status")
    eventually(page, lambda: assert_in("or tick batch norm", status.inner_text()))
    assert trace(plot_data(board, COSTS), diverged)["name"].endswith("(diverged)")

    board.locator(".widget-checkbox", has_text=BN_BOX).locator("input").click()  # … batch norm trains at that α
    check_run(board, run_label(board))
    eventually(page, lambda: check_test_time(board))
    for label, fraction in [("Layers L", 0.5), ("Mini-batch size", 0.2), ("Epochs", 0.1)]:
        before = readout(board, label)
        click_slider(board, label, fraction)
        assert readout(board, label) != before, f"the click left {label} at {before}"
        check_run(board, run_label(board))
    latest, runs = run_label(board), len(plot_data(board, COSTS)["traces"])

    # ---- the watched unit: no training, the histograms follow
    for label, fraction in [("Hidden layer l", 0.5), ("Unit j", 0.6)]:
        before = readout(board, label)
        click_slider(board, label, fraction)
        assert readout(board, label) != before, f"the click left {label} at {before}"
        eventually(page, lambda: check_histogram(board, BN, latest))
        # the latest plain run diverged within a few steps: only its snapshot before training is left
        eventually(page, lambda: check_histogram(board, PLAIN, diverged, moments=1))
    choose(board, "Batch-norm panel shows", "z before batch norm")
    eventually(page, lambda: check_histogram(board, BN, latest, what="z before batch norm"))
    assert len(plot_data(board, COSTS)["traces"]) == runs  # the unit controls trained nothing

    # ---- Stop a long run, then Clear
    click_slider(board, "Mini-batch size", 0.0)  # batches of 2 …
    click_slider(board, "Epochs", 0.97)  # … for about 48 epochs: a long run
    eventually(page, lambda: assert_in("Training", status.inner_text()))
    board.locator("button", has_text="Stop").click()
    eventually(page, lambda: assert_in("Stopped", status.inner_text()))
    screenshot(page, ARTIFACTS / "voila-09_batch_normalization-moved.png")
    board.locator("button", has_text="Clear runs").click()
    eventually(page, lambda: assert_equal(plot_data(board, COSTS)["traces"], []))
    eventually(page, lambda: assert_in("Tick batch norm and train", board.inner_text()))
    assert error_texts(page) == [] and page.errors.items == []


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def assert_equal(a, b) -> None:
    assert a == b, a
