"""Where the lab computes: CUDA when present, else Apple MPS, else the CPU.

`LAB_DEVICE=cpu|cuda|mps` overrides the choice. On the CPU, torch's thread pool is sized to the
container's real CPU quota (cgroup `cpu.max`), not to the host's core count, so a 2-core container
does not run 64 threads that fight each other.
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


def configure_threads() -> int:
    """Size torch's CPU thread pool to the usable CPUs; returns the thread count."""
    threads = usable_cpus()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def describe_device(device: torch.device) -> str:
    """One line for dashboards, e.g. 'CPU, 2 threads' or 'NVIDIA H100 80GB HBM3'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    threads = torch.get_num_threads()
    return f"CPU, {threads} thread{'s' if threads != 1 else ''}"
