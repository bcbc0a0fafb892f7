"""Sessions as the routes see them: the store, config checks, and loading on apply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from gateway.models.manager import ModelManager
from gateway.sessions.config_update import (
    ConfigChecks,
    apply_config_update,
    config_for_new_session,
)
from gateway.sessions.store import SessionStore
from gateway.workers.pool import WorkerPool
from protocol.api.config import ModelConfig, SessionInfo, UpdateModelConfigResponse
from protocol.api.lifecycle import LoadComputeConfig, LoadModelRequest

# What CTranslate2 runs on any CPU / on any CUDA GPU, until a worker's hello says exactly.
_CPU_TYPES = frozenset({"int8", "int8_float32", "float32"})
_CUDA_TYPES = frozenset({"int8", "int8_float16", "float16", "float32"})


def compute_types_by_device(
    pool: WorkerPool | None, planned_devices: Iterable[str]
) -> dict[str, frozenset[str]]:
    """Device kind (cpu, cuda) -> compute types its workers run; absent kinds have no worker.

    The CPU is always listed: every deployment runs a CPU worker, locally or remotely.
    """
    found: dict[str, frozenset[str]] = {"cpu": _CPU_TYPES}
    for device in planned_devices:
        kind = device.partition(":")[0]
        found.setdefault(kind, _CPU_TYPES if kind == "cpu" else _CUDA_TYPES)
    for worker in pool.workers() if pool is not None else []:
        if worker.compute_types:
            kind = worker.device.partition(":")[0]
            found[kind] = frozenset(worker.compute_types)
    return found


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        defaults: ModelConfig,
        checks: Callable[[], ConfigChecks],
        models: ModelManager,
    ) -> None:
        self._store = store
        self._defaults = defaults
        self._checks = checks
        self._models = models

    async def create(self, body: bytes) -> SessionInfo:
        config = config_for_new_session(self._defaults, body, self._checks())
        return await asyncio.to_thread(self._store.create, config)

    async def get(self, session_id: str) -> SessionInfo:
        return await asyncio.to_thread(self._store.get, session_id)

    async def delete(self, session_id: str) -> None:
        await asyncio.to_thread(self._store.delete, session_id)

    async def update_config(self, session_id: str, body: bytes) -> UpdateModelConfigResponse:
        checks = self._checks()
        info, update = await asyncio.to_thread(
            self._store.apply_update,
            session_id,
            lambda current: apply_config_update(current, body, checks),
        )
        estimate: float | None = None
        if update.restart_required and update.apply_immediately:
            estimates = [
                await self._load(info.config, kind, session_id) for kind in update.changed_models
            ]
            estimate = max(estimates)
        return UpdateModelConfigResponse(
            updated_at=info.updated_at,
            config=info.config,
            restart_required=update.restart_required,
            estimated_restart_time_ms=None if estimate is None else round(estimate),
        )

    async def _load(self, config: ModelConfig, kind: str, session_id: str) -> float:
        section = config.asr if kind == "asr" else config.mt
        compute = section.compute_config
        request = LoadModelRequest(
            compute_config=LoadComputeConfig(
                device=compute.device, compute_type=compute.compute_type
            )
        )
        answer = await self._models.load(section.model_id, request, session_id)
        return answer.estimated_load_time_ms or 0.0
