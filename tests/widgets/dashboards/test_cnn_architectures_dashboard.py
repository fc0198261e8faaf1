"""Lab 13's dashboards: set a control as a learner would, let the runner finish, check what the plots now show."""

import re

import pytest
from settle import run_with

import widgets.dashboards.cnn_architectures as lab13
from lab.bottleneck import bottleneck_cost
from lab.cnn_architectures import count_parameters, get_architecture, layer_table
from lab.data.digits import load_digits_multiclass
from lab.residual import layer_gradients, make_pair
from widgets.dashboards.cnn_architectures import (
    bottleneck_dashboard,
    layer_table_dashboard,
    lenet_dashboard,
    residual_dashboard,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits_multiclass()


# ---------------------------------------------------------------- 1 × 1 convolutions


def bars(dashboard):
    """{series: list of y} as drawn, None where no bar."""
    return {trace.name: list(trace.y) for trace in dashboard.figures["multiplications"].data}


def test_the_course_example_is_drawn_at_load():
    dashboard = bottleneck_dashboard()
    assert bars(dashboard) == {"1 × 1 convolution": [None, 2_408_448], "f × f convolution": [120_422_400, 10_035_200]}
    assert "<b>120,422,400</b> multiplications" in dashboard.readout.value
    assert "<b>12,443,648</b>" in dashboard.readout.value and "<b>9.7× fewer</b>" in dashboard.readout.value
    assert list(dashboard.figures["multiplications"].data[0].x) == ["5×5 directly", "1×1 to 16, then 5×5"]


@pytest.mark.parametrize("name, value, keyword", [
    ("feature_map_size", 56, "size"), ("input_channels", 480, "in_channels"), ("output_channels", 64, "out_channels"),
    ("bottleneck_channels", 48, "bottleneck"), ("filter_size", 3, "filter_size")])
def test_each_slider_redraws_the_multiplications(name, value, keyword):
    dashboard = bottleneck_dashboard()
    dashboard.controls[name].value = value
    c = bottleneck_cost(**{keyword: value})
    assert bars(dashboard) == {"1 × 1 convolution": [None, c.reduce], "f × f convolution": [c.direct, c.expand]}
    assert f"<b>{c.with_bottleneck:,}</b>" in dashboard.readout.value


def test_a_bottleneck_wider_than_the_input_costs_more():
    dashboard = bottleneck_dashboard()
    dashboard.controls["bottleneck_channels"].value = 192
    assert "<b>widens</b>" in dashboard.readout.value and "× more</b>" in dashboard.readout.value


# ---------------------------------------------------------------- layer tables


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "resnet50", "inception"])
def test_the_dropdown_shows_that_networks_table(name):
    dashboard = layer_table_dashboard()
    dashboard.controls["architecture"].value = name
    network, table = get_architecture(name), dashboard.children[2].value
    rows = layer_table(network)
    assert table.count("<tr") == 1 + len(rows) + 1  # the header, every row, the total
    assert f"<td style=\"padding:3px 8px;border-bottom:1px solid #ddd;text-align:right;font-variant-numeric:" \
           f"tabular-nums\">{count_parameters(network):,}</td>" in table
    assert f"<b>{count_parameters(network):,}</b> parameters" in dashboard.readout.value
    shares = dashboard.figures["shares"].data
    assert list(shares[0].x) == [r.name for r in rows[1:]]
    assert sum(shares[0].y) == pytest.approx(100) and sum(shares[1].y) == pytest.approx(100)
    assert dashboard.figures["shares"].layout.xaxis.title.text == f"layer of {network.name}"


def test_vggs_parameters_sit_in_its_fully_connected_layers():
    dashboard = layer_table_dashboard("vgg16")
    assert "hold <b>89%</b> of the parameters" in dashboard.readout.value
    shares = dict(zip(dashboard.figures["shares"].data[0].x, dashboard.figures["shares"].data[0].y, strict=True))
    assert shares["fc6"] > 70  # 102.8 M of 138.4 M
    assert "no fully connected layer" in layer_table_dashboard("inception").readout.value


# ---------------------------------------------------------------- plain vs residual


def lines(dashboard) -> dict:
    return {trace.name: list(trace.y or []) for trace in dashboard.figures["gradients"].data}


