"""Loads, evictions and worker exits, counted from the events the gateway publishes (the
same ones WebSocket clients see), so the metrics and the event stream cannot disagree."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from protocol.api.events import (
    Envelope,
    ModelEvicted,
    ModelLoadCompleted,
    ModelLoadFailed,
    WorkerChanged,
)

# Seconds: tiny.en loads in a third of a second, a large model with a download in minutes.
_LOAD_SECONDS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class EventMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._load_duration = Histogram(
            "loquilex_model_load_duration_seconds",
            "Completed model loads: time the worker took to load (its count: loads completed)",
            ["model", "device"],
            buckets=_LOAD_SECONDS,
            registry=registry,
        )
        self._load_failures = Counter(
            "loquilex_model_load_failures_total",
            "Model loads that failed or were refused, by error code",
            ["model", "code"],
            registry=registry,
        )
        self._evictions = Counter(
            "loquilex_model_evictions_total",
            "Models the cache policy unloaded, by reason",
            ["model", "reason"],
            registry=registry,
        )
        self._exits = Counter(
            "loquilex_worker_exits_total",
            "Worker processes that ended or were lost, by reason (crash, oom, hang, "
            "restart, shutdown)",
            ["worker", "reason"],
            registry=registry,
        )

    def observe(self, event: Envelope) -> None:
        """An EventHub observer: called with every event published."""
        data = event.data
        if isinstance(data, ModelLoadCompleted):
            self._load_duration.labels(data.model_id, data.device).observe(data.load_time_ms / 1000)
        elif isinstance(data, ModelLoadFailed):
            self._load_failures.labels(data.model_id, data.error_code).inc()
        elif isinstance(data, ModelEvicted):
            self._evictions.labels(data.model_id, data.reason).inc()
        elif isinstance(data, WorkerChanged) and event.t == "worker.lost" and data.exit:
            self._exits.labels(data.worker_id, data.exit.reason).inc()
