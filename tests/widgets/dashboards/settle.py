"""What the dashboard tests share: setting controls as a learner would and waiting for the run it starts."""


def run_with(dashboard, timeout: float = 120.0, **values):
    """Set each named control to its value, then wait for the runner to finish (asserted); returns the dashboard."""
    for name, value in values.items():
        dashboard.controls[name].value = value
    assert dashboard.runner.wait(timeout), f"the run did not finish within {timeout:g} s"
    return dashboard
