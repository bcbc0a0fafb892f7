"""Workers coming and going: a worker's models are marked gone when it dies and loaded
again when it is back, so clients see recovery without doing anything."""

from __future__ import annotations

import asyncio
import logging
from typing import cast, get_args

from gateway.models.manager import ModelManager
from gateway.models.records import ModelRecord
from gateway.workers.pool import WorkerState
from protocol.api.lifecycle import LoadComputeConfig, LoadModelRequest
from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import ComputeType

log = logging.getLogger(__name__)


class ModelRestorer:
    """A worker-pool listener (see WorkerListener)."""

    def __init__(self, models: ModelManager) -> None:
        self._models = models

    def worker_lost(self, worker: WorkerState, cause: str) -> None:
        for record in self._models.records():
            if record.worker_id == worker.worker_id and record.status in ("loaded", "unloading"):
                record.mark_unloaded()
                record.restore = True
                record.error = ServiceError(
                    ErrorCode.WORKER_UNAVAILABLE,
                    f"Worker {worker.worker_id} {cause}; the model will be loaded again.",
                    {"worker_id": worker.worker_id, "cause": cause},
                )

    def worker_ready(self, worker: WorkerState) -> None:
        # A worker that comes back still holding models (a remote one reconnecting) is
        # re-admitted with them: no reload, no load events.
        for model in worker.reported:
            try:
                record = self._models.record(model.model_id)
            except ServiceError:
                continue  # a model this gateway does not know
            busy = record.loading is not None and not record.loading.done()
            if record.status != "loaded" and not busy:
                record.mark_loaded(model, worker.worker_id)
        for record in self._models.records():
            if record.restore and record.worker_id == worker.worker_id:
                record.restore = False
                asyncio.get_running_loop().create_task(self._restore(record))

    async def _restore(self, record: ModelRecord) -> None:
        try:
            # The same device and, where the API can name it, the same compute type.
            named = record.compute_type in get_args(ComputeType)
            asked = cast(ComputeType, record.compute_type) if named else None
            config = LoadComputeConfig(device=record.device, compute_type=asked)
            await self._models.load(record.model_id, LoadModelRequest(compute_config=config))
        except ServiceError as exc:
            log.warning("could not restore %s: %s", record.model_id, exc.message)
