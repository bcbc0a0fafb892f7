"""What this machine offers a model: usable CPU cores, RAM, and the memory of each GPU.

Container limits count: a process pinned to 2 CPUs, or a cgroup capped at 4 GB, gets those
figures rather than the host's.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import msgspec
import psutil

from gateway.hardware.nvml import gpu_memory

_MB = 1024 * 1024
_CGROUP = Path("/sys/fs/cgroup")


class MachineResources(msgspec.Struct, kw_only=True, frozen=True):
    cpu_cores: int  # CPUs this process may use
    ram_mb: float  # total RAM this process may use
    gpu_memory_mb: list[float] = []  # total memory of each GPU, by CUDA index


def measure_resources(cgroup_dir: Path = _CGROUP) -> MachineResources:
    cores = _usable_cpus()
    quota = _cgroup_cpu_quota(cgroup_dir)
    ram = psutil.virtual_memory().total / _MB
    limit = _cgroup_memory_limit_mb(cgroup_dir)
    return MachineResources(
        cpu_cores=min(cores, quota) if quota else cores,
        ram_mb=round(min(ram, limit) if limit else ram, 1),
        gpu_memory_mb=gpu_total_memory_mb(),
    )


def gpu_total_memory_mb() -> list[float]:
    """Total memory of each NVIDIA GPU; [] when NVML (or its library) is absent."""
    return [round(g.total_mb, 1) for g in gpu_memory()]


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return psutil.cpu_count() or 1


def _cgroup_cpu_quota(cgroup_dir: Path) -> int | None:
    """CPUs a cgroup v2 `cpu.max` ("200000 100000" = 2 CPUs) allows; None without a quota."""
    try:
        quota, period = (cgroup_dir / "cpu.max").read_text().split()[:2]
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # "max", a missing file, or cgroup v1
        return None


def _cgroup_memory_limit_mb(cgroup_dir: Path) -> float | None:
    try:
        return int((cgroup_dir / "memory.max").read_text().strip()) / _MB
    except (OSError, ValueError):  # "max" (no limit), a missing file, or cgroup v1
        return None
