"""Lab 07's dashboards: move each control as a learner would and check the plots move the expected way."""

import math
import re

import pytest
from settle import record_messages

from widgets.dashboards.optimization import (
    batch_size_dashboard,
    loss_surface_dashboard,
    notes_mistakes_dashboard,
    optimizer_dashboard,
)


def run_with(dashboard, **values):
    """Set controls one at a time like a learner, letting each run finish; if none changes, press Train."""
    changed = False
    for name, value in values.items():
        changed |= dashboard.controls[name].value != value
        dashboard.controls[name].value = value
        assert dashboard.runner.wait(120)
    if not changed:
        dashboard.controls["train"].click()
    assert dashboard.runner.wait(120)
    return dashboard


def traces(figure):
    return {trace.meta: trace for trace in figure.data}


def final(figure, label):
    return traces(figure)[label].y[-1]


# ---------------------------------------------------------------- batch size


@pytest.fixture
def batches():
    return batch_size_dashboard()


def test_batch_size_dashboard_starts_idle(batches):
    assert batches.figures["costs"].data == () and "Computing on:" in batches.children[0].value
    assert batches.controls["batch_size"].max == 1348 and batches.controls["batch_size"].min == 1


def test_smaller_batches_are_noisier_and_take_more_steps(batches):
    run_with(batches, num_epochs=2, lr=0.1, batch_size=1348)
    smooth = batches.readout.value
    assert "(batch gradient descent): 1 steps per epoch" in smooth
    run_with(batches, batch_size=16)
    noisy = batches.readout.value
    assert "(mini-batch gradient descent): 85 steps per epoch" in noisy

    def noise(text):
        return float(re.search(r"mean cost\) <b>([\d.]+)</b>", text).group(1))

    assert noise(noisy) > 5 * noise(smooth)
    costs = traces(batches.figures["costs"])
    assert len(costs["batch 1348 · α=0.1"].x) == 2 and len(costs["batch 16 · α=0.1"].x) == 170
    assert costs["batch 16 · α=0.1"].x[-1] == pytest.approx(2.0)  # x is in epochs
    assert final(batches.figures["costs"], "batch 16 · α=0.1") < final(batches.figures["costs"], "batch 1348 · α=0.1")


def test_steps_per_epoch_are_m_over_the_batch_size_rounded_up(batches):
    for batch_size in (1348, 500, 100):
        run_with(batches, num_epochs=1, batch_size=batch_size)
        steps = math.ceil(1348 / batch_size)
        assert f"{steps} steps per epoch" in batches.readout.value
        assert len(traces(batches.figures["costs"])[f"batch {batch_size} · α=0.1"].x) == steps
    assert "(mini-batch gradient descent): 14 steps per epoch" in batches.readout.value


def test_the_timing_bars_show_one_positive_time_per_finished_run(batches):
    run_with(batches, batch_size=1348, num_epochs=2)  # the 5-epoch run is replaced by the 2-epoch one
    run_with(batches, batch_size=16)
    timing = batches.figures["timing"].data[0]
    assert list(timing.y) == ["batch 1348 · α=0.1", "batch 16 · α=0.1"]  # in the cost plot's order
    assert all(seconds > 0 for seconds in timing.x)
    shown = float(re.search(r"<b>(\d+) ms</b> per epoch", batches.readout.value).group(1))
    assert shown == round(timing.x[-1] * 1000)  # the readout states the latest bar
    run_with(batches, batch_size=1348)  # the same run again: its bar is replaced, not added
    assert list(timing.y) == ["batch 16 · α=0.1", "batch 1348 · α=0.1"]


def test_batch_size_one_is_stochastic_gradient_descent(batches):
    run_with(batches, num_epochs=1, batch_size=1)
    assert "(stochastic gradient descent): 1348 steps per epoch" in batches.readout.value
    assert len(traces(batches.figures["costs"])["batch 1 · α=0.1"].x) == 1348


def test_a_larger_learning_rate_ends_lower(batches):
    run_with(batches, num_epochs=3, batch_size=64, lr=0.01)
    run_with(batches, lr=0.3)
    assert final(batches.figures["costs"], "batch 64 · α=0.3") < 0.5 * final(batches.figures["costs"],
                                                                              "batch 64 · α=0.01")


