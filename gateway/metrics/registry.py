"""One app's metrics: its registry, the parts that count what happens, the collector that
reads the state, and the text a scrape gets."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.exposition import choose_encoder

from gateway.event_hub import EventHub
from gateway.metrics.events import EventMetrics
from gateway.metrics.http_requests import HttpMetrics
from gateway.metrics.inference import InferenceMetrics
from gateway.metrics.live_streams import LiveStreams
from gateway.metrics.state import StateCollector, StateSources
from gateway.models.manager import ModelManager
from gateway.workers.pool import WorkerPool


class Metrics:
    def __init__(self) -> None:
        # The app's own registry: the global default one would mix the apps a test builds.
        self.registry = CollectorRegistry()
        self.http = HttpMetrics(self.registry)
        self.inference = InferenceMetrics(self.registry)
        self.events = EventMetrics(self.registry)
        # The live code moves this (opened/closed, or `with track(model_id)`).
        self.live_streams = LiveStreams()
        self._state = StateCollector(self.live_streams)
        self.registry.register(self._state)
        ProcessCollector(registry=self.registry)  # the gateway's own CPU, memory, files

    def watch(
        self,
        models: ModelManager,
        pool: WorkerPool,
        pending_for: Callable[[str], int],
        events: EventHub,
    ) -> None:
        """Read these at each scrape, and count the events `events` publishes."""
        self._state.watch(StateSources(models, pool, pending_for, events))
        events.observe(self.events.observe)

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition text and its content type; OpenMetrics when `accept` asks for it."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
