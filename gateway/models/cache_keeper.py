"""Applies the cache policy over time: idle unloads, cache size, memory pressure, preloads."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.models.cache_policy import Eviction, routine_evictions
from gateway.models.manager import ModelManager
from gateway.workers.pool import WorkerPool
from protocol.api.lifecycle import LoadModelRequest
from protocol.errors import ServiceError

log = logging.getLogger(__name__)


class CacheKeeper:
    def __init__(
        self,
        models: ModelManager,
        pool: WorkerPool,
        interval_s: float,
        worker_limit_mb: int | None,
    ) -> None:
        self._models = models
        self._pool = pool
        self._interval_s = interval_s
        self._limit_mb = worker_limit_mb
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cache-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.check_once()
            except Exception:  # one bad round must not end the keeper
                log.exception("cache check failed")

    async def check_once(self) -> list[Eviction]:
        """One pass of the policy over every worker's models; returns what it evicted."""
        done: list[Eviction] = []
        cached = self._models.cached_models()
        now = self._models.clock()
        for worker in self._pool.workers():
            mine = [m for m in cached if m.worker_id == worker.worker_id]
            if not mine or worker.memory is None:
                continue
            total = float(self._limit_mb or worker.memory.total_mb)
            used = (
                worker.memory.process_rss_mb
                if self._limit_mb and worker.device == "cpu"
                else worker.memory.total_mb - worker.memory.available_mb
            )
            for eviction in routine_evictions(mine, self._models.policy, now, used / total, total):
                await self._models.evict(eviction)
                done.append(eviction)
        return done

    async def preload(self, model_ids: list[str]) -> None:
        """Start loading models at start-up (listed ones, then the most used)."""
        for model_id in dict.fromkeys(model_ids):
            try:
                await self._models.load(model_id, LoadModelRequest())
            except ServiceError as exc:
                log.warning("preloading %s failed: %s", model_id, exc.message)
