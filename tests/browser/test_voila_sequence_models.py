"""Lab 17 in Voilà: every control of its three dashboards is moved once, and the plot it drives shows what that
control should give — a gradient curve labelled with the settings the sliders now show and as long as T, the
three cells trained at the distance the slider shows, a name model trained with the settings shown, and the
next-letter bars of the typed prefix."""

from __future__ import annotations

import re

import pytest
from lab_pages import error_texts, screenshot, slider
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, eventually, finished, plot_data, text_box, trace

pytestmark = pytest.mark.browser

NOTEBOOK = "17_sequence_models.ipynb"
GRADIENTS = "How much of the last step's gradient"
RECALL_COSTS = "Cost J (cross-entropy) of each cell"
PROGRESS = "Held-out accuracy while training"
BY_DISTANCE = "Held-out accuracy at the end of each run"
NAME_COSTS = "Cost per letter on the training names"
NEXT_LETTER = "P(next letter"
CELLS = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM", "gru course": "GRU (course's form)"}


def value(board, label: str) -> float:
    return float(slider(board, label).locator(".widget-readout").inner_text().replace(",", "").replace("−", "-"))


def chosen(board, label: str) -> str:
    """The text of the option a dropdown shows, spaces made plain."""
    select = board.locator(".widget-dropdown").filter(has=board.page.locator("label", has_text=label)).first
    return select.locator("select").evaluate("s => s.options[s.selectedIndex].text.replace(/\\s/g, ' ')")


def gradient_label(board) -> str:
    """The label of the curve the gradient controls now describe (the readouts are rounded as the label is)."""
    return (f"{CELLS[chosen(board, 'Cell')]} · T={int(value(board, 'Sequence length T'))} · factor "
            f"{value(board, 'Init factor'):.2g} · bias {value(board, 'Memory gate bias'):g}")


def named(data: dict, name: str) -> dict:
    """The trace called exactly `name` (a clipped copy's name starts with its curve's)."""
    found = [t for t in data["traces"] if t["name"] == name]
    assert len(found) == 1, (name, [t["name"] for t in data["traces"]])
    return found[0]


def recall_label(board) -> str:
    """The label of the recall run the controls now describe, as the dashboard writes it."""
    clip = value(board, "Clip gradient norm at")
    return (f"T={int(value(board, 'Distance T'))} · {int(value(board, 'Hidden units n_a'))} units · "
            f"α={value(board, 'Learning rate α'):.2g} · gate bias {value(board, 'Memory gate bias'):g}"
            + (f" · clip {clip:g}" if clip else "") + f" · {int(value(board, 'Training steps'))} steps")


def check_gradient_curve(board) -> None:
    curve = named(plot_data(board, GRADIENTS), gradient_label(board))
    steps = int(value(board, "Sequence length T"))
    assert curve["x"] == list(range(1, steps + 1)) and all(v is None or v > 0 for v in curve["y"])


def test_every_control_shows_what_it_should(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)

    grads = dashboard(page, GRADIENTS)
    eventually(page, lambda: check_gradient_curve(grads))  # the starting curve
    choose(grads, "Cell", "rnn")
    eventually(page, lambda: check_gradient_curve(grads))
    for label, fraction in [("Sequence length T", 0.4), ("Memory gate bias", 0.6), ("Init factor", 0.9)]:
        click_slider(grads, label, fraction)
        eventually(page, lambda: check_gradient_curve(grads))
    eventually(page, lambda: assert_in("exploding", grads.inner_text()))  # the plain RNN at a factor near 6
    click_slider(grads, "Clip gradient norm at", 0.3)

    def clipped():
        clip = value(grads, "Clip gradient norm at")
        data = plot_data(grads, GRADIENTS)
        dotted = trace(data, f"{gradient_label(grads)}, clipped at {clip:g}")
        raw = named(data, gradient_label(grads))["y"]
        assert dotted["y"] and raw, "a line without points"  # retried, not an IndexError, if ever caught between
        scale = dotted["y"][0] / raw[0]
        assert scale < 1 and dotted["y"][-1] / raw[-1] == pytest.approx(scale, rel=1e-6)  # one factor for all t
    eventually(page, clipped)

    recall = dashboard(page, RECALL_COSTS)
    click_slider(recall, "Training steps", 0.0)  # 50 steps: every move below trains three cells briefly
    for label, fraction in [("Distance T", 0.05), ("Hidden units n_a", 0.1), ("Learning rate α", 0.3),
                            ("Memory gate bias", 0.4), ("Clip gradient norm at", 0.2)]:
        click_slider(recall, label, fraction)
        distance = int(value(recall, "Distance T"))
        # the summary names the run by all its settings, so an earlier run's cannot pass for this one's
        summary = f"{recall_label(recall)}: T = {distance}:"
        eventually(page, lambda summary=summary: assert_in(summary, recall.inner_text()))
        for cell in ("plain RNN", "GRU", "LSTM"):
            assert trace(plot_data(recall, RECALL_COSTS), f"{cell} · T={distance}")["x"][-1] == 50
            assert trace(plot_data(recall, PROGRESS), cell)["x"] == [25, 50]
    assert distance in trace(plot_data(recall, BY_DISTANCE), "GRU")["x"]

    names = dashboard(page, NAME_COSTS)
    click_slider(names, "Mini-batch steps", 0.0)  # 100 steps
    finished(names, "GRU · 64 units")
    for move in [lambda: choose(names, "Names", "first names"), lambda: choose(names, "Cell", "lstm"),
                 lambda: click_slider(names, "Hidden units n_a", 0.05),
                 lambda: click_slider(names, "Learning rate α", 0.5),
                 lambda: click_slider(names, "Mini-batch size", 0.05),
                 lambda: click_slider(names, "Clip gradient norm at", 0.1)]:
        move()
        clip = value(names, "Clip gradient norm at")
        label = (f"{CELLS[chosen(names, 'Cell')]} · {int(value(names, 'Hidden units n_a'))} units · "
                 f"α={value(names, 'Learning rate α'):.2g} · batch {int(value(names, 'Mini-batch size'))}"
                 + (f" · clip {clip:g}" if clip else "") + f" · {chosen(names, 'Names')}")
        finished(names, f"{label}: 100 steps")
        assert trace(plot_data(names, NAME_COSTS), label)["x"][-1] == pytest.approx(0.1)

    box = text_box(names, "Prefix")
    box.fill("jo")

    def next_letters_of_jo():
        data = plot_data(names, NEXT_LETTER)
        assert "“jo”" in data["title"] and sum(data["traces"][0]["y"]) == pytest.approx(1.0, abs=1e-4)
    eventually(page, next_letters_of_jo)
    before = plot_data(names, NEXT_LETTER)["traces"][0]["y"]
    click_slider(names, "Sampling temperature", 0.1)
    eventually(page, lambda: assert_greater(max(plot_data(names, NEXT_LETTER)["traces"][0]["y"]), max(before)))
    eventually(page, lambda: assert_in("At temperature 0.", names.inner_text()))
    box.fill("jo3")
    eventually(page, lambda: assert_in("never seen: '3'", names.inner_text()))

    screenshot(page, ARTIFACTS / "voila-17_sequence_models-moved.png")
    names.locator("button", has_text=re.compile(r"^\s*Clear runs\s*$")).click()
    eventually(page, lambda: assert_equal(plot_data(names, NAME_COSTS)["traces"], []))
    assert error_texts(page) == [] and page.errors.items == []


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def assert_equal(a, b) -> None:
    assert a == b, (a, b)


def assert_greater(a, b) -> None:
    assert a > b, (a, b)
