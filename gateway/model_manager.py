"""Model lifecycle at the gateway: load, unload and transcribe through the workers.

Loads run as tasks: the HTTP answer comes at once and progress follows as events.
Callers asking for a model that is already loading join that one load.
"""

from __future__ import annotations

import asyncio
import logging
import time

from gateway.catalog import Catalog, CatalogEntry
from gateway.event_hub import EventHub
from gateway.model_records import ModelRecord, utc_now
from gateway.settings import Settings
from gateway.suggestions import suggestions_for
from gateway.worker_link import WorkerLink
from gateway.worker_pool import WorkerPool, WorkerState
from protocol.api import (
    LoadComputeConfig,
    LoadModelRequest,
    LoadModelResponse,
    ModelStatus,
    UnloadModelResponse,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.events import (
    ModelLoadCompleted,
    ModelLoadFailed,
    ModelLoadProgress,
    ModelLoadStarted,
    ModelUnloaded,
    envelope,
)
from protocol.ipc import (
    LoadModel,
    LoadProgress,
    LoadResult,
    ModelSource,
    Transcribe,
    TranscribeOptions,
    TranscribeResult,
    UnloadModel,
    UnloadResult,
)

log = logging.getLogger(__name__)


class ModelManager:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        link: WorkerLink,
        pool: WorkerPool,
        events: EventHub,
    ) -> None:
        self._settings = settings
        self.catalog = catalog
        self._link = link
        self._pool = pool
        self._events = events
        self._records: dict[str, ModelRecord] = {}

    # ------------------------------------------------------------ queries

    def entry(self, model_id: str) -> CatalogEntry:
        entry = self.catalog.get(model_id)
        if entry is None:
            raise ServiceError(
                ErrorCode.MODEL_NOT_FOUND,
                f"Model {model_id!r} is not in the registry.",
                {"model_id": model_id, "suggested_alternatives": self.catalog.closest(model_id)},
            )
        return entry

    def record(self, model_id: str) -> ModelRecord:
        record = self._records.get(model_id)
        if record is None:
            record = ModelRecord(model_id=model_id, kind=self.entry(model_id).kind)
            self._records[model_id] = record
        return record

    def statuses(self) -> list[ModelStatus]:
        ids = [e.info.model_id for e in self.catalog.asr_entries()]
        ids += [e.info.model_id for e in self.catalog.mt_entries()]
        return [self.record(model_id).to_status() for model_id in ids]

    # ------------------------------------------------------------ load

    async def load(
        self, model_id: str, request: LoadModelRequest, sid: str | None = None
    ) -> LoadModelResponse:
        entry = self.entry(model_id)
        record = self.record(model_id)
        if record.status == "loaded":
            return self._response(record, entry, "loaded")
        if record.loading is not None and not record.loading.done():
            return self._response(record, entry, "loading")
        config = request.compute_config
        device = (config.device if config else None) or self._settings.default_device
        worker = await self._pool.worker_for(device)
        compute_type = (config.compute_type if config else None) or "default"
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
        current: str = record.status  # the record may have moved on while we awaited
        if current == "loaded" or (record.loading is not None and not record.loading.done()):
            return self._response(record, entry, current)
        record.status = "loading"
        record.worker_id = worker.worker_id
        record.device = worker.device
        record.loading = asyncio.create_task(
            self._run_load(record, entry, worker, compute_type, sid),
            name=f"load {model_id}",
        )
        return self._response(record, entry, "loading")

    async def ensure_loaded(self, model_id: str, sid: str | None = None) -> ModelRecord:
        """Load on demand and wait; raises the load's own error if it fails."""
        record = self.record(model_id)
        if record.status != "loaded":
            await self.load(model_id, LoadModelRequest(), sid)
            if record.loading is not None:
                await asyncio.shield(record.loading)
        if record.status != "loaded":
            raise record.error or ServiceError(
                ErrorCode.MODEL_NOT_LOADED, f"Model {model_id} is not loaded.", {}
            )
        return record

    def _response(self, record: ModelRecord, entry: CatalogEntry, status: str) -> LoadModelResponse:
        loaded = status == "loaded"
        return LoadModelResponse(
            model_id=record.model_id,
            status="loaded" if loaded else "loading",
            memory_allocated_mb=record.memory_usage_mb
            if loaded
            else float(entry.info.memory_requirement_mb),
            estimated_load_time_ms=None if loaded else self._estimate_load_ms(record, entry),
            device=record.device,
            worker_id=record.worker_id,
        )

    def _estimate_load_ms(self, record: ModelRecord, entry: CatalogEntry) -> float:
        # The last measured load of this model, else a size-based guess (~10 ms per MB
        # plus start-up) until the lifecycle work calibrates it from real loads.
        if record.load_time_ms is not None:
            return record.load_time_ms
        return round(500.0 + 10.0 * float(entry.info.size_mb))

    async def _run_load(
        self,
        record: ModelRecord,
        entry: CatalogEntry,
        worker: WorkerState,
        compute_type: str,
        sid: str | None,
    ) -> None:
        model_id = record.model_id
        self._events.publish(
            envelope(
                "model.load.started",
                ModelLoadStarted(
                    model_id=model_id,
                    model_type=record.kind,
                    estimated_load_time_ms=self._estimate_load_ms(record, entry),
                    memory_required_mb=float(entry.info.memory_requirement_mb),
                    device=worker.device,
                    worker_id=worker.worker_id,
                ),
                sid,
            )
        )

        def on_progress(progress: LoadProgress) -> None:
            self._events.publish(
                envelope(
                    "model.load.progress",
                    ModelLoadProgress(
                        model_id=model_id,
                        progress=progress.progress,
                        stage=progress.stage,
                        memory_used_mb=progress.memory_used_mb,
                        downloaded_bytes=progress.downloaded_bytes,
                        total_bytes=progress.total_bytes,
                    ),
                    sid,
                )
            )

        request_id = self._link.new_request_id()
        message = LoadModel(
            request_id=request_id,
            model_id=model_id,
            kind=record.kind,
            source=ModelSource(
                bundled=entry.weights.bundled,
                repo_id=entry.weights.repo_id,
                revision=entry.weights.revision,
            ),
            compute_type=compute_type,
            cpu_threads=self._settings.worker_cpu_threads,
            warmup=True,
        )
        try:
            reply = await asyncio.wait_for(
                self._link.request(
                    worker.worker_id, message, request_id=request_id, on_progress=on_progress
                ),
                self._settings.load_timeout_ms / 1000,
            )
            assert isinstance(reply, LoadResult)
        except TimeoutError:
            self._fail(record, entry, sid, _timeout_error(model_id, self._settings))
            return
        except ServiceError as exc:
            self._fail(record, entry, sid, exc)
            return
        record.mark_loaded(reply.model, worker.worker_id)
        self._events.publish(
            envelope(
                "model.load.completed",
                ModelLoadCompleted(
                    model_id=model_id,
                    model_type=record.kind,
                    load_time_ms=reply.model.load_time_ms,
                    memory_usage_mb=reply.model.memory_usage_mb,
                    ready_for_inference=True,
                    device=reply.model.device,
                    worker_id=worker.worker_id,
                ),
                sid,
            )
        )

    def _fail(
        self, record: ModelRecord, entry: CatalogEntry, sid: str | None, error: ServiceError
    ) -> None:
        log.warning("load of %s failed: %s %s", record.model_id, error.code, error.message)
        record.mark_failed(error)
        smaller = self.catalog.closest(record.model_id)
        self._events.publish(
            envelope(
                "model.load.failed",
                ModelLoadFailed(
                    model_id=record.model_id,
                    error_code=error.code.value,
                    error_message=error.message,
                    suggestions=suggestions_for(error, record.model_id, smaller),
                    required_mb=error.details.get("required_mb"),
                    available_mb=error.details.get("available_mb"),
                ),
                sid,
            )
        )

    # ------------------------------------------------------------ unload

    async def unload(self, model_id: str, reason: str = "requested") -> UnloadModelResponse:
        record = self.record(model_id)
        if record.status != "loaded" or record.worker_id is None:
            raise ServiceError(
                ErrorCode.MODEL_NOT_LOADED,
                f"Model {model_id} is not loaded (status: {record.status}).",
                {"model_id": model_id, "status": record.status},
            )
        record.status = "unloading"
        request_id = self._link.new_request_id()
        try:
            reply = await self._link.request(
                record.worker_id,
                UnloadModel(request_id=request_id, model_id=model_id),
                request_id=request_id,
            )
        except ServiceError:
            record.status = "loaded"
            raise
        assert isinstance(reply, UnloadResult)
        record.mark_unloaded()
        self._events.publish(
            envelope(
                "model.unloaded",
                ModelUnloaded(
                    model_id=model_id, memory_freed_mb=reply.memory_freed_mb, reason=reason
                ),
            )
        )
        return UnloadModelResponse(
            model_id=model_id,
            status="unloaded",
            memory_freed_mb=reply.memory_freed_mb,
            unloaded_at=utc_now(),
        )

    # ------------------------------------------------------------ inference

    async def transcribe(
        self,
        model_id: str,
        audio: bytes,
        audio_format: str,
        options: TranscribeOptions,
        sid: str | None = None,
    ) -> TranscribeResult:
        record = await self.ensure_loaded(model_id, sid)
        assert record.worker_id is not None
        request_id = self._link.new_request_id()
        started = time.perf_counter()
        message = Transcribe(
            request_id=request_id,
            model_id=model_id,
            audio_format="pcm_s16le_16k" if audio_format == "pcm" else "container",
            options=options,
        )
        ok = False
        try:
            reply = await self._link.request(
                record.worker_id, message, audio, request_id=request_id
            )
            assert isinstance(reply, TranscribeResult)
            ok = True
            return reply
        finally:
            record.stats.record((time.perf_counter() - started) * 1000, ok)

    # ------------------------------------------------------------ worker changes

    def worker_lost(self, worker: WorkerState, cause: str) -> None:
        for record in self._records.values():
            if record.worker_id == worker.worker_id and record.status in ("loaded", "unloading"):
                record.mark_unloaded()
                record.restore = True
                record.error = ServiceError(
                    ErrorCode.WORKER_UNAVAILABLE,
                    f"Worker {worker.worker_id} {cause}; the model will be loaded again.",
                    {"worker_id": worker.worker_id, "cause": cause},
                )

    def worker_ready(self, worker: WorkerState) -> None:
        for record in self._records.values():
            if record.restore and record.worker_id == worker.worker_id:
                record.restore = False
                asyncio.get_running_loop().create_task(self._restore(record))

    async def _restore(self, record: ModelRecord) -> None:
        try:
            config = LoadComputeConfig(device=record.device)
            await self.load(record.model_id, LoadModelRequest(compute_config=config))
        except ServiceError as exc:
            log.warning("could not restore %s: %s", record.model_id, exc.message)


def _timeout_error(model_id: str, settings: Settings) -> ServiceError:
    return ServiceError(
        ErrorCode.LOADING_TIMEOUT,
        f"Loading {model_id} took longer than {settings.load_timeout_ms} ms.",
        {"model_id": model_id, "timeout_ms": settings.load_timeout_ms},
    )
