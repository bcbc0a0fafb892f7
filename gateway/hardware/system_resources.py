"""Host figures for the status route: CPU, memory, GPU memory, model caches on disk."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from gateway.hardware.nvml import gpu_memory
from protocol.api.lifecycle import SystemResources

_MB = 1024 * 1024
_DISK_TTL_S = 30.0  # walking a large cache on every status call would be wasteful


def gpu_memory_used_mb() -> float | None:
    """Memory used on all GPUs together; None without a GPU."""
    gpus = gpu_memory()
    return sum(g.used_mb for g in gpus) if gpus else None


def directory_size_mb(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                # Hub caches link snapshots to blobs: count each file once, not its links.
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    total += os.stat(full).st_size
            except OSError:
                continue
    return total / _MB


class SystemMonitor:
    def __init__(self, cache_dirs: list[Path], clock: Callable[[], float] = time.monotonic) -> None:
        self._cache_dirs = cache_dirs
        self._clock = clock
        self._disk_mb = 0.0
        self._disk_at: float | None = None
        psutil.cpu_percent(interval=None)  # primes the counter; the next call measures

    async def snapshot(self) -> SystemResources:
        now = self._clock()
        if self._disk_at is None or now - self._disk_at > _DISK_TTL_S:
            self._disk_mb = await asyncio.to_thread(self._disk_usage_mb)
            self._disk_at = now
        vm = psutil.virtual_memory()
        gpu = await asyncio.to_thread(gpu_memory_used_mb)
        return SystemResources(
            cpu_usage_percent=psutil.cpu_percent(interval=None),
            memory_usage_mb=round((vm.total - vm.available) / _MB, 1),
            disk_cache_usage_mb=round(self._disk_mb, 1),
            gpu_memory_usage_mb=None if gpu is None else round(gpu, 1),
        )

    def _disk_usage_mb(self) -> float:
        return sum(directory_size_mb(d) for d in self._cache_dirs if d.is_dir())