def test_batch_buttons(batches):
    batches.controls["train"].click()
    assert batches.runner.wait(60) and batches.status.kind == "success"
    assert len(batches.figures["timing"].data[0].x) == 1
    assert "data:text/csv;base64," in batches.panel.export.widget.value  # the finished run's
    batches.controls["num_epochs"].value = 30
    batches.controls["batch_size"].value = 1
    batches.controls["stop"].click()
    assert batches.runner.wait(10) and batches.status.text.startswith("Stopped")
    assert len(batches.figures["timing"].data[0].x) == 1  # a stopped run gets no bar
    batches.controls["clear"].click()
    assert batches.figures["costs"].data == () and batches.figures["timing"].data[0].x == ()


# ---------------------------------------------------------------- optimizers


@pytest.fixture
def optimizers():
    return optimizer_dashboard()


def test_momentum_with_beta_zero_is_gradient_descent_and_a_large_beta_warms_up_slowly(optimizers):
    run_with(optimizers, num_epochs=10, batch_size=128, lr=0.1, optimizer="gd")
    run_with(optimizers, optimizer="momentum", beta=0.0)
    figure = optimizers.figures["costs"]
    gd = traces(figure)["gradient descent α=0.1 · batch 128"].y
    assert list(traces(figure)["momentum α=0.1 β=0 · batch 128"].y) == list(gd)
    run_with(optimizers, beta=0.99)  # v starts at 0 and grows by (1 − β)·dW: ~100 steps to get going
    assert final(figure, "momentum α=0.1 β=0.99 · batch 128") > 1.5 * final(figure, "momentum α=0.1 β=0 · batch 128")


def test_adam_beats_gradient_descent_at_a_small_rate(optimizers):
    run_with(optimizers, optimizer="gd", lr=0.01)
    run_with(optimizers, optimizer="adam")
    figure = optimizers.figures["costs"]
    assert final(figure, "Adam α=0.01 β₁=0.9 β₂=0.999 · batch 128") < 0.2 * final(figure,
                                                                                  "gradient descent α=0.01 · batch 128")
    assert "test accuracy <b>" in optimizers.readout.value


def test_a_larger_beta1_lags_more(optimizers):
    run_with(optimizers, optimizer="adam", lr=0.001, beta1=0.9)
    run_with(optimizers, beta1=0.99)
    figure = optimizers.figures["costs"]
    lagging, default = "Adam α=0.001 β₁=0.99 β₂=0.999 · batch 128", "Adam α=0.001 β₁=0.9 β₂=0.999 · batch 128"
    assert final(figure, lagging) > final(figure, default)


def test_beta2_changes_adam_but_not_gradient_descent(optimizers):
    run_with(optimizers, optimizer="adam", lr=0.001, beta1=0.9)
    run_with(optimizers, beta2=0.9)
    figure = optimizers.figures["costs"]
    assert final(figure, "Adam α=0.001 β₁=0.9 β₂=0.9 · batch 128") != final(figure,
                                                                            "Adam α=0.001 β₁=0.9 β₂=0.999 · batch 128")
    run_with(optimizers, optimizer="gd", lr=0.1)
    count = len(figure.data)
    run_with(optimizers, beta2=0.999)  # gradient descent has no β₂: the same run again, replacing itself
    assert len(figure.data) == count


def test_decay_shrinks_the_learning_rate_each_epoch(optimizers):
    run_with(optimizers, optimizer="gd", lr=0.1, num_epochs=10, lr_schedule="none", decay_rate=0.0)
    run_with(optimizers, lr_schedule="inverse_time", decay_rate=0.5)
    rates = traces(optimizers.figures["rates"])
    flat = rates["gradient descent α=0.1 · batch 128"]
    decayed = rates["gradient descent α=0.1 · inverse time d=0.5 · batch 128"]
    assert list(flat.y) == [0.1] * 10
    assert decayed.y[1] == pytest.approx(0.1 / 1.5) and decayed.y[-1] == pytest.approx(0.1 / 5.5)
    costs = optimizers.figures["costs"]
    assert final(costs, "gradient descent α=0.1 · inverse time d=0.5 · batch 128") > final(
        costs, "gradient descent α=0.1 · batch 128")  # smaller steps: less progress in the same epochs
    run_with(optimizers, lr_schedule="exponential", decay_rate=0.2)
    run_with(optimizers, lr_schedule="staircase")
    rates = traces(optimizers.figures["rates"])
    exp_y = rates["gradient descent α=0.1 · exponential d=0.2 · batch 128"].y
    stair_y = rates["gradient descent α=0.1 · staircase d=0.2 · batch 128"].y
    assert exp_y[3] == pytest.approx(0.1 * math.exp(-0.6))
    assert stair_y[:5] == (0.1,) * 5 and stair_y[5] == pytest.approx(0.1 * math.exp(-1.0))


