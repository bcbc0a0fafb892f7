"""The gateway's record of each model: where it lives, its state, its measured figures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.models.availability import Availability
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


class Revision:
    """Grows by one whenever something a model's status shows changes, so a status encoded
    once can be reused until it does (gateway/ops/status_snapshot.py)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


# Fields a status never shows that change on every request: setting them is no change.
_UNSHOWN = frozenset({"in_flight", "last_used", "loaded_mono", "watchers", "loading"})


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
    known_since: str = field(default_factory=utc_now)
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
    # Shared by all of a manager's records; bumped by any change a status could show.
    revision: Revision = field(default_factory=Revision, repr=False)

    def __post_init__(self) -> None:
        self.stats.revision = self.revision

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name not in _UNSHOWN:
            revision = self.__dict__.get("revision")
            if revision is not None:
                revision.bump()

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

    def health(self, availability: Availability | None = None) -> HealthCheckSummary:
        """The last real check: a load, a failure, a health check; for a model never loaded,
        what discovery found on disk (see gateway/models/availability.py)."""
        if self.last_checked is None:
            if availability is not None:
                return availability.health()
            # Nothing looked at this model yet: say so by the time the gateway learnt of it.
            return Availability(True, False, self.known_since).health()
        state: Health
        if self.status == "error":
            state = "unhealthy"
        elif self.status == "loading":
            state = "degraded"
        else:  # loaded, or unloaded after it was: how it served
            state = "healthy" if self.stats.error_rate < 0.1 else "degraded"
        return HealthCheckSummary(
            last_check=self.last_checked,
            status=state,
            response_time_ms=round(self.stats.last_ms, 2),
            error_rate=round(self.stats.error_rate, 4),
        )

    def to_status(
        self, availability: Availability | None = None, now: float | None = None
    ) -> ModelStatus:
        """`now` (the manager's monotonic clock) dates how long a loaded model has idled."""
        idle = None if now is None or self.status != "loaded" else now - self.last_used
        return ModelStatus(
            model_id=self.model_id,
            status=self.status,
            memory_usage_mb=self.memory_usage_mb,
            inference_count=self.stats.count,
            health_check=self.health(availability),
            performance_metrics=self.stats.metrics(),
            loaded_at=self.loaded_at,
            error_message=None if self.error is None else self.error.message,
            device=self.device,
            worker_id=self.worker_id,
            idle_for_s=None if idle is None else round(max(idle, 0.0), 1),
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
