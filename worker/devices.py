"""What a device can run, as CTranslate2 reports it, and the CPU cores the worker has."""

from __future__ import annotations

import math
import os
from pathlib import Path


def supported_compute_types(device: str) -> list[str]:
    import ctranslate2

    kind, _, index = device.partition(":")
    try:
        types = ctranslate2.get_supported_compute_types(kind, int(index or 0))
    except (RuntimeError, ValueError):  # no such device (no CUDA here)
        return []
    return sorted(str(t) for t in types)


def usable_cores() -> int:
    """CPU cores this process may run on: its affinity, bounded by a cgroup CPU quota
    (a container's `cpu.max`) when one is set."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    try:
        return max(1, min(cores, math.ceil(int(quota) / int(period))))
    except (ValueError, ZeroDivisionError):
        return cores