def test_batch_size_and_epochs_set_the_curve_length(optimizers):
    run_with(optimizers, lr_schedule="none", decay_rate=0.0, batch_size=337, num_epochs=3)
    trace = traces(optimizers.figures["costs"])["gradient descent α=0.1 · batch 337"]
    assert len(trace.x) == 12 and trace.x[-1] == pytest.approx(3.0)


def test_a_huge_rate_shows_the_divergence_message(optimizers):
    run_with(optimizers, optimizer="adam", lr=0.5, batch_size=128, num_epochs=10)
    assert optimizers.status.kind == "warning" and "try a smaller learning rate" in optimizers.status.text
    assert traces(optimizers.figures["costs"])["Adam α=0.5 β₁=0.9 β₂=0.999 · batch 128"].name.endswith("(diverged)")
    assert "Cost grew to" in optimizers.readout.value


def test_optimizer_buttons(optimizers):
    optimizers.controls["clear"].click()
    assert optimizers.figures["costs"].data == () and optimizers.figures["rates"].data == ()
    optimizers.controls["lr"].value = 0.05
    optimizers.controls["train"].click()
    assert optimizers.runner.wait(60) and len(optimizers.figures["costs"].data) == 1
    optimizers.controls["num_epochs"].value = 50
    optimizers.controls["stop"].click()
    assert optimizers.runner.wait(10) and optimizers.status.text.startswith("Stopped")


# ---------------------------------------------------------------- loss surface


@pytest.fixture
def surface():
    return loss_surface_dashboard(pace=0)


def paths(dashboard):
    return {t.meta: t for t in dashboard.figures["paths"].data[2:]}


def distance(dashboard, label):
    return float(re.search(rf"{label}: <b>([\d.e-]+)</b> from the minimum", dashboard.readout.value).group(1))


def test_surface_shows_contours_before_any_run(surface):
    contour = surface.figures["paths"].data[0]
    assert len(contour.z) == 81 and len(contour.z[0]) == 81 and "Elongated bowl" in surface.figures[
        "paths"].layout.title.text
    assert paths(surface) == {}
    assert surface.status.text == "Move a control or press Run to start."
    assert surface.controls["train"].description == "Run" and "clear" not in surface.controls


def test_all_four_optimizers_walk_and_the_steps_set_the_path_length(surface):
    run_with(surface, num_iterations=40)
    drawn = paths(surface)
    assert list(drawn) == ["gradient descent", "momentum", "RMSprop", "Adam"]
    assert all(len(t.x) == 41 for t in drawn.values())
    assert (drawn["Adam"].x[0], drawn["Adam"].y[0]) == (-9.0, 1.5)
    assert "RMSprop's own step sizes at the end" in surface.readout.value
    sent = record_messages(surface.figures["paths"])
    run_with(surface, num_iterations=80)
    assert set(sent) == {"_py2js_update"}  # the same four paths are reused: no trace added, none deleted
    assert all(len(t.x) == 81 for t in paths(surface).values())
    assert distance(surface, "momentum") < distance(surface, "gradient descent")


def test_momentum_beta_zero_walks_like_gradient_descent(surface):
    run_with(surface, beta=0.0)
    drawn = paths(surface)
    assert list(drawn["momentum"].y) == list(drawn["gradient descent"].y)
    run_with(surface, beta=0.9)
    assert list(paths(surface)["momentum"].y) != list(paths(surface)["gradient descent"].y)


def test_a_larger_rate_makes_gradient_descent_zig_zag_and_then_diverge(surface):
    def zig_zag(trace):
        return sum(abs(b - a) for a, b in zip(trace.y, trace.y[1:], strict=False))
    run_with(surface, lr=0.2)
    calm = zig_zag(paths(surface)["gradient descent"])
    run_with(surface, lr=0.38)
    assert zig_zag(paths(surface)["gradient descent"]) > 2 * calm
    run_with(surface, lr=0.5)
    assert paths(surface)["gradient descent"].name == "gradient descent (diverged)"
    assert "gradient descent: <b>diverged</b>" in surface.readout.value


def test_adam_betas_change_only_adams_path(surface):
    run_with(surface)
    before = {label: list(t.x) for label, t in paths(surface).items()}
    run_with(surface, beta1=0.5)
    after = {label: list(t.x) for label, t in paths(surface).items()}
    assert after["Adam"] != before["Adam"] and after["gradient descent"] == before["gradient descent"]
    run_with(surface, beta2=0.9)
    assert list(paths(surface)["Adam"].x) != after["Adam"] and list(paths(surface)["RMSprop"].x) == after["RMSprop"]


