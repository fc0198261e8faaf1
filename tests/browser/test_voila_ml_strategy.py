"""Lab 11 in Voilà: each dashboard trains from its button, then a control that does not train is moved and the view
shows what it should — the threshold's point on the precision–recall curve and its numbers, the chosen network
under the latency limit, the human level in the error table, a tag counted, the transfer and multi-task results."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import click_slider, dashboard, eventually, plot_data, readout, trace

pytestmark = pytest.mark.browser

NOTEBOOK = "11_ml_strategy.ipynb"
TRAIN_TIMEOUT = 180.0


def press_train(board) -> None:
    board.locator("button", has_text=re.compile(r"^\s*Train\s*$")).first.click()


def finished(page, board) -> None:
    eventually(page, lambda: assert_in("Finished", board.locator(".lab-status").inner_text()), TRAIN_TIMEOUT)


def test_each_dashboard_trains_and_its_instant_control_redraws(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)

    board = dashboard(page, "Precision–recall curve")
    assert "Press Train" in board.inner_text()  # nothing trained at load
    press_train(board)
    finished(page, board)
    click_slider(board, "Threshold t", 0.8)

    def point_at_threshold():
        t = readout(board, "Threshold t")
        point = trace(plot_data(board, "Precision–recall curve"), "threshold t")
        text = board.inner_text()
        assert f"At t = {t:.2f}" in text and f"recall {point['x'][0]:.1%}" in text, text
        (tn, fp), (fn, tp) = plot_data(board, "Confusion matrix")["traces"][0]["z"]
        assert point["x"][0] == pytest.approx(tp / (tp + fn))
    eventually(page, point_at_threshold)

    board = dashboard(page, "Dev accuracy of each network")
    press_train(board)
    finished(page, board)
    click_slider(board, "Latency limit (ms)", 0.99)
    eventually(page, lambda: assert_in("is chosen", board.inner_text()))
    chosen = [v for v in trace(plot_data(board, "Dev accuracy of each network"), "chosen")["y"] if v is not None]
    assert len(chosen) == 1

    board = dashboard(page, "Error on each set")
    press_train(board)
    finished(page, board)
    click_slider(board, "Human-level error (%)", 0.5)
    eventually(page, lambda: assert_close(plot_data(board, "Error on each set")["traces"][0]["y"][0],
                                          readout(board, "Human-level error (%)") / 100))
    assert "Largest gap" in board.inner_text()

    board = dashboard(page, "Mistakes per tag")
    press_train(board)
    finished(page, board)
    board.locator(".widget-checkbox", has_text="blur").first.locator("input").check()
    eventually(page, lambda: assert_equal(plot_data(board, "Mistakes per tag")["traces"][0]["y"][1], 1))

    board = dashboard(page, "Final held-out accuracy against n")
    press_train(board)
    finished(page, board)
    eventually(page, lambda: assert_equal(trace(plot_data(board, "Final held-out accuracy against n"),
                                                "from scratch")["x"], [50]))

    board = dashboard(page, "Held-out accuracy of each label")
    press_train(board)
    finished(page, board)
    eventually(page, lambda: assert_equal(len(plot_data(board, "Held-out accuracy of each label")["traces"][0]["y"]),
                                          4))

    screenshot(page, ARTIFACTS / "voila-11_ml_strategy-moved.png")
    assert error_texts(page) == [] and page.errors.items == []


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def assert_equal(a, b) -> None:
    assert a == b, (a, b)


def assert_close(a, b) -> None:
    assert a == pytest.approx(b, abs=1e-6), (a, b)
