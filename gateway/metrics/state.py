"""What the gateway's state already holds, read at scrape time: nothing is updated on the
request path for these. Models, workers (with the lane depths their heartbeats report),
event subscribers and live streams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import get_args

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from gateway.event_hub import EventHub
from gateway.metrics.live_streams import LiveStreams
from gateway.models.manager import ModelManager
from gateway.workers.pool import WorkerPool
from protocol.api.lifecycle import ModelState, WorkerStateName

_MIB = 1024 * 1024
_MODEL_STATES: tuple[str, ...] = get_args(ModelState)
_WORKER_STATES: tuple[str, ...] = get_args(WorkerStateName)


@dataclass(frozen=True)
class StateSources:
    models: ModelManager
    pool: WorkerPool
    pending_for: Callable[[str], int]  # requests sent to a worker and not yet answered
    events: EventHub


class StateCollector:
    """A prometheus_client collector: `collect` runs on each scrape, on the event loop."""

    def __init__(self, live_streams: LiveStreams) -> None:
        self._live = live_streams
        self._sources: StateSources | None = None  # None until the app's lifespan starts

    def watch(self, sources: StateSources) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        live = GaugeMetricFamily(
            "loquilex_live_streams", "Live caption streams open now", labels=["model"]
        )
        for model_id, count in sorted(self._live.by_model().items()):
            live.add_metric([model_id], count)
        yield live
        sources = self._sources
        if sources is None:
            return
        yield GaugeMetricFamily(
            "loquilex_websocket_subscribers",
            "WebSocket event subscribers connected now",
            value=sources.events.subscriber_count,
        )
        yield from self._models(sources.models)
        yield from self._workers(sources.pool, sources.pending_for)

    def _models(self, models: ModelManager) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "loquilex_model_state",
            "1 for the state each model is in (models never asked for are not listed)",
            labels=["model", "kind", "state"],
        )
        memory = GaugeMetricFamily(
            "loquilex_model_memory_bytes",
            "Memory a loaded model takes, as its worker measured it",
            labels=["model", "device", "worker"],
        )
        in_flight = GaugeMetricFamily(
            "loquilex_model_requests_in_flight",
            "Inference requests of a model sent to its worker and not yet answered",
            labels=["model"],
        )
        hits = CounterMetricFamily(
            "loquilex_result_cache_hits",
            "Requests answered from the result cache, without inference",
            labels=["model"],
        )
        for record in models.records():
            if record.status == "not_loaded" and record.worker_id is None:
                continue  # never placed: a catalogue entry nobody asked for
            for name in _MODEL_STATES:
                state.add_metric([record.model_id, record.kind, name], float(record.status == name))
            if record.status in ("loaded", "unloading"):
                memory.add_metric(
                    [record.model_id, record.device or "", record.worker_id or ""],
                    record.memory_usage_mb * _MIB,
                )
            in_flight.add_metric([record.model_id], record.in_flight)
            hits.add_metric([record.model_id], record.stats.cache_hits)
        yield from (state, memory, in_flight, hits)

    def _workers(self, pool: WorkerPool, pending_for: Callable[[str], int]) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "loquilex_worker_state",
            "1 for the state each worker is in",
            labels=["worker", "device", "state"],
        )
        restarts = CounterMetricFamily(
            "loquilex_worker_restarts", "Times a worker was restarted", labels=["worker"]
        )
        in_flight = GaugeMetricFamily(
            "loquilex_worker_requests_in_flight",
            "Requests sent to a worker and not yet answered",
            labels=["worker"],
        )
        queued = GaugeMetricFamily(
            "loquilex_queue_depth",
            "Requests waiting in a worker's lane (per model and class of work), not yet "
            "running, as its last heartbeat reported",
            labels=["worker", "model", "work_class"],
        )
        rss = GaugeMetricFamily(
            "loquilex_worker_resident_memory_bytes",
            "Resident memory of the worker process",
            labels=["worker"],
        )
        device_used = GaugeMetricFamily(
            "loquilex_worker_device_memory_used_bytes",
            "Memory in use on the worker's device (the GPU's; on CPU, the host's)",
            labels=["worker", "device"],
        )
        device_total = GaugeMetricFamily(
            "loquilex_worker_device_memory_total_bytes",
            "Memory of the worker's device",
            labels=["worker", "device"],
        )
        age = GaugeMetricFamily(
            "loquilex_worker_heartbeat_age_seconds",
            "Time since the worker's last heartbeat",
            labels=["worker"],
        )
        now = pool.clock()
        for worker in pool.workers():
            wid = worker.worker_id
            for name in _WORKER_STATES:
                state.add_metric([wid, worker.device, name], float(worker.state == name))
            restarts.add_metric([wid], worker.restart_count)
            in_flight.add_metric([wid], pending_for(wid))
            for lane in worker.queues:
                queued.add_metric([wid, lane.model_id, lane.work_class], lane.queued)
            if worker.memory is not None:
                memory = worker.memory
                rss.add_metric([wid], memory.process_rss_mb * _MIB)
                device_used.add_metric([wid, worker.device], memory.device_used_mb * _MIB)
                device_total.add_metric([wid, worker.device], memory.total_mb * _MIB)
            if worker.last_heartbeat is not None:
                age.add_metric([wid], max(now - worker.last_heartbeat, 0.0))
        yield from (state, restarts, in_flight, queued, rss, device_used, device_total, age)
