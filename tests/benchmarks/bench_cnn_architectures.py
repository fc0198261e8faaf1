"""Benchmark for lab 13 (not collected by pytest): `python tests/benchmarks/bench_cnn_architectures.py [--repeats 30]`.

Prints
- LeNet-5 on the digits with the dashboard's starting settings (tanh, average pooling, Adam α = 0.003, batch 32,
  15 epochs), bare (no dashboard), for a few seeds: the epoch and the seconds at which dev accuracy first reached
  97%, the final dev accuracy and the whole run. Target: 97% within 30 s on 2 cores;
- plain vs residual at the default depth (L = 30, 32 units, α = 0.001, 20 epochs), both trained side by side as
  the dashboard does: the seconds for the comparison, and each network's final training cost and dev accuracy.
  Target: ≤ 60 s on 2 cores;
- for every control of the views that do not train (the 1 × 1 sliders, the network menu, the depth's instant
  gradient view, the dev-digit slider), the kernel time one change takes, the widget messages encoded as a kernel
  would: median and p95. Target: p95 well under 100 ms;
- for both training dashboards, the time from a control change to the first point on the cost plot (target
  ≤ 250 ms) and the whole run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import comm  # noqa: E402
import torch  # noqa: E402
from control_timing import SerializingComm, report, time_changes  # noqa: E402

from lab.device import configure_threads  # noqa: E402
from lab.training import DoneEvent, side_by_side, train  # noqa: E402


def lenet_to_97(seeds: tuple[int, ...]) -> None:
    from lab.lenet import LeNetTraining, digit_images

    images = digit_images()
    for seed in seeds:
        start = time.perf_counter()
        task = LeNetTraining(images, seed=seed)
        for _ in train(task, 15 * task.steps_per_epoch, eval_every=task.steps_per_epoch):
            pass
        hit = task.reached(0.97)
        when = f"epoch {hit[0]:.0f} after {hit[1]:5.1f} s" if hit else "never"
        print(f"LeNet-5, seed {seed}: dev accuracy ≥ 97% first at {when}; after 15 epochs "
              f"{task.evaluations[-1][1]['dev_accuracy']:.1%} ({time.perf_counter() - start:.1f} s in all)")


def plain_vs_residual(num_layers: int = 30, epochs: int = 20) -> None:
    from lab.data.digits import load_digits_multiclass
    from lab.residual import DeepMLPTraining, make_pair

    data = load_digits_multiclass()
    start = time.perf_counter()
    tasks = {kind: DeepMLPTraining(model, data, lr=0.001) for kind, model in make_pair(num_layers, 32).items()}
    steps = epochs * tasks["plain"].steps_per_epoch
    ends = {}
    for kind, event in side_by_side({k: train(t, steps, eval_every=tasks["plain"].steps_per_epoch)
                                     for k, t in tasks.items()}):
        if isinstance(event, DoneEvent):
            ends[kind] = event.metrics
    seconds = time.perf_counter() - start
    results = "; ".join(f"{kind} training cost {m['train_cost']:.3f}, dev accuracy {m['dev_accuracy']:.1%}"
                        for kind, m in ends.items())
    print(f"plain vs residual, L = {num_layers}, {epochs} epochs: {seconds:.1f} s for both; {results}")


def instant_views(repeats: int) -> None:
    from widgets.dashboards.cnn_architectures import (
        bottleneck_dashboard,
        layer_table_dashboard,
        lenet_dashboard,
        residual_dashboard,
    )

    sliders = bottleneck_dashboard()
    for name, values in [("feature_map_size", [14, 28, 56, 112]), ("input_channels", [64, 192, 480, 1024]),
                         ("output_channels", [16, 32, 64, 128]), ("bottleneck_channels", [8, 16, 32, 64]),
                         ("filter_size", [1, 3, 5, 7])]:
        report(f"1×1: {name}", *time_changes(sliders.controls[name], values, repeats))
    table = layer_table_dashboard()
    report("layer table: network", *time_changes(table.controls["architecture"],
                                                 ["lenet5", "alexnet", "vgg16", "resnet50", "inception"], repeats))
    lenet = lenet_dashboard()
    report("LeNet-5: dev digit # (untrained network)", *time_changes(lenet.controls["example_index"],
                                                                      list(range(0, 350, 13)), repeats))
    residual = residual_dashboard()
    residual.controls["num_epochs"].value = 1
    residual.runner.wait(120)
    wall, cpu = [], []
    for layers in [10, 30, 50, 20, 40] * max(1, repeats // 5):  # each change also starts a run: stop it, untimed
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        residual.controls["num_layers"].value = layers
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
        residual.runner.stop()
        residual.runner.wait(120)
    report("residual: layers L (instant gradient view)", wall, cpu)


def first_points() -> None:
    from widgets.dashboards.cnn_architectures import lenet_dashboard, residual_dashboard

    for name, build, changes in [("LeNet-5", lenet_dashboard, [("train", None), ("activation", "relu"),
                                                               ("batch_size", 256)]),
                                 ("plain vs residual", residual_dashboard, [("train", None), ("num_layers", 50)])]:
        dashboard = build()
        for setting, value in changes:
            start = time.perf_counter()
            if value is None:
                dashboard.controls[setting].click()
            else:
                dashboard.controls[setting].value = value
            run = dashboard.panel.run
            while not any(trace.x for trace in dashboard.figures["costs"].data if trace.meta in (run.histories or {})):
                assert time.perf_counter() - start < 60, "no point after a minute"
                time.sleep(0.001)
            first = time.perf_counter() - start
            assert dashboard.runner.wait(600)
            print(f"{name} dashboard, {setting}{'' if value is None else f'={value}'}: first point after "
                  f"{first * 1e3:6.1f} ms, run {run.label!r} ended after {time.perf_counter() - start:5.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3, help="LeNet-5 runs, one per seed from 0")
    args = parser.parse_args()
    comm.create_comm = SerializingComm  # ipywidgets looks it up at each widget's creation
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    lenet_to_97(tuple(range(args.seeds)))
    plain_vs_residual()
    instant_views(args.repeats)
    first_points()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