def test_the_notes_rmsprop_vanishes_and_the_readout_says_why(surface):
    run_with(surface, notes_rmsprop=True)
    notes = paths(surface)["notes' RMSprop"]
    assert notes.name == "notes' RMSprop (diverged)" and notes.x[1] is None  # NaN is drawn as a gap
    assert "s turns negative at the first step" in surface.readout.value
    assert "notes' RMSprop: Cost became NaN at step 2" in surface.status.text
    run_with(surface, notes_rmsprop=False)
    assert "notes' RMSprop" not in paths(surface)


def test_the_banana_surface_redraws_the_contours_and_suggests_its_rate(surface):
    run_with(surface, surface="banana")
    figure = surface.figures["paths"]
    assert "Banana valley" in figure.layout.title.text and list(figure.data[1].x) == [1.0]
    assert surface.controls["lr"].value == pytest.approx(0.015)
    assert paths(surface)["Adam"].x[0] == -1.5
    run_with(surface, surface="bowl")
    assert surface.controls["lr"].value == pytest.approx(0.35)


def test_surface_buttons(surface):
    surface.controls["train"].click()
    assert surface.runner.wait(30) and surface.status.kind == "success"
    slow = loss_surface_dashboard(pace=0.05)
    slow.controls["num_iterations"].value = 300
    slow.controls["stop"].click()
    assert slow.runner.wait(10) and slow.status.text.startswith("Stopped")
    assert len(paths(slow)["Adam"].x) < 301


# ---------------------------------------------------------------- the notes' mistakes


@pytest.fixture
def mistakes():
    return notes_mistakes_dashboard()


def test_the_schedule_plot_shows_the_notes_pole_at_one_over_d(mistakes):
    figure = mistakes.figures["schedules"]
    good, notes = figure.data[0].y, figure.data[1].y
    assert good[1] == pytest.approx(0.002 / 1.1) and notes[1] == pytest.approx(0.002 / 0.9)
    assert notes[10] is None and notes[11] < 0  # infinite at t = 1/d = 10, then negative
    pole = figure.data[2]
    assert list(pole.x) == [pytest.approx(10), pytest.approx(10)]
    assert "at epoch t = 1/d = <b>10</b> it is infinite" in mistakes.children[2].value
    mistakes.controls["decay_rate"].value = 0.2
    assert list(pole.x) == [pytest.approx(5), pytest.approx(5)]  # the pole moves left
    mistakes.controls["decay_rate"].value = 0.05
    assert pole.x == ()  # t = 20 lies past the 15 epochs shown
    assert "past the last epoch shown" in mistakes.children[2].value
    mistakes.controls["num_epochs"].value = 25
    assert len(figure.data[0].x) == 25 and list(pole.x) == [pytest.approx(20), pytest.approx(20)]
    mistakes.controls["lr"].value = 0.01
    assert mistakes.figures["schedules"].data[0].y[0] == pytest.approx(0.01)
    mistakes.controls["decay_rate"].value = 0.0
    assert "both formulas keep α = α₀" in mistakes.children[2].value
    assert mistakes.runner.wait(120)


def test_the_course_formulas_train_and_the_notes_decay_blows_up(mistakes):
    run_with(mistakes, lr=0.002, decay_rate=0.1, num_epochs=15, notes_rmsprop=False, notes_decay=False)
    assert mistakes.status.kind == "success" and "test accuracy <b>" in mistakes.readout.value
    run_with(mistakes, notes_decay=True)
    assert mistakes.status.kind == "warning" and "Cost became NaN" in mistakes.status.text
    assert "the notes' decay α₀/(1 − d·t) is infinite at t = 1/d" in mistakes.readout.value
    assert "the course divides by 1 + d·t" in mistakes.status.text  # the hint ends the on-screen message
    label = "RMSprop (course) · decay α₀/(1 − 0.1·t) · α₀=0.002"
    assert traces(mistakes.figures["costs"])[label].name == f"{label} (diverged)"


def test_the_notes_rmsprop_turns_nan_at_the_second_step(mistakes):
    run_with(mistakes, notes_decay=False, notes_rmsprop=True)
    assert "Cost became NaN at step 2" in mistakes.status.text
    assert "lets s turn negative, so √(s + ε) is NaN" in mistakes.readout.value


def test_mistakes_buttons(mistakes):
    mistakes.controls["num_epochs"].value = 40
    mistakes.controls["stop"].click()
    assert mistakes.runner.wait(10) and mistakes.status.text.startswith("Stopped")
    mistakes.controls["train"].click()
    assert mistakes.runner.wait(120) and mistakes.status.kind == "success"
