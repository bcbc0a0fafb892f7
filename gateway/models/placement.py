"""Where a load goes and whether it fits: placement across workers and memory admission.

Admission happens before any weights are read: the model's estimated memory against what
its worker has free (measured now) and the worker's limit, after making room by the cache
policy. A model that still does not fit is refused with the numbers and what would fit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.catalog import Catalog, CatalogEntry
from gateway.models.admission import MemoryEstimator, available_mb
from gateway.models.cache_policy import (
    CachedModel,
    CachePolicy,
    Eviction,
    eviction_order,
    make_room,
)
from gateway.settings import Settings
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerPool, WorkerState
from protocol.api.catalog import ASRModelInfo
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import StatusReply, StatusRequest


class Placement:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        pool: WorkerPool,
        link: WorkerLink,
        estimator: MemoryEstimator,
        policy: CachePolicy,
        cached_models: Callable[[], list[CachedModel]],
        evict: Callable[[Eviction], Awaitable[None]],
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._pool = pool
        self._link = link
        self._estimator = estimator
        self._policy = policy
        self._cached_models = cached_models
        self._evict = evict

    async def place(self, entry: CatalogEntry, device: str) -> WorkerState:
        """`auto` puts a model on a GPU that has room when the catalog recommends one."""
        if device == "auto":
            info = entry.info
            wants_gpu = (
                not isinstance(info, ASRModelInfo) or info.hardware_requirements.gpu_recommended
            )
            for worker in self._pool.workers():
                if wants_gpu and worker.device.startswith("cuda") and worker.ready.is_set():
                    need = self._estimator.estimate_mb(entry, "float16", worker.device)
                    free = available_mb(worker, self._settings.worker_memory_limit_mb)
                    if free is not None and free >= need:
                        return worker
            device = "cpu"
        return await self._pool.worker_for(device)

    async def admit(self, entry: CatalogEntry, worker: WorkerState, compute_type: str) -> float:
        """Make room by the cache policy, or refuse before a single weight is read."""
        required = self._estimator.estimate_mb(entry, compute_type, worker.device)
        cached = self._cached_models()
        surplus = len(cached) + 1 - self._policy.max_models_loaded
        if surplus > 0:
            for victim in eviction_order(cached, self._policy.eviction_policy)[:surplus]:
                await self._evict(Eviction(victim.model_id, "cache_full"))
        await self._refresh_memory(worker)
        free = available_mb(worker, self._settings.worker_memory_limit_mb)
        if free is None or required <= free:
            return required
        victims = make_room(
            self._cached_models(), worker.worker_id, required - free, self._policy.eviction_policy
        )
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
                    "limit_mb": self._settings.worker_memory_limit_mb,
                    "suggested_alternatives": self.smaller_models(entry, free),
                },
            )
        for eviction in victims:
            await self._evict(eviction)
        return required

    async def _refresh_memory(self, worker: WorkerState) -> None:
        """Measure the worker's memory now: the last heartbeat may predate a load."""
        request_id = self._link.new_request_id()
        reply = await self._link.request(
            worker.worker_id, StatusRequest(request_id=request_id), request_id=request_id
        )
        if isinstance(reply, StatusReply):
            worker.memory = reply.memory

    def smaller_models(self, entry: CatalogEntry, free_mb: float) -> list[str]:
        same_kind = (
            self._catalog.asr_entries() if entry.kind == "asr" else self._catalog.mt_entries()
        )
        fitting = [e for e in same_kind if self._estimator.estimate_mb(e, "int8", "cpu") <= free_mb]
        fitting.sort(key=lambda e: -e.info.quality_score)
        return [e.model_id for e in fitting[:3]]
