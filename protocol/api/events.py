"""WebSocket events: the contract's envelope `{v, t, sid, data}` and each event's data."""

from __future__ import annotations

from typing import Any, Literal, get_args

import msgspec

from protocol.api.lifecycle import WorkerExit
from protocol.vocabulary import ModelKind

ENVELOPE_VERSION = 1


class Envelope(msgspec.Struct, kw_only=True):
    v: int = ENVELOPE_VERSION
    t: str
    sid: str | None = None
    data: Any


class _EventData(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


class ModelLoadStarted(_EventData):
    model_id: str
    model_type: ModelKind
    estimated_load_time_ms: float
    memory_required_mb: float
    device: str = ""
    worker_id: str = ""


class ModelLoadProgress(_EventData):
    model_id: str
    progress: float
    stage: str
    memory_used_mb: float
    downloaded_bytes: int | None = None
    total_bytes: int | None = None


class ModelLoadCompleted(_EventData):
    model_id: str
    model_type: ModelKind
    load_time_ms: float
    memory_usage_mb: float
    ready_for_inference: bool
    device: str = ""
    worker_id: str = ""


class ModelLoadFailed(_EventData):
    model_id: str
    error_code: str
    error_message: str
    suggestions: list[str]
    required_mb: float | None = None
    available_mb: float | None = None
    # Extension: the error's details (repository, size, device...), as the HTTP error has.
    details: dict[str, Any] | None = None


# A download without a load (`POST /api/models/{id}/download`) has its own family,
# `model.download.started/progress/completed/failed`, so that a client following loads never
# takes a download for a load under way. The bytes a load itself downloads stay on
# `model.load.progress` (stage `downloading`).


class ModelDownloadStarted(_EventData):
    """`POST /api/models/{id}/download` began fetching files (no load follows)."""

    model_id: str
    repo_id: str
    worker_id: str
    size_mb: float | None = None  # the catalog's figure; progress events carry the true total


class ModelDownloadProgress(_EventData):
    model_id: str
    progress: float  # percent of `total_bytes`
    downloaded_bytes: int
    total_bytes: int


class ModelDownloadCompleted(_EventData):
    model_id: str
    path: str
    download_time_ms: float
    downloaded_bytes: int = 0
    total_bytes: int = 0
    worker_id: str = ""


class ModelDownloadFailed(_EventData):
    model_id: str
    error_code: str
    error_message: str
    suggestions: list[str]
    details: dict[str, Any] | None = None


class ModelUnloaded(_EventData):
    model_id: str
    memory_freed_mb: float
    reason: str


class ModelEvicted(_EventData):
    """The cache policy unloaded a model: idle_timeout, cache_full, memory_pressure, make_room."""

    model_id: str
    reason: str
    memory_freed_mb: float
    worker_id: str = ""


class WorkerChanged(_EventData):
    worker_id: str
    device: str
    state: str
    pid: int | None = None
    reason: str = ""
    # Appended: where it runs, how often it was restarted, and how its last process ended.
    host: str | None = None
    restart_count: int = 0
    remote: bool = False
    exit: WorkerExit | None = None


EventName = Literal[
    "model.load.started",
    "model.load.progress",
    "model.load.completed",
    "model.load.failed",
    "model.download.started",
    "model.download.progress",
    "model.download.completed",
    "model.download.failed",
    "model.unloaded",
    "model.evicted",
    "worker.ready",
    "worker.lost",
    "worker.restarting",
    "worker.starting",
    "worker.draining",
    "worker.drained",
    "worker.hung",
    "worker.failed",
]


_WORKER_EVENTS = [name for name in get_args(EventName) if name.startswith("worker.")]
# Each event's data: what the OpenAPI document says each event carries, and what envelope()
# holds every event to.
EVENT_DATA: dict[EventName, type[_EventData]] = {
    "model.load.started": ModelLoadStarted,
    "model.load.progress": ModelLoadProgress,
    "model.load.completed": ModelLoadCompleted,
    "model.load.failed": ModelLoadFailed,
    "model.download.started": ModelDownloadStarted,
    "model.download.progress": ModelDownloadProgress,
    "model.download.completed": ModelDownloadCompleted,
    "model.download.failed": ModelDownloadFailed,
    "model.unloaded": ModelUnloaded,
    "model.evicted": ModelEvicted,
    **dict.fromkeys(_WORKER_EVENTS, WorkerChanged),
}


def envelope(t: EventName, data: _EventData, sid: str | None = None) -> Envelope:
    if not isinstance(data, EVENT_DATA[t]):
        raise TypeError(f"{t} carries {EVENT_DATA[t].__name__}, not {type(data).__name__}")
    return Envelope(t=t, sid=sid, data=data)
