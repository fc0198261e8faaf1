import pytest

from widgets.vector_lr_dashboard import vector_learning_rate_dashboard


@pytest.fixture(scope="module")
def dashboard():
    return vector_learning_rate_dashboard()


def finals(dashboard):
    return {trace.meta: trace.y[-1] for trace in dashboard.figures["costs"].data}


def test_compare_trains_three_learners_and_per_feature_rates_win(dashboard):
    dashboard.controls["compare"].click()
    assert dashboard.runner.wait(60)
    costs = finals(dashboard)
    assert list(costs) == ["one α = 0.0004", "α per feature (hand-set)", "RMSprop (α = 0.01)"]
    assert costs["α per feature (hand-set)"] < 0.6 * costs["one α = 0.0004"]
    assert "Final cost — one α = 0.0004: <b>0.5" in dashboard.readout.value


def test_a_thousandfold_scale_makes_the_fixed_rates_diverge(dashboard):
    dashboard.controls["feature_scale"].value = 1000.0
    assert dashboard.runner.wait(60)
    assert dashboard.status.kind == "warning"
    assert "one α = 0.0004: Cost grew" in dashboard.status.text
    names = [trace.name for trace in dashboard.figures["costs"].data]
    assert names[0].endswith("(diverged)") and not names[2].endswith("(diverged)")


def test_iterations_set_the_length_of_every_curve(dashboard):
    dashboard.controls["feature_scale"].value = 10.0
    dashboard.controls["num_iterations"].value = 100
    assert dashboard.runner.wait(60)
    assert [len(trace.x) for trace in dashboard.figures["costs"].data] == [100, 100, 100]
