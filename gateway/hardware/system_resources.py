"""Host figures for the status route: CPU, memory, GPU memory, model caches on disk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from gateway.hardware.nvml import GpuMemoryReader
from protocol.api.lifecycle import SystemResources

log = logging.getLogger(__name__)

_MB = 1024 * 1024
_DISK_TTL_S = 30.0  # walking a large cache every second would be wasteful


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
    """Samples the host's figures on a timer (`interval_s`), so a status request only reads
    the latest ones: CPU (its use over the last interval), memory, GPU memory (NVML opened
    once), and the model caches' size on disk (walked at most every 30 s, off the loop)."""

    def __init__(
        self,
        cache_dirs: list[Path],
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = 1.0,
        gpu: GpuMemoryReader | None = None,
    ) -> None:
        self._cache_dirs = cache_dirs
        self._clock = clock
        self._interval_s = interval_s
        self._gpu = gpu or GpuMemoryReader()
        self._disk_mb = 0.0
        self._disk_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        psutil.cpu_percent(interval=None)  # primes the counter; the next call measures
        self.figures = self._figures(None)
        # Grows with every sample: what was built from the figures may be rebuilt.
        self.samples = 0

    async def sample(self) -> SystemResources:
        """Take a sample now (the timer does this every interval); returns its figures."""
        now = self._clock()
        if self._disk_at is None or now - self._disk_at > _DISK_TTL_S:
            self._disk_mb = await asyncio.to_thread(self._disk_usage_mb)
            self._disk_at = now
        gpu = None if self._gpu.absent else await asyncio.to_thread(self._gpu.used_mb)
        self.figures = self._figures(gpu)
        self.samples += 1
        return self.figures

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="system monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._gpu.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.sample()
            except Exception:  # a figure that cannot be read must not end the sampling
                log.exception("sampling the system figures failed")

    def _figures(self, gpu_mb: float | None) -> SystemResources:
        vm = psutil.virtual_memory()
        return SystemResources(
            cpu_usage_percent=psutil.cpu_percent(interval=None),
            memory_usage_mb=round((vm.total - vm.available) / _MB, 1),
            disk_cache_usage_mb=round(self._disk_mb, 1),
            gpu_memory_usage_mb=None if gpu_mb is None else round(gpu_mb, 1),
        )

    def _disk_usage_mb(self) -> float:
        return sum(directory_size_mb(d) for d in self._cache_dirs if d.is_dir())
