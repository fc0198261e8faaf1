"""Lab 10 in Voilà: every control of its three dashboards is moved once, and the plot it drives shows what that
control should give — the softmax of the logits the sliders now read, NaN bars once e^z overflows, a run with the
settings the controls show, the bars of the digit the slider picked."""

from __future__ import annotations

import math
import re

import pytest
from lab_pages import error_texts, screenshot, slider
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, eventually, finished, plot_data, text_box, trace

pytestmark = pytest.mark.browser

NOTEBOOK = "10_softmax_multiclass.ipynb"
BARS = "Probabilities a = softmax(z / T)"
TYPED = "softmax(z) of the logits you typed"
COSTS = "Cost J on the training digits"
DIGIT_BARS = "Softmax output ŷ"
LAB, NAIVE = "softmax, max(z) subtracted first", "naive e^z"
LOGITS = ["Logit z₁", "Logit z₂", "Logit z₃", "Logit z₄"]
M_TRAIN = 1079


def value(board, label: str) -> float:
    """The number a slider shows beside it (ipywidgets writes negative numbers with a real minus sign)."""
    return float(slider(board, label).locator(".widget-readout").inner_text().replace(",", "").replace("−", "-"))


def softmax(z: list[float]) -> list[float]:
    top = max(z)
    t = [math.exp(v - top) for v in z]
    return [v / sum(t) for v in t]


def check_bars(board, temperature_tolerance: float = 1e-5) -> None:
    """The lab's bars are softmax(z / T) of the logits and temperature the sliders show."""
    z = [value(board, label) for label in LOGITS]
    T = value(board, "Temperature T")  # shown with 2 significant digits: the check allows for the rounding
    drawn = trace(plot_data(board, BARS), LAB)["y"]
    assert drawn == pytest.approx(softmax([v / T for v in z]), abs=temperature_tolerance), (z, T, drawn)


def run_label(board) -> str:
    """The label of the run the training controls now describe."""
    hidden = int(value(board, "Hidden units (0 = softmax regression)"))
    model = "softmax regression" if hidden == 0 else f"{hidden} hidden units"
    # the option's text, with the no-break spaces ipywidgets puts in it made plain: "by hand" or "torch autograd"
    how = board.locator(".widget-dropdown select").evaluate("s => s.options[s.selectedIndex].text.replace(/\\s/g, ' ')")
    return (f"{model} · α={value(board, 'Learning rate α'):.2g} · batch {int(value(board, 'Mini-batch size'))} · "
            f"{'by hand' if how == 'by hand' else 'autograd'}")


def check_run(board, label: str) -> dict:
    """The run `label` finished, its curve spans the epochs the slider shows, with the steps that batch size needs."""
    epochs, batch = int(value(board, "Epochs")), int(value(board, "Mini-batch size"))
    finished(board, f"{label}: {epochs * math.ceil(M_TRAIN / batch)} mini-batch steps")  # epochs are not in the label
    curve = trace(plot_data(board, COSTS), label)
    assert curve["x"][-1] == pytest.approx(epochs)
    return curve


def move_slider(board, label: str, fraction: float) -> None:
    """Click `label`'s track at `fraction` and wait until the slider shows another value (a click on the handle
    itself moves nothing, and the run it was meant to start would never come)."""
    before = value(board, label)
    click_slider(board, label, fraction)
    eventually(board.page, lambda: (assert_not_equal(value(board, label), before)))


