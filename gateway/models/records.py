"""The gateway's record of each model: where it lives, its state, its measured figures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.models.inference_stats import InferenceStats
from protocol.api.lifecycle import (
    DecodingSetup,
    Health,
    HealthCheckSummary,
    ModelState,
    ModelStatus,
)
from protocol.errors import ServiceError
from protocol.vocabulary import ModelKind
from protocol.wire.messages import DecodeSetup, LoadedModel


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(eq=False)
class ModelRecord:
    model_id: str
    kind: ModelKind
    status: ModelState = "not_loaded"
    worker_id: str | None = None
    device: str | None = None
    compute_type: str | None = None
    loaded_at: str | None = None
    memory_usage_mb: float = 0.0
    load_time_ms: float | None = None
    decoding: DecodeSetup | None = None  # what the worker chose for a speech model
    error: ServiceError | None = None
    last_checked: str | None = None
    # Set while a load runs; every caller of the same model awaits this one load.
    loading: asyncio.Task[None] | None = None
    # Sessions that asked for the load under way: each sees its events.
    watchers: set[str] = field(default_factory=set)
    # Held while one caller places and admits a load, so two callers cannot both start one.
    admission: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The worker died while the model was loaded: load it again when the worker is back.
    restore: bool = False
    stats: InferenceStats = field(default_factory=InferenceStats)
    # For the cache policy (monotonic seconds): when loaded, when last used, work in flight.
    loaded_mono: float = 0.0
    last_used: float = 0.0
    in_flight: int = 0

    @property
    def busy(self) -> bool:
        return self.status != "loaded" or self.in_flight > 0

    def mark_loaded(self, model: LoadedModel, worker_id: str) -> None:
        self.status = "loaded"
        self.worker_id = worker_id
        self.device = model.device
        self.compute_type = model.compute_type
        self.loaded_at = model.loaded_at
        self.memory_usage_mb = model.memory_usage_mb
        self.load_time_ms = model.load_time_ms
        self.decoding = model.decoding
        self.error = None
        self.restore = False
        self.last_checked = utc_now()

    def mark_unloaded(self) -> None:
        self.status = "not_loaded"
        self.loaded_at = None
        self.memory_usage_mb = 0.0
        self.decoding = None

    def mark_failed(self, error: ServiceError) -> None:
        self.status = "error"
        self.error = error
        self.memory_usage_mb = 0.0
        self.last_checked = utc_now()

    def health(self) -> HealthCheckSummary:
        state: Health
        if self.status != "loaded":
            state = "degraded" if self.status == "loading" else "unhealthy"
        else:
            state = "healthy" if self.stats.error_rate < 0.1 else "degraded"
        return HealthCheckSummary(
            last_check=self.last_checked or utc_now(),
            status=state,
            response_time_ms=round(self.stats.last_ms, 2),
            error_rate=round(self.stats.error_rate, 4),
        )

    def to_status(self) -> ModelStatus:
        return ModelStatus(
            model_id=self.model_id,
            status=self.status,
            memory_usage_mb=self.memory_usage_mb,
            inference_count=self.stats.count,
            health_check=self.health(),
            performance_metrics=self.stats.metrics(),
            loaded_at=self.loaded_at,
            error_message=None if self.error is None else self.error.message,
            device=self.device,
            worker_id=self.worker_id,
            decoding=None if self.status != "loaded" else _decoding(self.decoding),
        )


def _decoding(setup: DecodeSetup | None) -> DecodingSetup | None:
    if setup is None:
        return None
    return DecodingSetup(
        concurrency=setup.concurrency,
        threads_per_decode=setup.threads,
        replicas=setup.replicas,
        max_batch_size=setup.max_batch_size,
        batch_encode=setup.batch_encode,
        chosen=setup.chosen,
        bulk_slots=setup.bulk_slots or setup.concurrency,
    )
