"""Benchmarks for lab 14 (not collected by pytest): run `python tests/benchmarks/bench_detection.py [--train]`.

Prints: NMS and per-class NMS on 1,000 random boxes (target ≤ 5 ms), the Python time of one move of the
score-threshold, IoU-threshold and IoU-explorer sliders, and with --train the wall and CPU time of training
the default detector and its quality on the held-out scenes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from lab.detection import batched_nms, nms  # noqa: E402
from lab.device import configure_threads, describe_device, select_device  # noqa: E402


def summary(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (f"median {statistics.median(times) * 1e3:7.2f} ms   min {times[0] * 1e3:7.2f} ms   "
            f"p95 {p95 * 1e3:7.2f} ms   ({len(times)} runs)")


def timings(function, repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        function()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        out.append(time.perf_counter() - start)
    return out


def random_boxes(n: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * 600
    wh = torch.rand(n, 2, generator=gen) * 120 + 4
    return torch.cat([xy, xy + wh], dim=1), torch.rand(n, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def bench_nms(repeats: int) -> None:
    boxes, scores, classes = random_boxes(1000)
    print(f"nms, 1,000 boxes, IoU 0.5:          {summary(timings(lambda: nms(boxes, scores, 0.5), repeats))}")
    per_class = timings(lambda: batched_nms(boxes, scores, classes, 0.5), repeats)
    print(f"batched_nms, 1,000 boxes, 10 classes: {summary(per_class)}")


def bench_sliders(repeats: int) -> None:
    from lab.yolo import DetectorConfig
    from widgets.dashboards.object_detection_yolo import detector_dashboard, iou_dashboard

    iou = iou_dashboard()
    values = iter([20.0 + (i % 40) for i in range(10_000)])
    moves = timings(lambda: setattr(iou.controls["b_x"], "value", next(values)), repeats)
    print(f"IoU explorer, one slider move:       {summary(moves)}")

    dashboard = detector_dashboard(DetectorConfig(batch_size=8, width=4, num_test=20), num_steps=50)
    dashboard.controls["train"].click()
    assert dashboard.runner.wait(600), "training did not finish"
    for name, values in (("score_threshold", [0.05 + 0.9 * (i % 19) / 18 for i in range(10_000)]),
                         ("iou_threshold", [0.1 + 0.8 * (i % 17) / 16 for i in range(10_000)])):
        it = iter(values)
        control = dashboard.controls[name]
        moves = timings(lambda control=control, it=it: setattr(control, "value", round(next(it), 2)), repeats)
        print(f"detector, one {name} move: {summary(moves)}")


def bench_training(steps: int) -> None:
    from lab.data.scenes import test_scenes
    from lab.training import DoneEvent, train
    from lab.yolo import DetectorConfig, DetectorTraining

    device = select_device()
    test_scenes()
    task = DetectorTraining(DetectorConfig(), device)
    cpu = time.process_time()
    done = [e for e in train(task, steps, blowup_ratio=None) if isinstance(e, DoneEvent)][0]
    cpu = time.process_time() - cpu
    m = done.metrics
    print(f"training {steps} steps × 32 scenes on {describe_device(device)}: wall {done.seconds:.1f} s, "
          f"process CPU {cpu:.1f} s (load average now {os.getloadavg()[0]:.1f})")
    print(f"  held-out: mAP@0.5 {m['test_mAP_at_IoU_0.5']:.3f}, recall {m['test_recall']:.3f}, "
          f"precision {m['test_precision']:.3f} (score ≥ 0.5, NMS IoU 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--train", action="store_true", help="also time training the default detector")
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.1f}")
    bench_nms(args.repeats)
    bench_sliders(args.repeats)
    if args.train:
        bench_training(args.steps)


if __name__ == "__main__":
    main()