def costs(dashboard) -> dict:
    return {trace.meta: trace for trace in dashboard.figures["costs"].data}


def test_at_load_the_initial_gradients_of_both_networks_are_drawn(digits):
    dashboard = residual_dashboard(digits)
    drawn = lines(dashboard)
    X, Y = digits.X_train[:, :256].T, digits.Y_train[0, :256]
    pair = make_pair(30, 32)
    assert drawn["plain, at initialization"] == pytest.approx(layer_gradients(pair["plain"], X, Y), rel=1e-5)
    assert drawn["residual, at initialization"] == pytest.approx(layer_gradients(pair["residual"], X, Y), rel=1e-5)
    assert drawn["plain, while training"] == [] and dashboard.figures["costs"].data == ()
    assert "14 residual blocks" in dashboard.children[4].value and "× larger with skip connections" in \
        dashboard.children[4].value


def test_a_run_trains_both_and_the_plain_one_ends_worse(digits):
    dashboard = run_with(residual_dashboard(digits), num_epochs=10, timeout=300)
    curves = costs(dashboard)
    assert list(curves) == ["plain · L=30 · α=0.001", "residual · L=30 · α=0.001"]
    assert curves["plain · L=30 · α=0.001"].x[-1] == pytest.approx(10.0)
    assert curves["residual · L=30 · α=0.001"].y[-1] < curves["plain · L=30 · α=0.001"].y[-1] / 3
    training = lines(dashboard)
    assert len(training["plain, while training"]) == 30 and len(training["residual, while training"]) == 30
    assert all(v is not None and v > 0 for v in training["residual, while training"])
    ratio = float(re.search(r"a training cost (\d+)× the residual one's", dashboard.readout.value).group(1))
    assert ratio >= 3 and "<b>plain</b>: training cost" in dashboard.readout.value


def test_the_depth_redraws_the_initial_gradients_at_once_and_trains_that_depth(digits):
    dashboard = residual_dashboard(digits)
    dashboard.controls["num_epochs"].value = 2
    assert dashboard.runner.wait(300)
    run_with(dashboard, num_layers=10, timeout=300)
    assert len(lines(dashboard)["plain, at initialization"]) == 10
    assert len(lines(dashboard)["plain, while training"]) == 10
    assert "plain · L=10 · α=0.001" in costs(dashboard)
    assert "4 residual blocks (layers 2–3, 4–5, 6–7, 8–9)" in dashboard.children[4].value


def test_the_learning_rate_labels_the_runs_and_a_huge_one_is_explained(digits):
    dashboard = run_with(residual_dashboard(digits), num_epochs=2, lr=0.003, timeout=300)
    assert "residual · L=30 · α=0.003" in costs(dashboard)
    run_with(dashboard, lr=0.1, num_layers=4, timeout=300)
    assert dashboard.status.kind in ("success", "warning")
    if dashboard.status.kind == "warning":
        assert re.search(r"Cost (grew to|became) .* — try a smaller learning rate", dashboard.status.text)


# ---------------------------------------------------------------- LeNet-5


def test_before_training_the_untrained_filters_and_maps_are_shown(digits):
    dashboard = lenet_dashboard(digits)
    figures = dashboard.figures
    assert figures["costs"].data == () and dashboard.status.text.startswith("Move a control")
    assert figures["filters"].layout.title.text.startswith("Layer 1: the six 5×5 filters, untrained")
    assert (len(figures["filters"].data[0].z), len(figures["filters"].data[0].z[0])) == (2 * 6, 3 * 6)  # 6 of 5 × 5
    assert (len(figures["maps2"].data[0].z), len(figures["maps2"].data[0].z[0])) == (2 * 11, 8 * 11)  # 16 of 10 × 10
    assert (len(figures["maps1"].data[0].z), len(figures["maps1"].data[0].z[0])) == (31, 6 * 31)  # 6 of 28 × 28
    assert figures["maps1"].layout.title.text.startswith("Layer 1: 6 feature maps 28 × 28 of digit #0, after tanh")
    assert "The filters have moved <b>0%</b> of their size" in dashboard.children[-3].children[1].value


