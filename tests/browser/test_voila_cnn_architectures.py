"""Lab 13 in Voilà: every control of its four dashboards is moved once, and the plot it drives shows what that
control should give — the chosen network's layers and shares, the multiplications of the sizes the sliders read,
a plain and a residual run of the depth the slider shows, LeNet-5 runs with the settings the controls show, and
the feature maps of the digit the slider picked."""

from __future__ import annotations

import math
import re

import pytest
from lab_pages import error_texts, screenshot
from lab_servers import ARTIFACTS
from test_voila import open_dashboard
from test_voila_labs import choose, click_slider, dashboard, eventually, finished, plot_data, readout, trace

from lab.bottleneck import bottleneck_cost
from lab.cnn_architectures import count_parameters, get_architecture, layer_table

pytestmark = pytest.mark.browser

NOTEBOOK = "13_cnn_architectures.ipynb"
SHARES = "Share of the parameters and of the multiplications"
MULTIPLICATIONS = "Multiplications:"
GRADIENTS = "Gradient size ‖dW^[l]‖ per layer"
RESIDUAL_COSTS = "Cost J on the training digits: plain vs residual"
LENET_COSTS = "Cost J on the training digits (runs overlaid"
ACCURACY = "Accuracy on the training and dev digits"
M_TRAIN = 1079
BOTTLENECK_SLIDERS = {"Height = width n_H = n_W": "size", "Input channels n_C": "in_channels",
                      "Output channels (filters)": "out_channels", "Bottleneck channels (1 × 1 filters)": "bottleneck",
                      "Filter size f": "filter_size"}


def assert_in(part: str, text: str) -> None:
    assert part in text, text


def check_multiplications(board) -> None:
    """The bars are the multiplications of the sizes the five sliders show."""
    c = bottleneck_cost(**{key: int(readout(board, label)) for label, key in BOTTLENECK_SLIDERS.items()})
    data = plot_data(board, MULTIPLICATIONS)
    assert trace(data, "f × f convolution")["y"] == [c.direct, c.expand], data
    assert trace(data, "1 × 1 convolution")["y"] == [None, c.reduce], data
    assert f"{c.with_bottleneck:,}" in board.inner_text()


def lenet_label(board) -> str:
    """The label of the LeNet-5 run the controls now describe."""
    def option(label: str) -> str:
        select = board.locator(".widget-dropdown").filter(has=board.page.locator("label", has_text=label)).first
        return select.locator("select").evaluate("s => s.options[s.selectedIndex].text.replace(/\\s/g, ' ')")
    pool = "average pool" if option("Pooling") == "average" else "max pool"
    return (f"LeNet-5 · {option('Hidden activation')} · {pool} · α={readout(board, 'Learning rate α'):.2g} · "
            f"batch {int(readout(board, 'Mini-batch size'))}")


def check_lenet_run(board, label: str) -> None:
    """The run `label` finished with the steps its epochs and batch size need; its curves span those epochs."""
    epochs, batch = int(readout(board, "Epochs")), int(readout(board, "Mini-batch size"))
    finished(board, f"{label}: {epochs * math.ceil(M_TRAIN / batch)} mini-batch steps")

    def drawn():
        curve = trace(plot_data(board, LENET_COSTS), label)
        assert curve["x"][-1] == pytest.approx(epochs)
        accuracy = plot_data(board, ACCURACY)
        assert trace(accuracy, "dev")["x"] == pytest.approx(list(range(1, epochs + 1)))
        assert "trained" in plot_data(board, "Layer 1: the six 5×5 filters")["title"]
    eventually(board.page, drawn)


def residual_labels(board) -> tuple[str, str]:
    tail = f"L={int(readout(board, 'Layers L'))} · α={readout(board, 'Learning rate α'):.2g}"
    return f"plain · {tail}", f"residual · {tail}"


