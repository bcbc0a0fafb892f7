"""GPU memory as NVML (nvidia-ml-py) reports it: the gateway's one reader of NVML.

A machine without the NVIDIA library or driver simply has no GPU: an empty list, never
a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

_MB = 1024 * 1024


@dataclass(frozen=True)
class GpuMemory:
    total_mb: float
    used_mb: float


def gpu_memory() -> list[GpuMemory]:
    """Each NVIDIA GPU's memory, in NVML's order (which is CUDA's device index)."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound and friends: no GPU here
        log.debug("no NVIDIA GPU (%s)", type(exc).__name__)
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            info = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index))
            found.append(GpuMemory(total_mb=info.total / _MB, used_mb=info.used / _MB))
        return found
    except Exception as exc:  # a driver error is still "no usable GPU"
        log.warning("NVML could not report GPU memory: %s", exc)
        return []
    finally:
        pynvml.nvmlShutdown()
