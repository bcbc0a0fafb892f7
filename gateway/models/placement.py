"""Where a load goes and whether it fits: the placement decision, from plain inputs.

Three questions, each answered from what is known when it is asked:
1. `choose_worker`: which worker serves the device (`auto`: a GPU with room when the catalog
   recommends one, else the CPU; among several, the ready one holding the fewest models), or
   which workers to wait for when none is ready yet.
2. `cache_full`: which idle models to unload first so one more fits under the cache's limit.
3. `admit`, with the worker's memory measured after those unloads: will the model fit there,
   counting what unloading idle models on that worker would free? If not, the load is refused
   before a single weight is read, with the numbers and the models that would fit.

Nothing here waits, sends or unloads: the ModelManager carries the decisions out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.catalog import Catalog, CatalogEntry
from gateway.models.cache_policy import (
    CachedModel,
    CachePolicy,
    Eviction,
    evictions_for_one_more,
    make_room,
)
from gateway.models.memory_estimate import MemoryEstimator
from gateway.workers.pool import WorkerState
from protocol.api.catalog import ASRModelInfo
from protocol.errors import ErrorCode, ServiceError


@dataclass(frozen=True)
class WorkerWait:
    """Workers serve the device but none takes work now: wait for one of them."""

    device: str
    workers: tuple[WorkerState, ...]

    def ready_worker(self, waited_s: float) -> WorkerState:
        """After the wait: the ready one holding the fewest models, or WORKER_UNAVAILABLE."""
        found = _fewest_models(self.workers)
        if found is not None:
            return found
        raise ServiceError(
            ErrorCode.WORKER_UNAVAILABLE,
            f"No worker for device {self.device!r} became ready in {waited_s:.0f} s.",
            {"device": self.device, "workers": [w.worker_id for w in self.workers]},
        )


@dataclass(frozen=True)
class Admission:
    """The load fits: what it needs, and the idle models to unload first to make room."""

    required_mb: float
    evictions: list[Eviction]


class Placement:
    def __init__(
        self,
        catalog: Catalog,
        estimator: MemoryEstimator,
        policy: CachePolicy,
        memory_limit_mb: int | None,
    ) -> None:
        self._catalog = catalog
        self._estimator = estimator
        self._policy = policy
        self._limit_mb = memory_limit_mb

    def choose_worker(
        self, entry: CatalogEntry, device: str, workers: Sequence[WorkerState], now: float
    ) -> WorkerState | WorkerWait:
        """The worker for `device` (cpu, cuda, cuda:N, auto) among `workers`, in pool order.

        `now` dates the worker summaries an "every worker failed" refusal carries."""
        if device == "auto":
            info = entry.info
            wants_gpu = (
                not isinstance(info, ASRModelInfo) or info.hardware_requirements.gpu_recommended
            )
            for worker in workers:
                if wants_gpu and worker.device.startswith("cuda") and worker.ready.is_set():
                    need = self._estimator.estimate_mb(entry, "float16", worker.device)
                    free = available_mb(worker, self._limit_mb)
                    if free is not None and free >= need:
                        return worker
            device = "cpu"
        serving = _serving(device, workers)
        if not serving:
            raise ServiceError(
                ErrorCode.UNSUPPORTED_DEVICE,
                f"No worker serves device {device!r} on this service.",
                {"device": device, "devices": sorted({w.device for w in workers})},
            )
        found = _fewest_models(serving)
        if found is not None:
            return found
        if all(w.state == "failed" for w in serving):
            raise ServiceError(
                ErrorCode.WORKER_UNAVAILABLE,
                f"Every worker for device {device!r} failed; an operator must restart one.",
                {"device": device, "workers": [w.summary(now, 0) for w in serving]},
            )
        return WorkerWait(device, tuple(serving))

    def cache_full(self, cached: list[CachedModel]) -> list[Eviction]:
        """Idle models to unload so that one more model stays within the cache's limit."""
        return evictions_for_one_more(cached, self._policy)

    def admit(
        self,
        entry: CatalogEntry,
        worker: WorkerState,
        compute_type: str,
        cached: list[CachedModel],
    ) -> Admission:
        """Fit the model on `worker` (memory as measured now), making room by the cache
        policy, or refuse with INSUFFICIENT_MEMORY. Unknown memory admits."""
        required = self._estimator.estimate_mb(entry, compute_type, worker.device)
        free = available_mb(worker, self._limit_mb)
        if free is None or required <= free:
            return Admission(required, [])
        victims = make_room(cached, worker.worker_id, required - free, self._policy.eviction_policy)
        if victims is None:
            raise ServiceError(
                ErrorCode.INSUFFICIENT_MEMORY,
                f"{entry.model_id} needs about {required:.0f} MB on {worker.device}; "
                f"{free:.0f} MB is available there and idle models cannot free enough.",
                {
                    "model_id": entry.model_id,
                    "device": worker.device,
                    "compute_type": compute_type,
                    "required_mb": round(required, 1),
                    "available_mb": round(free, 1),
                    "limit_mb": self._limit_mb,
                    "suggested_alternatives": self.smaller_models(entry, free),
                },
            )
        return Admission(required, victims)

    def smaller_models(self, entry: CatalogEntry, free_mb: float) -> list[str]:
        """Up to three models of the same kind that fit in `free_mb` as int8, best first."""
        same_kind = (
            self._catalog.asr_entries() if entry.kind == "asr" else self._catalog.mt_entries()
        )
        fitting = [e for e in same_kind if self._estimator.estimate_mb(e, "int8", "cpu") <= free_mb]
        fitting.sort(key=lambda e: -e.info.quality_score)
        return [e.model_id for e in fitting[:3]]


def check_compute_type(worker: WorkerState, compute_type: str) -> None:
    """UNSUPPORTED_DEVICE unless the worker can run `compute_type` ("default" always runs)."""
    if compute_type != "default" and compute_type not in worker.compute_types:
        raise ServiceError(
            ErrorCode.UNSUPPORTED_DEVICE,
            f"Device {worker.device} cannot run compute type {compute_type}.",
            {
                "device": worker.device,
                "compute_type": compute_type,
                "supported": worker.compute_types,
            },
        )


def available_mb(worker: WorkerState, limit_mb: int | None) -> float | None:
    """What the worker can still take: free device memory, capped by its own limit."""
    if worker.memory is None:
        return None
    free = worker.memory.available_mb
    if limit_mb is not None:
        # On a GPU the limit caps device memory used; on CPU the process's RSS.
        used = (
            worker.memory.device_used_mb if worker.device != "cpu" else worker.memory.process_rss_mb
        )
        free = min(free, limit_mb - used)
    return max(free, 0.0)


def serves_device(device: str, worker_device: str) -> bool:
    """Whether a worker on `worker_device` serves a request for `device` (not `auto`)."""
    return worker_device.startswith("cuda") if device == "cuda" else worker_device == device


def _serving(device: str, workers: Sequence[WorkerState]) -> list[WorkerState]:
    return [w for w in workers if serves_device(device, w.device)]


def _fewest_models(workers: Sequence[WorkerState]) -> WorkerState | None:
    # The ready worker holding the fewest models, so that models spread across workers.
    ready = [w for w in workers if w.ready.is_set()]
    return min(ready, key=lambda w: len(w.models)) if ready else None