def check_residual_run(board) -> None:
    """Both networks of the depth the slider shows trained for the epochs it shows, drawn side by side; the
    gradient view has one point per layer, at initialization and while training."""
    plain, residual = residual_labels(board)
    depth, epochs = int(readout(board, "Layers L")), int(readout(board, "Epochs"))
    finished(board, f"{residual}: {epochs * math.ceil(M_TRAIN / 64)} steps")

    def drawn():
        costs = plot_data(board, RESIDUAL_COSTS)
        for label in (plain, residual):
            assert trace(costs, label)["x"][-1] == pytest.approx(epochs)
        gradients = plot_data(board, GRADIENTS)
        for name in ("plain, at initialization", "residual, at initialization", "plain, while training",
                     "residual, while training"):
            assert trace(gradients, name)["x"] == list(range(1, depth + 1)), name
        assert f"L = {depth}: layer 1, then" in board.inner_text()
    eventually(board.page, drawn)


def test_every_control_shows_what_it_should(page, voila_url):
    open_dashboard(page, voila_url, NOTEBOOK)

    tables = dashboard(page, SHARES)
    choose(tables, "Network", "VGG-16")

    def vgg_drawn():
        rows = layer_table(get_architecture("vgg16"))
        data = plot_data(tables, SHARES)
        assert trace(data, "parameters")["x"] == [r.name for r in rows[1:]]
        assert sum(trace(data, "parameters")["y"]) == pytest.approx(100)
        assert_in(f"{count_parameters(get_architecture('vgg16')):,}", tables.inner_text())
    eventually(page, vgg_drawn)

    bottleneck = dashboard(page, MULTIPLICATIONS)
    eventually(page, lambda: check_multiplications(bottleneck))
    for label, fraction in zip(BOTTLENECK_SLIDERS, (0.3, 0.6, 0.2, 0.5, 0.1), strict=True):
        before = readout(bottleneck, label)
        click_slider(bottleneck, label, fraction)

        def moved_and_redrawn(label=label, before=before):
            assert readout(bottleneck, label) != before, f"the click left {label} at {before}"
            check_multiplications(bottleneck)
        eventually(page, moved_and_redrawn)

    residual = dashboard(page, GRADIENTS)
    click_slider(residual, "Epochs", 0.01)  # 1 or 2 epochs: short runs from here on
    check_residual_run(residual)
    click_slider(residual, "Layers L", 0.15)  # about 10 layers
    check_residual_run(residual)
    click_slider(residual, "Learning rate α", 0.6)  # about 0.006
    check_residual_run(residual)

    lenet = dashboard(page, LENET_COSTS)
    click_slider(lenet, "Epochs", 0.0)  # one epoch per run
    check_lenet_run(lenet, lenet_label(lenet))
    click_slider(lenet, "Learning rate α", 0.4)
    check_lenet_run(lenet, lenet_label(lenet))
    click_slider(lenet, "Mini-batch size", 0.1)
    check_lenet_run(lenet, lenet_label(lenet))
    choose(lenet, "Hidden activation", "relu")
    check_lenet_run(lenet, lenet_label(lenet))
    choose(lenet, "Pooling", "max")
    check_lenet_run(lenet, lenet_label(lenet))
    click_slider(lenet, "Dev digit #", 0.5)

    def chosen_digit():
        index = int(readout(lenet, "Dev digit #"))
        assert index > 0
        assert plot_data(lenet, "Dev digit #")["title"].startswith(f"Dev digit #{index}: ")
        assert f"of digit #{index}" in plot_data(lenet, "Layer 1: 6 feature maps")["title"]
        assert f"of digit #{index}" in plot_data(lenet, "Layer 2: 16 feature maps")["title"]
        assert re.search(rf"Dev digit #{index} is an? \d; the trained network says", lenet.inner_text())
    eventually(page, chosen_digit)

    screenshot(page, ARTIFACTS / "voila-13_cnn_architectures-moved.png")
    lenet.locator("button", has_text="Clear runs").click()

    def cleared():
        assert plot_data(lenet, LENET_COSTS)["traces"] == []
    eventually(page, cleared)
    assert error_texts(page) == [] and page.errors.items == []
