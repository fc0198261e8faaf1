"""Benchmark for lab 10 (not collected by pytest): `python tests/benchmarks/bench_softmax.py [--repeats 50]`.

Prints
- for every control of the instant views (logit sliders, temperature, shift c, the typed-logits box, the dev-digit
  slider), the kernel time one change takes (the callback: computing softmax, building the update, and encoding
  the widget messages as JSON the way a kernel does before sending them): median and p95 of wall time, the
  median CPU time, and the bytes sent per change. Target: well under 100 ms (it should be a few ms);
- for the training dashboard, the time from a control change to the first point on the cost plot, and the whole
  run;
- the bare training speed (no dashboard): mini-batch steps per second and seconds per epoch, by hand and with
  autograd, for softmax regression and 64 hidden units, at batch sizes 1, 64 and 1079.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
import torch  # noqa: E402
from control_timing import SerializingComm, percentile  # noqa: E402

from lab.device import configure_threads  # noqa: E402


def measure(widget, values, repeats: int, warmup: int = 3) -> tuple[list[float], list[float], float]:
    """Wall and CPU seconds of `repeats` changes of `widget` to the next of `values` (cycled), and the mean bytes
    of widget messages one change sends."""
    values = itertools.cycle(values)
    for _ in range(warmup):
        widget.value = next(values)
    wall, cpu = [], []
    SerializingComm.sent_bytes = 0
    for _ in range(repeats):
        value = next(values)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        widget.value = value
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, SerializingComm.sent_bytes / repeats


def report(name: str, wall: list[float], cpu: list[float], sent: float) -> None:
    print(f"{name:<34} median {statistics.median(wall) * 1e3:7.2f} ms   p95 {percentile(wall, 0.95) * 1e3:7.2f} ms"
          f"   CPU median {statistics.median(cpu) * 1e3:7.2f} ms   {sent / 1e3:6.1f} kB sent   ({len(wall)} changes)")


def instant_views(repeats: int) -> None:
    from widgets.dashboards.softmax_multiclass import softmax_dashboard, typed_logits_dashboard

    sliders = softmax_dashboard()
    for name, key, values in [("softmax: logit z₁", "z1", [round(0.5 * i - 5, 1) for i in range(20)]),
                              ("softmax: temperature T", "softmax_temperature", [0.1, 0.5, 2.0, 8.0]),
                              ("softmax: shift c (overflowing)", "logit_shift", [0.0, 500.0, 1000.0])]:
        report(name, *measure(sliders.controls[key], values, repeats))
    typed = typed_logits_dashboard()
    report("typed logits: a valid list", *measure(typed.controls["logits"], ["1e6, 0, -1e6", "5, 2, -1, 3",
                                                                            "0, 0, 0, 0, 0, 0, 0, 0, 0, 1"], repeats))
    report("typed logits: bad input", *measure(typed.controls["logits"], ["5, two", "1e7", "nan"], repeats))


def training_dashboard(repeats: int) -> None:
    from widgets.dashboards.softmax_multiclass import softmax_training_dashboard

    dashboard = softmax_training_dashboard()
    for setting, value in [("train", None), ("softmax_hidden_units", 64), ("batch_size", 1)]:
        start = time.perf_counter()
        if value is None:
            dashboard.controls[setting].click()
        else:
            dashboard.controls[setting].value = value
        label = dashboard.panel.run.label  # the new run's: set before the control's callback returns
        while not any(trace.x for trace in dashboard.figures["costs"].data if trace.meta == label):
            assert time.perf_counter() - start < 60, f"no point of {label!r} after a minute"
            time.sleep(0.001)
        first = time.perf_counter() - start
        assert dashboard.runner.wait(300)
        print(f"training dashboard, {setting}{'' if value is None else f'={value}'}: first point after "
              f"{first * 1e3:6.1f} ms, run of {label!r} ended after {time.perf_counter() - start:5.2f} s")
    dashboard.controls["batch_size"].value = 64
    assert dashboard.runner.wait(300)
    report("training dashboard: dev digit #", *measure(dashboard.controls["example_index"], list(range(0, 300, 7)),
                                                       repeats))


def bare_training() -> None:
    from lab.data.digits import load_digits_multiclass
    from lab.softmax import SoftmaxTraining, make_network
    from lab.training import train

    data = load_digits_multiclass()
    for implementation, hidden, batch in itertools.product(("by_hand", "torch_autograd"), (0, 64), (1, 64, 1079)):
        task = SoftmaxTraining(make_network(implementation, 64, hidden, 10), data, lr=0.05, batch_size=batch)
        epochs = 2 if batch == 1 else 20
        start = time.perf_counter()
        for _ in train(task, epochs * task.steps_per_epoch, blowup_ratio=None):
            pass
        seconds = time.perf_counter() - start
        print(f"{implementation:<15} hidden {hidden:>2}  batch {batch:>4}: {task.steps_done / seconds:8.0f} steps/s, "
              f"{seconds / epochs * 1e3:7.1f} ms per epoch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    comm.create_comm = SerializingComm  # ipywidgets looks it up at each widget's creation
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    instant_views(args.repeats)
    training_dashboard(args.repeats)
    bare_training()


if __name__ == "__main__":
    main()
