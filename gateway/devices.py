"""Which devices get a worker: the CPU always, plus each GPU that NVML reports.

The gateway never imports ctranslate2; NVML (nvidia-ml-py) is enough to count GPUs,
and a machine without the NVIDIA library simply has none.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def cuda_device_count() -> int:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception as exc:  # NVMLError_LibraryNotFound on machines without a GPU
        log.info("no NVIDIA GPU found (%s)", type(exc).__name__)
        return 0


def detect_devices() -> tuple[str, ...]:
    return ("cpu", *(f"cuda:{i}" for i in range(cuda_device_count())))


def worker_id_for(device: str) -> str:
    return device.replace(":", "-")
