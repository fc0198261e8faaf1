import csv
import io
import json

from lab.history import RunHistory
from lab.training import DivergedEvent, DoneEvent, EvalEvent, StepEvent


def test_history_records_events_and_exports_csv_and_json():
    history = RunHistory("α=0.1", {"lr": 0.1, "seed": 3})
    history.record(StepEvent(1, 0.69, {"w": 1.5, "b": 0.25}))
    history.record(StepEvent(2, 0.5, {"w": 1.0, "b": 0.125}))
    history.record(EvalEvent(2, {"test_accuracy": 0.75}))
    history.record(DoneEvent(2, False, 0.01, {"test_accuracy": 0.75}))
    rows = list(csv.reader(io.StringIO(history.to_csv())))
    assert rows == [["step", "cost", "grad_norm_w", "grad_norm_b"], ["1", "0.69", "1.5", "0.25"],
                    ["2", "0.5", "1.0", "0.125"]]
    saved = json.loads(history.to_json())
    assert saved["settings"] == {"lr": 0.1, "seed": 3}
    assert saved["final_cost"] == 0.5 and saved["metrics"] == {"test_accuracy": 0.75}
    assert history.finished and not history.cancelled and saved["diverged"] is None


def test_history_keeps_the_divergence_message():
    history = RunHistory("α=9", {"lr": 9})
    history.record(DivergedEvent(3, float("nan"), "Cost became NaN at step 3 — try a smaller learning rate."))
    assert json.loads(history.to_json())["diverged"].startswith("Cost became NaN at step 3")