def test_every_control_shows_what_it_should(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)

    bars = dashboard(page, BARS)
    for label, fraction in zip(LOGITS, (0.2, 0.9, 0.8, 0.1), strict=True):
        click_slider(bars, label, fraction)
        eventually(page, lambda: check_bars(bars))
    click_slider(bars, "Temperature T", 0.8)
    eventually(page, lambda: check_bars(bars, temperature_tolerance=0.02))
    before = trace(plot_data(bars, BARS), LAB)["y"]
    click_slider(bars, "Add c to every logit", 0.95)

    def overflowed():
        assert value(bars, "Add c to every logit") > 900
        assert all(v is None for v in trace(plot_data(bars, BARS), NAIVE)["y"])  # NaN: no bar at all
        assert trace(plot_data(bars, BARS), LAB)["y"] == pytest.approx(before, abs=1e-5)  # the lab's: unmoved
        assert "overflowed" in bars.inner_text()
    eventually(page, overflowed)

    typed = dashboard(page, TYPED)
    box = text_box(typed, "Logits z (separated by commas)")
    box.fill("1e6, 0, -1e6")
    box.press("Enter")

    def a_million_apart():
        data = plot_data(typed, TYPED)
        assert trace(data, LAB)["y"] == [1, 0, 0] and trace(data, NAIVE)["y"][0] is None
    eventually(page, a_million_apart)
    box.fill("5, two")
    box.press("Enter")
    eventually(page, lambda: (assert_in("'two' is not a number", typed.inner_text())))
    assert trace(plot_data(typed, TYPED), LAB)["y"] == [1, 0, 0]  # the bars keep the last logits read

    board = dashboard(page, COSTS)
    board.locator("button", has_text=re.compile(r"^\s*Train\s*$")).click()
    check_run(board, run_label(board))
    # each click lands well away from the handle (α's default 0.5 sits at 0.675 of its log track) and starts a
    # run whose final status (its label, and the steps its epochs make) differs from the last run's: a status left
    # by an earlier run cannot pass for the new one's
    for label, fraction in [("Learning rate α", 0.4), ("Mini-batch size", 0.3),
                            ("Hidden units (0 = softmax regression)", 0.3), ("Epochs", 0.05)]:
        before = (run_label(board), value(board, "Epochs"))
        move_slider(board, label, fraction)
        assert (run_label(board), value(board, "Epochs")) != before
        check_run(board, run_label(board))
    by_hand = run_label(board)
    choose(board, "Implementation", "torch autograd")
    autograd = run_label(board)
    assert autograd == by_hand.replace("by hand", "autograd")
    assert check_run(board, autograd)["y"] == pytest.approx(trace(plot_data(board, COSTS), by_hand)["y"], rel=1e-3)

    move_slider(board, "Mini-batch size", 0.0)  # batch 1 …
    check_run(board, run_label(board))
    move_slider(board, "Epochs", 0.97)  # … for about 97 epochs: a long run, which Stop ends
    eventually(page, lambda: assert_in("Training", board.locator(".lab-status").inner_text()))
    board.locator("button", has_text="Stop").click()
    eventually(page, lambda: assert_in("Stopped", board.locator(".lab-status").inner_text()))

    move_slider(board, "Mini-batch size", 0.3)  # a healthy network again: at this α, batch 1 kills ReLU units,
    check_run(board, run_label(board))  # and a dead network gives every digit the same bars
    move_slider(board, "Dev digit #", 0.5)

    def chosen_digit():
        index = int(value(board, "Dev digit #"))
        assert index > 0
        assert plot_data(board, "Dev digit #")["title"].startswith(f"Dev digit #{index}: ")
        assert sum(trace(plot_data(board, DIGIT_BARS), "ŷ of each digit")["y"]) == pytest.approx(1.0, abs=1e-5)
        assert f"Dev digit #{index} is" in board.inner_text()
    eventually(page, chosen_digit)

    screenshot(page, ARTIFACTS / "voila-10_softmax_multiclass-moved.png")
    board.locator("button", has_text="Clear runs").click()
    eventually(page, lambda: (assert_equal(plot_data(board, COSTS)["traces"], [])))
    assert error_texts(page) == [] and page.errors.items == []


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def assert_equal(a, b) -> None:
    assert a == b, a


def assert_not_equal(a, b) -> None:
    assert a != b, a
