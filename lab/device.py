"""Where the lab computes: CUDA when present, else Apple MPS, else the CPU.

`LAB_DEVICE=cpu|cuda|mps` overrides the choice. On the CPU, torch's thread pool is sized from the
container's real CPU quota (cgroup `cpu.max`), not from the host's core count, so a 2-core container
does not run 64 threads that fight each other; `LAB_THREADS` overrides it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

DEVICE_KINDS = ("cpu", "cuda", "mps")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return kind == "cpu"


def select_device(name: str | None = None) -> torch.device:
    """Return the device to compute on.

    `name` (or else the `LAB_DEVICE` environment variable) forces a kind; without either, the
    fastest available kind wins. Asking for a kind that is not present raises ValueError.
    """
    requested = name if name is not None else os.environ.get("LAB_DEVICE", "").strip().lower() or None
    if requested is None:
        for kind in ("cuda", "mps"):
            if _available(kind):
                return torch.device(kind)
        return torch.device("cpu")
    if requested not in DEVICE_KINDS:
        raise ValueError(f"The 'device' parameter (LAB_DEVICE) must be one of {list(DEVICE_KINDS)}. "
                         f"Got {requested!r} instead.")
    if not _available(requested):
        raise ValueError(f"The 'device' parameter (LAB_DEVICE) asks for {requested!r}, "
                         "but this machine has no such device.")
    return torch.device(requested)


def cpu_quota(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Whole CPUs granted by the cgroup quota (v2 `cpu.max` or v1 `cfs_quota_us`), or None if unlimited."""
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            return max(1, math.floor(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = int((cgroup_root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((cgroup_root / "cpu" / "cpu.cfs_period_us").read_text())
        return max(1, math.floor(quota / period)) if quota > 0 else None
    except (OSError, ValueError):
        return None


def usable_cpus() -> int:
    """CPUs this process may really use: the affinity mask, capped by the cgroup quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        count = os.cpu_count() or 1
    quota = cpu_quota()
    return min(count, quota) if quota else count


def default_threads() -> int:
    """Threads for torch: `LAB_THREADS` if set, else one less than the usable CPUs (at least one).

    A dashboard's kernel shares the machine with its own I/O thread, the Jupyter server and the
    browser. Torch's threads wait for each other at every operation, so one that is pre-empted stalls
    the rest: on 2 busy cores a small conv-net step measured 165 ms with 2 threads and 59 ms with 1.
    """
    override = os.environ.get("LAB_THREADS", "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"The 'threads' parameter (LAB_THREADS) must be a whole number ≥ 1. Got {override!r}.")
        return int(override)
    return max(1, usable_cpus() - 1)


def configure_threads() -> int:
    """Size torch's CPU thread pool (see `default_threads`); returns the thread count."""
    threads = default_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def warm_up() -> int:
    """Size the thread pool, then one small forward and backward pass: torch sets up its thread pool and autograd
    engine on first use, so a process that does this early (a spare kernel) answers its first real step sooner.
    Returns the thread count."""
    threads = configure_threads()
    w = torch.ones(4, 4, requires_grad=True)
    (w @ w).sum().backward()
    return threads


def describe_device(device: torch.device) -> str:
    """One line for dashboards, e.g. 'CPU, 2 threads' or 'NVIDIA H100 80GB HBM3'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    threads = torch.get_num_threads()
    return f"CPU, {threads} thread{'s' if threads != 1 else ''}"
