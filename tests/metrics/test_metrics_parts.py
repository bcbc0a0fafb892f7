"""The metrics' parts on plain objects and in-process apps (no worker process): one registry
per app, route templates and error codes, events, inference replies, state read at scrape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.catalog import load_catalog
from gateway.catalog.known_models import KnownModels
from gateway.event_hub import EventHub
from gateway.http.errors import EXCEPTION_HANDLERS
from gateway.metrics.http_requests import RequestMetrics
from gateway.metrics.registry import Metrics
from gateway.models.cache_policy import CachePolicy
from gateway.models.load_events import LoadEvents
from gateway.models.manager import ModelManager
from gateway.settings import Settings
from gateway.workers.exits import worker_exit
from gateway.workers.pool import WorkerPool
from protocol.api.events import ModelLoadCompleted, ModelLoadFailed, WorkerChanged, envelope
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import (
    Heartbeat,
    Hello,
    LaneDepth,
    LoadedModel,
    TranscribeResult,
    TranslateResult,
    Translation,
)
from tests.models.fakes import FakeLink, memory

TINY = "openai/whisper-tiny.en"
NLLB = "facebook/nllb-200-distilled-600M"
DURATION = "loquilex_http_request_duration_seconds_count"


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def app_metrics(client: TestClient) -> Metrics:
    found: Metrics = client.app.state.services.metrics  # type: ignore[attr-defined]
    return found


def test_each_app_counts_in_its_own_registry(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path, worker_ready_timeout_s=0.2)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        assert first.get("/healthz").status_code == 200
        assert first.get("/healthz").status_code == 200
        healthz = {"route": "/healthz", "method": "GET", "status": "200"}
        assert sample(app_metrics(first), DURATION, **healthz) == 2
        assert sample(app_metrics(second), DURATION, **healthz) is None


def test_routes_are_templates_and_errors_are_counted_by_code(client: TestClient) -> None:
    assert client.get("/api/sessions/sess_0123456789abcdef").status_code == 404
    assert client.get("/api/sessions/sess_fedcba9876543210").status_code == 404
    assert client.get("/api/nothing/here").status_code == 404
    assert client.get("/api/models/openai/whisper-tiny.en/load").status_code == 405
    metrics = app_metrics(client)
    session = {"route": "/api/sessions/{sid}", "method": "GET", "status": "404"}
    assert sample(metrics, DURATION, **session) == 2
    assert sample(metrics, DURATION, route="unmatched", method="GET", status="404") == 1
    load = {"route": "/api/models/{model_id:path}/load", "method": "GET", "status": "405"}
    assert sample(metrics, DURATION, **load) == 1
    errors = "loquilex_errors_total"
    assert sample(metrics, errors, code="SESSION_NOT_FOUND") == 2
    assert sample(metrics, errors, code="NOT_FOUND") == 1
    assert sample(metrics, errors, code="METHOD_NOT_ALLOWED") == 1


def test_a_bug_is_counted_as_a_500_internal_error() -> None:
    metrics = Metrics()

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app = Starlette(
        routes=[Route("/broken", broken)],
        middleware=[Middleware(RequestMetrics, metrics=metrics.http)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500
    assert sample(metrics, DURATION, route="/broken", method="GET", status="500") == 1
    assert sample(metrics, "loquilex_errors_total", code="INTERNAL_ERROR") == 1


def test_loads_failures_and_exits_are_counted_from_the_events() -> None:
    metrics = Metrics()
    hub = EventHub()
    hub.observe(metrics.events.observe)
    completed = ModelLoadCompleted(
        model_id=TINY,
        model_type="asr",
        load_time_ms=320.0,
        memory_usage_mb=100.0,
        ready_for_inference=True,
        device="cpu",
    )
    hub.publish(envelope("model.load.completed", completed))
    failed = ModelLoadFailed(
        model_id=NLLB, error_code="DOWNLOAD_REQUIRED", error_message="offline", suggestions=[]
    )
    hub.publish(envelope("model.load.failed", failed))
    exit = worker_exit("oom", "passed its memory limit")
    lost = WorkerChanged(worker_id="cpu", device="cpu", state="lost", exit=exit)
    hub.publish(envelope("worker.lost", lost))
    hub.publish(
        envelope(
            "worker.restarting",
            WorkerChanged(worker_id="cpu", device="cpu", state="restarting", exit=None),
        )
    )

    load = {"model": TINY, "device": "cpu"}
    assert sample(metrics, "loquilex_model_load_duration_seconds_count", **load) == 1
    assert sample(metrics, "loquilex_model_load_duration_seconds_sum", **load) == pytest.approx(
        0.32
    )
    failures = "loquilex_model_load_failures_total"
    assert sample(metrics, failures, model=NLLB, code="DOWNLOAD_REQUIRED") == 1
    assert sample(metrics, "loquilex_worker_exits_total", worker="cpu", reason="oom") == 1


def test_inference_replies_give_latency_audio_seconds_texts_and_failures(tmp_path: Path) -> None:
    metrics = Metrics()
    models = _manager(tmp_path)
    tiny, nllb = models.record(TINY), models.record(NLLB)
    asr = TranscribeResult(
        request_id="r1",
        model_id=TINY,
        device="cpu",
        text="hello",
        language="en",
        language_probability=1.0,
        duration=2.5,
        segments=[],
        inference_ms=400.0,
        queue_ms=20.0,
        batch_size=1,
    )
    metrics.inference.served(tiny, asr)
    metrics.inference.served(tiny, asr)
    mt = TranslateResult(
        request_id="r2",
        model_id=NLLB,
        device="cpu",
        translations=[Translation(text="a"), Translation(text="b")],
        inference_ms=50.0,
        batch_size=6,
    )
    metrics.inference.served(nllb, mt)
    metrics.inference.failed(tiny, ServiceError(ErrorCode.INVALID_AUDIO, "not audio", {}))

    asr_labels = {"model": TINY, "device": "cpu", "kind": "asr"}
    assert sample(metrics, "loquilex_inference_duration_seconds_count", **asr_labels) == 2
    assert sample(
        metrics, "loquilex_inference_duration_seconds_sum", **asr_labels
    ) == pytest.approx(0.8)
    assert sample(metrics, "loquilex_inference_queue_seconds_sum", **asr_labels) == pytest.approx(
        0.04
    )
    assert sample(metrics, "loquilex_audio_seconds_total", model=TINY, device="cpu") == 5.0
    assert sample(metrics, "loquilex_translated_texts_total", model=NLLB, device="cpu") == 2
    assert sample(metrics, "loquilex_inference_batch_size_sum", model=NLLB, kind="mt") == 6
    failures = {"model": TINY, "kind": "asr", "code": "INVALID_AUDIO"}
    assert sample(metrics, "loquilex_inference_failures_total", **failures) == 1


def test_the_state_is_read_at_scrape_time(tmp_path: Path) -> None:
    metrics = Metrics()
    hub = EventHub()
    pool = WorkerPool(hub, ready_timeout_s=0.05)
    models = _manager(tmp_path, pool, hub)
    metrics.watch(models, pool, lambda worker_id: 3, hub)
    pool.handle("cpu", Hello(worker_id="cpu", device="cpu", pid=7, host="h", memory=memory(4000)))
    lanes = [LaneDepth(model_id=TINY, work_class="bulk", queued=2)]
    pool.handle("cpu", Heartbeat(worker_id="cpu", seq=1, memory=memory(3000), queues=lanes))
    loaded = LoadedModel(
        model_id=TINY,
        kind="asr",
        device="cpu",
        compute_type="int8",
        loaded_at="2026-01-01T00:00:00+00:00",
        memory_usage_mb=100.0,
        load_time_ms=300.0,
    )
    models.record(TINY).mark_loaded(loaded, "cpu")
    models.record(NLLB)  # known, never asked for: not listed

    lane = {"worker": "cpu", "model": TINY, "work_class": "bulk"}
    assert sample(metrics, "loquilex_queue_depth", **lane) == 2
    assert sample(metrics, "loquilex_worker_state", worker="cpu", device="cpu", state="ready") == 1
    assert sample(metrics, "loquilex_worker_state", worker="cpu", device="cpu", state="hung") == 0
    assert sample(metrics, "loquilex_worker_requests_in_flight", worker="cpu") == 3
    rss = sample(metrics, "loquilex_worker_resident_memory_bytes", worker="cpu")
    assert rss == 50 * 1024 * 1024
    memory_labels = {"model": TINY, "device": "cpu", "worker": "cpu"}
    assert sample(metrics, "loquilex_model_memory_bytes", **memory_labels) == 100 * 1024 * 1024
    assert sample(metrics, "loquilex_model_state", model=TINY, kind="asr", state="loaded") == 1
    assert (
        sample(metrics, "loquilex_model_state", model=NLLB, kind="mt", state="not_loaded") is None
    )

    # Read again at the next scrape: nothing was pushed.
    pool.handle("cpu", Heartbeat(worker_id="cpu", seq=2, memory=memory(3000), queues=[]))
    assert sample(metrics, "loquilex_queue_depth", **lane) is None
    assert sample(metrics, "loquilex_websocket_subscribers") == 0
    subscription = hub.subscribe()
    assert sample(metrics, "loquilex_websocket_subscribers") == 1
    hub.unsubscribe(subscription)


def test_live_streams_are_a_gauge_the_live_code_moves() -> None:
    metrics = Metrics()
    with metrics.live_streams.track(TINY):
        with metrics.live_streams.track(TINY):
            assert sample(metrics, "loquilex_live_streams", model=TINY) == 2
        assert sample(metrics, "loquilex_live_streams", model=TINY) == 1
    assert sample(metrics, "loquilex_live_streams", model=TINY) is None


def _manager(
    tmp_path: Path, pool: WorkerPool | None = None, hub: EventHub | None = None
) -> ModelManager:
    hub = hub or EventHub()
    return ModelManager(
        Settings(devices=(), state_dir=tmp_path),
        KnownModels(load_catalog()),
        FakeLink(memory(10_000)),
        pool or WorkerPool(hub, ready_timeout_s=0.05),
        LoadEvents(hub),
        CachePolicy(),
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(devices=(), state_dir=tmp_path, worker_ready_timeout_s=0.2))
    with TestClient(app) as test_client:
        yield test_client
