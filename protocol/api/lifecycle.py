"""HTTP request and response bodies of the model lifecycle routes (the contract's types)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from protocol.api.catalog import LocationKind
from protocol.vocabulary import ComputeType

ModelState = Literal["not_loaded", "loading", "loaded", "error", "unloading"]
Health = Literal["healthy", "degraded", "unhealthy"]


class LoadComputeConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # `cuda:N` picks one GPU; `auto` lets the gateway place the model.
    device: Annotated[str, msgspec.Meta(pattern=r"^(cpu|cuda|cuda:\d+|auto)$")] | None = None
    compute_type: ComputeType | None = None
    optimization_level: Literal["none", "basic", "aggressive"] | None = None


class LoadModelRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    compute_config: LoadComputeConfig | None = None
    priority: Literal["low", "normal", "high"] = "normal"
    preload_cache: bool = False


class LoadModelResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    model_id: str
    status: Literal["loading", "loaded"]
    memory_allocated_mb: float
    # Required by the contract, so present even when empty (omit_defaults drops a default).
    warnings: list[str]
    estimated_load_time_ms: float | None = None
    device: str | None = None
    worker_id: str | None = None


class DownloadModelResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """`POST /api/models/{id}/download`: 200 `downloaded` when the files are already on this
    machine (`location`, `path`), else 202 `downloading` and `model.download.*` events."""

    model_id: str
    status: Literal["downloaded", "downloading"]
    repo_id: str | None = None
    location: LocationKind | None = None
    path: str | None = None
    size_on_disk_mb: float | None = None
    size_mb: float | None = None  # the catalog's figure for what a download fetches
    worker_id: str | None = None  # the worker that downloads it (the one that would load it)


class UnloadModelResponse(msgspec.Struct, kw_only=True):
    model_id: str
    status: Literal["unloaded"]
    memory_freed_mb: float
    unloaded_at: str


class HealthCheckSummary(msgspec.Struct, kw_only=True):
    last_check: str
    status: Health
    response_time_ms: float
    error_rate: float


class PerformanceMetrics(msgspec.Struct, kw_only=True, omit_defaults=True):
    avg_inference_time_ms: float
    p95_inference_time_ms: float
    throughput_per_second: float
    cache_hit_rate: float | None = None


class DecodingSetup(msgspec.Struct, kw_only=True):
    """How the worker runs a loaded speech model's transcriptions, as it chose them from
    its cores or GPU (or as LX_ASR_CONCURRENCY / LX_WORKER_CPU_THREADS set them)."""

    concurrency: int  # transcriptions running at once
    threads_per_decode: int  # CTranslate2 threads each
    replicas: int  # decodes that really run in parallel (faster-whisper's num_workers)
    max_batch_size: int  # windows of concurrent transcriptions per model call; 1: never
    batch_encode: bool  # the encoder's calls batched too, not only the decoder's
    chosen: str  # "auto", or which LX_* figures were set by hand
    bulk_slots: int  # of `concurrency`, how many long files (bulk work) may hold


class ModelStatus(msgspec.Struct, kw_only=True, omit_defaults=True):
    model_id: str
    status: ModelState
    memory_usage_mb: float
    inference_count: int
    health_check: HealthCheckSummary
    performance_metrics: PerformanceMetrics
    loaded_at: str | None = None
    error_message: str | None = None
    device: str | None = None
    worker_id: str | None = None
    # Appended: seconds since the loaded model last served a request (or since it loaded).
    idle_for_s: float | None = None
    # Appended: how a loaded speech model decodes (concurrency, threads, replicas, batching).
    decoding: DecodingSetup | None = None  # loaded speech models


class SystemResources(msgspec.Struct, kw_only=True, omit_defaults=True):
    cpu_usage_percent: float
    memory_usage_mb: float
    disk_cache_usage_mb: float
    gpu_memory_usage_mb: float | None = None


class ModelsStatusResponse(msgspec.Struct, kw_only=True):
    asr_models: list[ModelStatus]
    mt_models: list[ModelStatus]
    system_resources: SystemResources


WorkerStateName = Literal[
    "starting", "ready", "busy", "draining", "restarting", "hung", "failed", "lost"
]
# crash: died on its own; oom: passed its memory limit; hang: stopped heartbeating;
# restart: an operator asked; shutdown: the worker said it was stopping.
ExitReason = Literal["crash", "oom", "hang", "restart", "shutdown"]


class WorkerExit(msgspec.Struct, kw_only=True):
    """How a worker's last process ended (code or signal for local workers)."""

    reason: ExitReason
    message: str
    at: str
    code: int | None = None
    signal: str | None = None


class WorkerMemory(msgspec.Struct, kw_only=True):
    """Memory of the device a worker owns, and of the worker process itself (MiB)."""

    total_mb: float
    available_mb: float
    process_rss_mb: float
    device_used_mb: float = 0.0


class WorkerSummary(msgspec.Struct, kw_only=True):
    worker_id: str
    device: str
    state: WorkerStateName
    pid: int | None = None
    host: str | None = None
    restart_count: int = 0
    last_exit: WorkerExit | None = None
    heartbeat_age_ms: float | None = None
    # Appended for operators (GET /api/workers).
    remote: bool = False
    uptime_s: float | None = None
    in_flight: int = 0
    models: list[str] = msgspec.field(default_factory=list)
    memory: WorkerMemory | None = None
    # A drain that has finished: `draining` with nothing left in flight (resume ends it).
    drained: bool = False


class WorkerListResponse(msgspec.Struct, kw_only=True):
    workers: list[WorkerSummary]


class HealthzResponse(msgspec.Struct, kw_only=True):
    status: Literal["ok", "degraded"]
    workers: list[WorkerSummary]


class ReadyzResponse(msgspec.Struct, kw_only=True):
    """GET /readyz when ready (otherwise 503 WORKER_UNAVAILABLE saying why)."""

    status: Literal["ready"]
    model_id: str  # the default ASR model, which a ready worker can serve
    device: str
    workers: list[WorkerSummary]
