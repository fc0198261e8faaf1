"""What the benchmark scripts share: timing a control's changes in the kernel, percentiles, and a comm that counts
what a kernel would send."""

from __future__ import annotations

import itertools
import math
import statistics
import time

from comm.base_comm import BaseComm
from jupyter_client.session import json_packer


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0…1) of `values`, nearest rank: p95 of 20 values is the 19th smallest; NaN if empty."""
    if not 0 <= q <= 1:
        raise ValueError(f"The 'q' parameter must be in [0, 1]. Got {q!r} instead.")
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def time_changes(widget, values, repeats: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `repeats` changes of `widget` to the next of `values` (cycled), after `warmup`
    untimed ones: the time the kernel spends in the widget's callbacks."""
    values = itertools.cycle(values)
    for _ in range(warmup):
        widget.value = next(values)
    wall, cpu = [], []
    for _ in range(repeats):
        value = next(values)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        widget.value = value
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def report(name: str, wall: list[float], cpu: list[float], width: int = 44) -> None:
    print(f"{name:<{width}} median {statistics.median(wall) * 1e3:7.2f} ms   p95 {percentile(wall, 0.95) * 1e3:7.2f} ms"
          f"   CPU median {statistics.median(cpu) * 1e3:7.2f} ms   ({len(wall)} changes)")


class SerializingComm(BaseComm):
    """A comm that encodes every message as the kernel's session would (JSON), counts the bytes, then drops them:
    set `comm.create_comm = SerializingComm` before building widgets to time what a real kernel would send."""

    sent_bytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        content = {"data": {} if data is None else data, "comm_id": self.comm_id, **keys}
        SerializingComm.sent_bytes += len(json_packer(content)) + sum(len(memoryview(b)) for b in buffers or [])
