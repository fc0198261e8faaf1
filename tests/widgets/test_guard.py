"""An exception inside a dashboard callback must end up on screen, never only in the kernel log."""

import widgets.dashboards.logistic_regression as logistic_dashboard
import widgets.dashboards.logistic_regression as sigmoid_dashboard
from widgets.guard import guarded


def test_guarded_passes_the_error_text_on():
    shown = []

    def broken(_):
        raise ValueError("The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0 instead.")

    guarded(broken, shown.append)(None)
    assert shown == ["Error: ValueError: The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0 instead."]


def test_a_failing_instant_view_says_so_in_its_readout(monkeypatch):
    dashboard = sigmoid_dashboard.sigmoid_dashboard()

    def failing(_):
        raise RuntimeError("device lost")

    monkeypatch.setattr(sigmoid_dashboard, "sigmoid", failing)
    dashboard.controls["z"].value = 1.0
    assert 'class="lab-status lab-status-error"' in dashboard.readout.value
    assert "Error: RuntimeError: device lost" in dashboard.readout.value


def test_a_run_that_cannot_start_says_so_in_the_status_line(monkeypatch):
    dashboard = logistic_dashboard.learning_rate_dashboard()

    def failing(*args, **kwargs):
        raise ValueError("The 'loss' parameter must be one of ['cross_entropy', 'squared_error']. Got 'x' instead.")

    monkeypatch.setattr(logistic_dashboard, "LogisticRegression", failing)
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(10)
    assert dashboard.status.kind == "error"
    assert dashboard.status.text.startswith("Error: ValueError: The 'loss' parameter must be one of")
