"""Benchmark for lab 09 (not collected by pytest): `python tests/benchmarks/bench_batch_norm.py [--repeats 50]`.

Prints
- one batch-norm layer, forward + backward, by hand against torch.nn.BatchNorm1d with autograd (float32, 32 units,
  mini-batches of 64 and 1024): microseconds per call;
- one training step of the lab's network (mini-batch 64 of the digits, 32 units per hidden layer), plain and with
  batch norm, by hand and with torch.nn + autograd, at depth 2, 6 and 20: milliseconds per step;
- whole runs as the dashboard trains them (10 epochs, α = 0.5 and α = 3, L = 6): seconds, dev accuracy, and
  whether the run diverged; then dev accuracy with running averages against test batches of 1, 2, 8 and 64;
- the dashboard: the time from a control change to the first point of the new run on the cost plot, and the
  kernel time of each control that does not train (median and p95; target p95 ≤ 100 ms).
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

from lab.batch_norm import BatchNorm  # noqa: E402
from lab.device import configure_threads  # noqa: E402

BATCH_NORMS = {"mine": BatchNorm(32), "torch": torch.nn.BatchNorm1d(32)}  # one layer of 32 units each, timed below


def per_call(fn, repeats: int, warmup: int = 5) -> float:
    """Median seconds of one call of `fn`."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def layer_by_hand(layer, Z: torch.Tensor, dOut: torch.Tensor) -> None:
    layer.forward(Z)
    layer.backward(dOut)


def layer_with_torch(layer: torch.nn.BatchNorm1d, rows: torch.Tensor, dOut_rows: torch.Tensor) -> None:
    layer.zero_grad(set_to_none=True)
    rows.grad = None
    layer(rows).backward(dOut_rows)


def layer(repeats: int) -> None:
    for m in (64, 1024):
        Z, dOut = torch.randn(32, m) * 3 + 1, torch.randn(32, m)  # (n, m)
        rows = Z.T.contiguous().requires_grad_()  # torch.nn's layout, (m, n)
        mine = per_call(lambda Z=Z, dOut=dOut: layer_by_hand(BATCH_NORMS["mine"], Z, dOut), repeats)
        theirs = per_call(lambda rows=rows, dOut=dOut: layer_with_torch(BATCH_NORMS["torch"], rows, dOut.T), repeats)
        print(f"batch-norm layer, 32 units, m = {m:>4}: by hand {mine * 1e6:7.1f} µs, "
              f"torch.nn.BatchNorm1d + autograd {theirs * 1e6:7.1f} µs (forward + backward)")


def train_step(network, X: torch.Tensor, Y: torch.Tensor) -> None:
    _, grads = network.cost_and_gradients(X, Y)
    network.update(grads, 0.01)


def steps(repeats: int) -> None:
    from lab.batch_norm_network import make_network
    from lab.data.digits import load_digits_multiclass

    data = load_digits_multiclass()
    X, Y = data.X_train[:, :64], data.Y_train[:, :64]
    for depth, implementation, batch_norm in itertools.product((2, 6, 20), ("by_hand", "torch_autograd"),
                                                               (False, True)):
        network = make_network(64, 10, batch_norm=batch_norm, depth=depth, implementation=implementation)
        seconds = per_call(lambda network=network: train_step(network, X, Y), repeats)
        print(f"training step, L = {depth:>2}, {implementation:<14} {'batch norm' if batch_norm else 'plain':<10}: "
              f"{seconds * 1e3:6.2f} ms")


