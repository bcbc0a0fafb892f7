"""Measured memory: process RSS and host memory from psutil, GPU memory from NVML.

A missing NVML library (no GPU, no driver) is an ordinary "no GPU" answer, never a crash.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading

import psutil

from protocol.wire.messages import MemoryInfo

log = logging.getLogger(__name__)
_MB = 1024 * 1024
_process = psutil.Process()


def process_rss_mb() -> float:
    return float(_process.memory_info().rss) / _MB


def release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS so RSS shows the release."""
    gc.collect()
    # Not glibc: RSS falls whenever the allocator decides.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# NVML is initialised once per process and kept: an init per reading costs milliseconds,
# and a load reads the GPU three times. None: not tried yet.
_nvml_usable: bool | None = None
_nvml_lock = threading.Lock()


def _nvml_ready() -> bool:
    global _nvml_usable
    with _nvml_lock:
        if _nvml_usable is None:
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_usable = True
            except Exception as exc:  # NVMLError_LibraryNotFound and friends: no GPU
                log.debug("NVML unavailable: %s", exc)
                _nvml_usable = False
        return _nvml_usable


def _cuda_memory(index: int) -> tuple[float, float, float] | None:
    """(total, free, used) MiB of one GPU, or None when NVML is not usable here."""
    if not _nvml_ready():
        return None
    try:
        import pynvml

        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        info = pynvml.nvmlDeviceGetMemoryInfo(handle)
        return info.total / _MB, info.free / _MB, info.used / _MB
    except Exception as exc:  # no such device, or the driver went away
        log.debug("NVML reading failed: %s", exc)
        return None


def memory_info(device: str) -> MemoryInfo:
    rss = process_rss_mb()
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        gpu = _cuda_memory(index)
        if gpu is not None:
            total, free, used = gpu
            return MemoryInfo(
                total_mb=total, available_mb=free, process_rss_mb=rss, device_used_mb=used
            )
    vm = psutil.virtual_memory()
    return MemoryInfo(
        total_mb=vm.total / _MB,
        available_mb=vm.available / _MB,
        process_rss_mb=rss,
        device_used_mb=(vm.total - vm.available) / _MB,
    )


def device_used_mb(device: str) -> float:
    """Memory the worker holds on its device: RSS on CPU, NVML process usage on a GPU."""
    if device.startswith("cuda"):
        gpu = _cuda_memory(int(device.partition(":")[2] or 0))
        if gpu is not None:
            return gpu[2]
    return process_rss_mb()
