"""What the dashboard tests share: setting controls as a learner would and waiting for the run it starts."""


def run_with(dashboard, timeout: float = 120.0, **values):
    """Set each named control to its value, then wait for the runner to finish (asserted); returns the dashboard."""
    for name, value in values.items():
        dashboard.controls[name].value = value
    assert dashboard.runner.wait(timeout), f"the run did not finish within {timeout:g} s"
    return dashboard


def record_messages(figure) -> list[str]:
    """The names of the edits the figure sends to the browser from now on ('_py2js_update', '_py2js_addTraces'…):
    each one is a redraw there, so a dashboard that sends fewer answers faster."""
    sent: list[str] = []
    figure.observe(lambda change: change["new"] and sent.append(change["name"]),
                   names=[name for name in figure.trait_names() if name.startswith("_py2js")])
    return sent


def latest_curve(dashboard):
    """The cost curve of the latest run. Runs stay on the plot, a cancelled one too: when a test sets two controls,
    the run that the first one started may have drawn a point or two before the second cancelled it."""
    label = dashboard.panel.run.label
    return next(trace for trace in dashboard.figures["costs"].data if trace.meta == label)