def runs() -> None:
    from lab.batch_norm_network import BatchNormTraining, compare_statistics, make_network
    from lab.data.digits import load_digits_multiclass
    from lab.training import DivergedEvent, train

    data = load_digits_multiclass()
    for lr, batch_norm in itertools.product((0.5, 3.0), (False, True)):
        task = BatchNormTraining(make_network(64, 10, batch_norm=batch_norm, depth=6), data, lr=lr, batch_size=64,
                                 num_epochs=10)
        start = time.perf_counter()
        events = list(train(task, task.num_steps, eval_every=task.steps_per_epoch))
        seconds = time.perf_counter() - start
        diverged = next((e for e in events if isinstance(e, DivergedEvent)), None)
        result = (f"diverged at step {diverged.step}" if diverged else
                  f"dev accuracy {events[-1].metrics['dev_accuracy']:.1%}")
        print(f"run, L = 6, α = {lr:g}, {'batch norm' if batch_norm else 'plain':<10}: {task.steps_done} steps in "
              f"{seconds:5.2f} s, {result}")
        if batch_norm and lr == 0.5:
            for r in compare_statistics(task.network, data.X_dev, data.Y_dev, (1, 2, 8, 64), shuffles=5):
                own = statistics.mean(r.batch_accuracies)
                print(f"    test batches of {r.test_batch_size:>2}: running averages {r.running_accuracy:.1%}, "
                      f"the batch's own statistics {own:.1%} (lowest {min(r.batch_accuracies):.1%}); "
                      f"{r.changed:.0%} of the dev digits change their answer between deals")


def report(name: str, wall: list[float], sent: float) -> None:
    print(f"{name:<44} median {statistics.median(wall) * 1e3:7.2f} ms   p95 {percentile(wall, 0.95) * 1e3:7.2f} ms"
          f"   {sent / 1e3:6.1f} kB sent   ({len(wall)} changes)")


def measure(widget, values, repeats: int) -> tuple[list[float], float]:
    values = itertools.cycle(values)
    for _ in range(3):
        widget.value = next(values)
    wall = []
    SerializingComm.sent_bytes = 0
    for _ in range(repeats):
        value = next(values)
        start = time.perf_counter()
        widget.value = value
        wall.append(time.perf_counter() - start)
    return wall, SerializingComm.sent_bytes / repeats


def dashboards(repeats: int) -> None:
    from widgets.dashboards.batch_normalization import batch_norm_dashboard, what_gets_normalized_dashboard

    errata = what_gets_normalized_dashboard()
    report("what gets normalized: mini-batch size", *measure(errata.controls["batch_size"], [2, 64, 128, 256],
                                                             repeats))
    report("what gets normalized: unit j", *measure(errata.controls["watch_unit"], list(range(1, 33)), repeats))
    report("what gets normalized: seed", *measure(errata.controls["seed"], list(range(100)), repeats))
    dashboard = batch_norm_dashboard()
    for setting, value in [("train", None), ("batch_norm", False), ("lr", 3.0), ("batch_norm", True), ("depth", 20)]:
        start = time.perf_counter()
        if value is None:
            dashboard.controls[setting].click()
        else:
            dashboard.controls[setting].value = value
        label = dashboard.panel.run.label
        while not any(trace.x for trace in dashboard.figures["costs"].data if trace.meta == label):
            assert time.perf_counter() - start < 60, f"no point of {label!r} after a minute"
            time.sleep(0.001)
        first = time.perf_counter() - start
        assert dashboard.runner.wait(300)
        print(f"training dashboard, {setting}{'' if value is None else f'={value}'}: first point after "
              f"{first * 1e3:6.1f} ms, run of {label!r} ended after {time.perf_counter() - start:5.2f} s")
    dashboard.controls["batch_norm"].value = False  # a plain run too, so both histogram panels are drawn
    assert dashboard.runner.wait(300)
    report("training dashboard: hidden layer l", *measure(dashboard.controls["watch_layer"], list(range(1, 20)),
                                                          repeats))
    report("training dashboard: unit j", *measure(dashboard.controls["watch_unit"], list(range(1, 33)), repeats))
    report("training dashboard: batch-norm panel shows", *measure(dashboard.controls["bn_panel"],
                                                                  ["pre_norm", "relu_inputs"], repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    comm.create_comm = SerializingComm  # ipywidgets looks it up at each widget's creation
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    layer(args.repeats)
    steps(args.repeats)
    runs()
    dashboards(args.repeats)


if __name__ == "__main__":
    main()
