"""The model lifecycle events a load, an unload or an eviction publishes."""

from __future__ import annotations

from collections.abc import Collection

from gateway.event_hub import EventHub
from gateway.models.records import ModelRecord
from protocol.api.events import (
    ModelEvicted,
    ModelLoadCompleted,
    ModelLoadFailed,
    ModelLoadProgress,
    ModelLoadStarted,
    ModelUnloaded,
    envelope,
)
from protocol.errors import ServiceError
from protocol.wire.messages import LoadedModel, LoadProgress


class LoadEvents:
    def __init__(self, hub: EventHub) -> None:
        self._hub = hub

    def started(
        self, record: ModelRecord, estimate_ms: float, required_mb: float, sid: str | None
    ) -> None:
        """Load events go to the session that asked and to every session that joined."""
        data = ModelLoadStarted(
            model_id=record.model_id,
            model_type=record.kind,
            estimated_load_time_ms=estimate_ms,
            memory_required_mb=required_mb,
            device=record.device or "",
            worker_id=record.worker_id or "",
        )
        self._hub.publish(envelope("model.load.started", data, sid), record.watchers)

    def progress(self, record: ModelRecord, progress: LoadProgress, sid: str | None) -> None:
        data = ModelLoadProgress(
            model_id=record.model_id,
            progress=progress.progress,
            stage=progress.stage,
            memory_used_mb=progress.memory_used_mb,
            downloaded_bytes=progress.downloaded_bytes,
            total_bytes=progress.total_bytes,
        )
        self._hub.publish(envelope("model.load.progress", data, sid), record.watchers)

    def completed(self, record: ModelRecord, model: LoadedModel, sid: str | None) -> None:
        data = ModelLoadCompleted(
            model_id=record.model_id,
            model_type=record.kind,
            load_time_ms=model.load_time_ms,
            memory_usage_mb=model.memory_usage_mb,
            ready_for_inference=True,
            device=model.device,
            worker_id=record.worker_id or "",
        )
        self._hub.publish(envelope("model.load.completed", data, sid), record.watchers)

    def failed(
        self,
        model_id: str,
        error: ServiceError,
        suggestions: list[str],
        sid: str | None,
        also: Collection[str] = (),
    ) -> None:
        data = ModelLoadFailed(
            model_id=model_id,
            error_code=error.code.value,
            error_message=error.message,
            suggestions=suggestions,
            required_mb=error.details.get("required_mb"),
            available_mb=error.details.get("available_mb"),
            details=error.details or None,
        )
        self._hub.publish(envelope("model.load.failed", data, sid), also)

    def unloaded(self, model_id: str, freed_mb: float, reason: str) -> None:
        data = ModelUnloaded(model_id=model_id, memory_freed_mb=freed_mb, reason=reason)
        self._hub.publish(envelope("model.unloaded", data))

    def evicted(self, model_id: str, reason: str, freed_mb: float, worker_id: str) -> None:
        data = ModelEvicted(
            model_id=model_id, reason=reason, memory_freed_mb=freed_mb, worker_id=worker_id
        )
        self._hub.publish(envelope("model.evicted", data))
