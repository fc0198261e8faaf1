"""The notes' question "can α be a vector?": one α against per-feature rates on badly scaled features."""

from __future__ import annotations

import ipywidgets as W

from lab.device import describe_device
from lab.history import RunHistory
from lab.training import DoneEvent, train
from lab.vector_learning_rate import badly_scaled_split, learning_rate_contenders
from widgets.controls import button, control
from widgets.dashboard import Dashboard, device_badge, lab_device, readout
from widgets.runner import Runner, wire_training
from widgets.status import StatusLine
from widgets.views.cost_curves import CostCurves


def vector_learning_rate_dashboard() -> Dashboard:
    """Feature scale ratio, α and iterations → cost curves of one α, hand-set per-feature α, and RMSprop."""
    device = lab_device()
    controls = {
        "feature_scale": control("feature_scale", value=100.0, low=1.0, high=1000.0),
        "lr": control("lr", value=4e-4, low=1e-5 * 1.01, high=10.0),
        "num_iterations": control("num_iterations", value=300, low=50, high=2000),
    }
    controls["lr"].description = "One shared α"
    run_button = button("Compare", "Train the three learners with these settings", "primary")
    stop_button = button("Stop", "Stop the comparison now", "warning")
    costs = CostCurves("Cost J: one α for both weights vs a rate per weight", max_runs=3)
    status, summary = StatusLine("Move a control or press Compare to start."), readout()
    histories: dict[str, RunHistory] = {}

    def on_batch(items) -> None:
        for label, event in items:
            histories[label].record(event)
        for label in dict(items):
            history = histories[label]
            costs.update_run(label, history.steps, history.costs, note="diverged" if history.diverged else "")
        if isinstance(items[-1][1], DoneEvent) and all(h.finished for h in histories.values()):
            summary.value = "Final cost — " + "; ".join(
                f"{label}: <b>{h.costs[-1]:.3f}</b>" + (" (diverged)" if h.diverged else "")
                for label, h in histories.items())

    runner = Runner(status, on_batch, device_text=describe_device(device))

    def start(*_) -> None:
        data = badly_scaled_split(controls["feature_scale"].value, device=device)
        learners = learning_rate_contenders(data, controls["lr"].value)
        n = controls["num_iterations"].value
        settings = {name: widget.value for name, widget in controls.items()}

        def setup() -> None:
            histories.clear()
            costs.clear()
            for label in learners:
                histories[label] = RunHistory(label, settings)
                costs.add_run(label)
            summary.value = ""

        def work(cancel):
            for label, learner in learners.items():
                for event in train(learner, n, cancel=cancel):
                    yield label, event
        runner.start(work, "three learners", setup)

    wire_training(runner, start, run_button, stop_button, controls.values())
    return Dashboard(
        [device_badge(device), W.HBox([W.VBox(list(controls.values())), W.VBox([run_button, stop_button])]),
         status.widget, summary, costs.figure],
        controls={**controls, "compare": run_button, "stop": stop_button}, figures={"costs": costs.figure},
        status=status, runner=runner, readout=summary)