def test_the_digit_slider_shows_that_digit_and_its_maps(digits):
    dashboard = lenet_dashboard(digits)
    before = [list(row) for row in dashboard.figures["maps1"].data[0].z]
    dashboard.controls["example_index"].value = 17
    digit = int(digits.Y_dev[0, 17])
    assert dashboard.figures["digit"].layout.title.text == f"Dev digit #17: a{'n' if digit == 8 else ''} {digit}"
    assert [list(row) for row in dashboard.figures["maps1"].data[0].z] != before
    assert "of digit #17" in dashboard.figures["maps2"].layout.title.text
    assert dashboard.runner.wait(1) and dashboard.figures["costs"].data == ()  # the slider trains nothing


def test_a_run_fills_every_view_and_redraws_the_filters_while_training(digits, monkeypatch):
    monkeypatch.setattr(lab13, "MAPS_INTERVAL", 0.0)
    dashboard = lenet_dashboard(digits)
    titles = []
    dashboard.figures["filters"].layout.on_change(lambda _layout, title: titles.append(title), "title.text")
    run_with(dashboard, num_epochs=3, timeout=300)
    label = "LeNet-5 · tanh · average pool · α=0.003 · batch 32"
    assert dashboard.status.kind == "success" and dashboard.status.text.startswith(f"Finished {label}: 102 mini")
    curve = costs(dashboard)[label]
    assert curve.x[-1] == pytest.approx(3.0) and curve.y[-1] < curve.y[0] / 3
    accuracy = dashboard.figures["accuracy"].data
    assert list(accuracy[0].x) == pytest.approx([1, 2, 3]) and accuracy[1].y[-1] > 0.85
    assert any(re.search(r"the six 5×5 filters, after \d\.\d epochs", t) for t in titles)  # while it trained
    assert dashboard.figures["filters"].layout.title.text.startswith("Layer 1: the six 5×5 filters, trained")
    moved = float(re.search(r"The filters have moved <b>(\d+)%</b>", dashboard.children[-3].children[1].value)[1])
    assert moved == pytest.approx(100 * dashboard.panel.run.model.filter_change(), abs=0.5) and moved > 0
    dev = float(re.search(r"dev accuracy <b>([\d.]+)%</b>", dashboard.readout.value).group(1)) / 100
    assert accuracy[1].y[-1] == pytest.approx(dev, abs=5e-4)


def test_the_default_run_reaches_97_percent(digits):
    dashboard = lenet_dashboard(digits)
    dashboard.controls["train"].click()  # the starting settings: tanh, average pooling, α = 0.003, batch 32, 15 epochs
    assert dashboard.runner.wait(600)
    match = re.search(r"dev accuracy first reached 97% after epoch (\d+), ([\d.]+) s in", dashboard.readout.value)
    assert match and int(match.group(1)) <= 15, dashboard.readout.value


@pytest.mark.parametrize("name, value, part", [("activation", "relu", "LeNet-5 · relu · average pool"),
                                               ("pool_mode", "max", "LeNet-5 · tanh · max pool"),
                                               ("batch_size", 256, "batch 256")])
def test_each_training_control_starts_a_run_with_that_setting(digits, name, value, part):
    dashboard = lenet_dashboard(digits)
    dashboard.controls["num_epochs"].value = 1
    assert dashboard.runner.wait(300)
    run_with(dashboard, timeout=300, **{name: value})
    assert any(part in label for label in costs(dashboard)), list(costs(dashboard))
    assert dashboard.status.kind == "success"
    if name == "batch_size":
        assert "5 mini-batch steps" in dashboard.status.text  # ⌈1079 / 256⌉ per epoch


def test_a_huge_learning_rate_diverges_and_the_status_line_says_so(digits):
    dashboard = run_with(lenet_dashboard(digits), num_epochs=3, lr=1.0, timeout=300)
    assert dashboard.status.kind == "warning"
    assert re.search(r"Cost (grew to .*|became \w+) at step \d+ — try a smaller learning rate", dashboard.status.text)
    assert "try a smaller learning rate" in dashboard.readout.value
    assert dashboard.figures["filters"].layout.title.text.startswith("Layer 1: the six 5×5 filters, diverged")
