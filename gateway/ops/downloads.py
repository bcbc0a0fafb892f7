"""POST /api/models/{id}/download: fetch a model's files without loading them, so a machine
is prepared ahead of its first load.

The worker that would load the model (default placement) downloads it, as a load does, and
reports bytes; they go out as `model.download.*` events, to the session that asked and to
every session that joined the same download. Already on disk: answered at once with where
it is. Offline: DOWNLOAD_REQUIRED at once, with what to do instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from gateway.catalog import CatalogEntry
from gateway.event_hub import EventHub
from gateway.models.manager import ModelManager
from gateway.models.suggestions import suggestions_for
from gateway.settings import Settings
from protocol.api.events import (
    ModelDownloadCompleted,
    ModelDownloadFailed,
    ModelDownloadProgress,
    ModelDownloadStarted,
    envelope,
)
from protocol.api.lifecycle import DownloadModelResponse
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import DownloadModel, DownloadResult, LoadProgress

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Download:
    model_id: str
    worker_id: str
    # Sessions that asked for it: each sees its events (None-sid subscribers see all).
    watchers: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class ModelDownloads:
    def __init__(self, settings: Settings, models: ModelManager, hub: EventHub) -> None:
        self._settings = settings
        self._models = models
        self._hub = hub
        self._running: dict[str, _Download] = {}

    async def start(self, model_id: str, sid: str | None = None) -> DownloadModelResponse:
        entry = self._models.entry(model_id)
        response = self._on_disk(entry)
        if response is not None:
            return response
        running = self._running.get(model_id)
        if running is not None:  # join the download under way
            if sid:
                running.watchers.add(sid)
            return self._downloading(entry, running.worker_id)
        if self._settings.offline:
            raise self._offline_error(entry)
        worker = await self._models.worker_for(entry, self._settings.default_device)
        download = _Download(model_id, worker.worker_id, {sid} if sid else set())
        self._running[model_id] = download
        self._publish_started(entry, download, sid)
        download.task = asyncio.create_task(
            self._run(entry, download, sid), name=f"download {model_id}"
        )
        return self._downloading(entry, worker.worker_id)

    def _on_disk(self, entry: CatalogEntry) -> DownloadModelResponse | None:
        discovery = self._models.known.discovery
        location = None if discovery is None else discovery.location(entry.model_id)
        if location is None or location.path is None:
            return None
        return DownloadModelResponse(
            model_id=entry.model_id,
            status="downloaded",
            repo_id=location.repo_id or entry.weights.repo_id,
            location=location.kind,
            path=location.path,
            size_on_disk_mb=location.size_on_disk_mb,
        )

    def _downloading(self, entry: CatalogEntry, worker_id: str) -> DownloadModelResponse:
        return DownloadModelResponse(
            model_id=entry.model_id,
            status="downloading",
            repo_id=entry.weights.repo_id,
            size_mb=float(entry.info.size_mb),
            worker_id=worker_id,
        )

    def _offline_error(self, entry: CatalogEntry) -> ServiceError:
        repo_id = entry.weights.repo_id
        size_mb = float(entry.info.size_mb)
        error = ServiceError(
            ErrorCode.DOWNLOAD_REQUIRED,
            f"Model {entry.model_id} is not on this machine and the service is offline "
            f"(LX_OFFLINE / HF_HUB_OFFLINE): its weights ({size_mb:.0f} MB) cannot be "
            f"downloaded from {repo_id}.",
            {"model_id": entry.model_id, "repo_id": repo_id, "size_mb": size_mb, "offline": True},
        )
        error.details["suggestions"] = suggestions_for(error, entry.model_id, [])
        return error

    async def _run(self, entry: CatalogEntry, download: _Download, sid: str | None) -> None:
        started = time.perf_counter()
        link = self._models.link
        request_id = link.new_request_id()
        message = DownloadModel(
            request_id=request_id,
            model_id=entry.model_id,
            source=self._models.source_for(entry),
        )
        # Bytes keep it alive; only this long without a word is a stuck download.
        stall_timeout_s = self._settings.load_timeout_ms / 1000
        try:
            async with link.stream(
                download.worker_id, message, request_id=request_id, stall_timeout_s=stall_timeout_s
            ) as stream:
                async for partial in stream:
                    if isinstance(partial, LoadProgress):
                        self._publish_progress(download, partial, sid)
                reply = stream.final
            assert isinstance(reply, DownloadResult)
        except (TimeoutError, ServiceError) as exc:
            self._running.pop(entry.model_id, None)
            error = (
                exc if isinstance(exc, ServiceError) else _stalled(entry.model_id, stall_timeout_s)
            )
            self._publish_failed(download, sid, error)
            return
        discovery = self._models.known.discovery
        try:
            if discovery is not None:  # from now on, asking again answers "downloaded" at once
                await asyncio.to_thread(discovery.refresh, force=True)
        finally:
            self._running.pop(entry.model_id, None)
        data = ModelDownloadCompleted(
            model_id=entry.model_id,
            path=reply.path,
            download_time_ms=round((time.perf_counter() - started) * 1000, 1),
            downloaded_bytes=reply.downloaded_bytes,
            total_bytes=reply.total_bytes,
            worker_id=download.worker_id,
        )
        self._hub.publish(envelope("model.download.completed", data, sid), download.watchers)

    def _publish_started(self, entry: CatalogEntry, download: _Download, sid: str | None) -> None:
        data = ModelDownloadStarted(
            model_id=entry.model_id,
            repo_id=entry.weights.repo_id,
            worker_id=download.worker_id,
            size_mb=float(entry.info.size_mb),
        )
        self._hub.publish(envelope("model.download.started", data, sid), download.watchers)

    def _publish_progress(
        self, download: _Download, progress: LoadProgress, sid: str | None
    ) -> None:
        data = ModelDownloadProgress(
            model_id=download.model_id,
            progress=progress.progress,
            downloaded_bytes=progress.downloaded_bytes or 0,
            total_bytes=progress.total_bytes or 0,
        )
        self._hub.publish(envelope("model.download.progress", data, sid), download.watchers)

    def _publish_failed(self, download: _Download, sid: str | None, error: ServiceError) -> None:
        log.warning("download of %s failed: %s %s", download.model_id, error.code, error.message)
        data = ModelDownloadFailed(
            model_id=download.model_id,
            error_code=error.code.value,
            error_message=error.message,
            suggestions=suggestions_for(error, download.model_id, []),
            details=error.details or None,
        )
        self._hub.publish(envelope("model.download.failed", data, sid), download.watchers)

    async def stop(self) -> None:
        """Stop waiting for downloads under way (the workers finish or drop them)."""
        tasks = [d.task for d in self._running.values() if d.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _stalled(model_id: str, timeout_s: float) -> ServiceError:
    return ServiceError(
        ErrorCode.LOADING_TIMEOUT,
        f"The download of {model_id} reported nothing for {timeout_s:.0f} s (LX_LOAD_TIMEOUT_MS).",
        {"model_id": model_id, "timeout_ms": round(timeout_s * 1000)},
    )
