"""Readiness (`GET /readyz`): can this gateway serve its default ASR model right now?

Ready when a worker in state `ready` or `busy` serves the device the default model would be
placed on (`LX_DEVICE`; `auto` as placement.py decides it: a GPU when the catalog recommends
one for the model, else the CPU). Starting, draining, restarting, hung, failed or lost
workers do not count, nor does a worker on another device. Liveness (`/healthz`) is another
question: the gateway answers it whenever its process runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.models.placement import serves_device
from protocol.api.lifecycle import WorkerSummary

SERVING_STATES = frozenset({"ready", "busy"})


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str  # why not, in a sentence; "" when ready
    devices: tuple[str, ...]  # the devices that may serve the default model


def candidate_devices(device: str, gpu_recommended: bool) -> tuple[str, ...]:
    if device == "auto":
        return ("cuda", "cpu") if gpu_recommended else ("cpu",)
    return (device,)


def readiness(
    model_id: str, device: str, gpu_recommended: bool, workers: Sequence[WorkerSummary]
) -> Readiness:
    devices = candidate_devices(device, gpu_recommended)
    if not workers:
        return Readiness(False, "No worker has connected to this gateway.", devices)
    serving = [w for w in workers if any(serves_device(d, w.device) for d in devices)]
    if not serving:
        found = ", ".join(sorted({w.device for w in workers}))
        return Readiness(
            False,
            f"No worker serves {' or '.join(devices)}, where {model_id} runs "
            f"(LX_DEVICE={device}); the workers are on {found}.",
            devices,
        )
    if not any(w.state in SERVING_STATES for w in serving):
        states = ", ".join(f"{w.worker_id} {w.state}" for w in serving)
        return Readiness(False, f"No worker for {model_id} is ready ({states}).", devices)
    return Readiness(True, "", devices)
