"""GPU memory as NVML (nvidia-ml-py) reports it: the gateway's one reader of NVML.

A machine without the NVIDIA library or driver simply has no GPU: an empty list, never
a crash.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

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


class GpuMemoryReader:
    """NVML opened once and kept open, for figures sampled again and again (the status
    route's): a machine where it cannot open is remembered as having no GPU, so the NVIDIA
    library is never looked for twice."""

    def __init__(self) -> None:
        self._handles: list[Any] | None = None  # None: not opened (yet, or ever)
        self._absent = False
        self._failing = False

    @property
    def absent(self) -> bool:
        return self._absent

    def used_mb(self) -> float | None:
        """Memory used on all GPUs together; None without a (usable) GPU."""
        if self._absent:
            return None
        if self._handles is None and not self._open():
            return None
        assert self._handles is not None
        try:
            import pynvml

            used = float(sum(pynvml.nvmlDeviceGetMemoryInfo(h).used for h in self._handles))
        except Exception as exc:  # a driver error: no figure this time
            if not self._failing:
                log.warning("NVML could not report GPU memory: %s", exc)
            self._failing = True
            return None
        self._failing = False
        return used / _MB

    def close(self) -> None:
        if self._handles is not None:
            self._handles = None
            with contextlib.suppress(Exception):
                import pynvml

                pynvml.nvmlShutdown()

    def _open(self) -> bool:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception as exc:  # NVMLError_LibraryNotFound and friends: no GPU here
            log.debug("no NVIDIA GPU (%s); not asking again", type(exc).__name__)
            self._absent = True
            return False
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as exc:
            log.warning("NVML could not list the GPUs: %s", exc)
            with contextlib.suppress(Exception):
                pynvml.nvmlShutdown()
            self._absent = True
            return False
        if not self._handles:
            self.close()
            self._absent = True
            return False
        return True
