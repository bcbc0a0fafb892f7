"""Which devices get a worker: the CPU always, plus each GPU that NVML reports.

The gateway never imports ctranslate2; NVML (nvidia-ml-py) is enough to count GPUs,
and a machine without the NVIDIA library simply has none.
"""

from __future__ import annotations

import logging

from gateway.hardware.nvml import gpu_memory

log = logging.getLogger(__name__)


def cuda_device_count() -> int:
    count = len(gpu_memory())
    if not count:
        log.info("no NVIDIA GPU found")
    return count


def detect_devices() -> tuple[str, ...]:
    return ("cpu", *(f"cuda:{i}" for i in range(cuda_device_count())))


def worker_id_for(device: str) -> str:
    return device.replace(":", "-")
