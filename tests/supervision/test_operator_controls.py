"""GET /api/workers, drain, graceful and forced restart, and unknown workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.supervision.harness import MODEL, Gateway, collect, gateway_running
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration

STATES = {"starting", "ready", "busy", "draining", "restarting", "hung", "failed", "lost"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with gateway_running(
        tmp_path_factory.mktemp("operator"), LX_WORKER_DRAIN_TIMEOUT_MS="20000"
    ) as running:
        with running.events() as ws:
            assert running.load().status_code == 202
            next_event(ws, {"model.load.completed"}, timeout_s=30)
        yield running


def test_workers_are_listed_with_what_an_operator_needs(gateway: Gateway) -> None:
    with gateway.client() as client:
        body = client.get("/api/workers").json()
    (worker,) = body["workers"]
    assert worker["worker_id"] == "cpu" and worker["device"] == "cpu"
    assert worker["state"] in STATES
    assert worker["pid"] > 0 and worker["host"]
    assert worker["remote"] is False
    assert worker["uptime_s"] > 0
    assert worker["models"] == [MODEL]
    assert worker["memory"]["process_rss_mb"] > 50
    assert 0 <= worker["heartbeat_age_ms"] < 1000
    assert worker["restart_count"] == 0 and worker["last_exit"] is None
    assert worker["in_flight"] == 0


def test_unknown_worker_is_404_in_the_error_envelope(gateway: Gateway) -> None:
    with gateway.client() as client:
        for answer in (
            client.get("/api/workers/gpu-7"),
            client.post("/api/workers/gpu-7/drain"),
            client.post("/api/workers/gpu-7/restart"),
        ):
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "WORKER_NOT_FOUND"
            assert answer.json()["error"]["details"]["workers"] == ["cpu"]
        bad = client.post("/api/workers/cpu/restart", params={"force": "perhaps"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INVALID_REQUEST"


def test_graceful_restart_drains_in_flight_work_then_restarts_and_restores(
    gateway: Gateway,
) -> None:
    old = gateway.worker("cpu")
    with gateway.events() as ws, ThreadPoolExecutor(1) as threads:
        running = threads.submit(gateway.transcribe, "long_story.wav")
        gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 1, 10, "in flight")
        with gateway.client() as client:
            answer = client.post("/api/workers/cpu/restart")
        assert answer.status_code == 202, answer.text
        assert answer.json()["state"] == "draining"
        # New work is refused while it drains; the work in flight finishes.
        refused = gateway.transcribe()
        assert refused.status_code == 503
        assert refused.json()["error"]["details"]["state"] == "draining"
        finished = running.result(timeout=30)
        assert finished.status_code == 200, finished.text
        events = collect(ws, lambda e: e["t"] == "model.load.completed", timeout_s=30)
    kinds = [e["t"] for e in events]
    assert kinds[0] == "worker.draining"
    assert kinds.index("worker.lost") < kinds.index("worker.ready")
    lost = events[kinds.index("worker.lost")]
    assert lost["data"]["exit"]["reason"] == "restart"
    assert lost["data"]["exit"]["code"] == 0  # it stopped by itself when asked
    new = gateway.worker("cpu")
    assert new["pid"] != old["pid"]
    assert new["restart_count"] == old["restart_count"] + 1
    assert new["models"] == [MODEL]
    assert gateway.transcribe().status_code == 200


def test_drain_stops_new_work_and_announces_drained(gateway: Gateway) -> None:
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post("/api/workers/cpu/drain")
        assert answer.status_code == 202
        assert answer.json()["state"] == "draining"
        drained = next_event(ws, {"worker.drained"}, timeout_s=5)
    assert drained["data"]["worker_id"] == "cpu"
    assert gateway.transcribe().status_code == 503


def test_drain_then_resume_serves_again(gateway: Gateway) -> None:
    with gateway.events() as ws, gateway.client() as client:
        if gateway.state_of("cpu") != "draining":
            assert client.post("/api/workers/cpu/drain").status_code == 202
        gateway.wait_for(lambda: gateway.worker("cpu")["drained"] is True, 10, "drained")
        refused = gateway.transcribe()
        assert refused.status_code == 503
        assert refused.json()["error"]["details"]["state"] == "draining"
        resumed = client.post("/api/workers/cpu/resume")
        assert resumed.status_code == 200, resumed.text
        ready = next_event(ws, {"worker.ready"}, timeout_s=5)
        assert ready["data"]["worker_id"] == "cpu"
        worker = gateway.worker("cpu")
        assert worker["state"] == "ready" and worker["drained"] is False
        served = gateway.transcribe()
        assert served.status_code == 200, served.text
        assert "kitchen" in served.json()["text"].lower()
        again = client.post("/api/workers/cpu/resume")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "WORKER_NOT_DRAINING"


def test_forced_restart_skips_the_drain(gateway: Gateway) -> None:
    old = gateway.worker("cpu")
    with gateway.events() as ws, ThreadPoolExecutor(1) as threads, gateway.client() as client:
        assert client.post("/api/workers/cpu/restart").status_code == 202
        next_event(ws, {"model.load.completed"}, timeout_s=30)
        running = threads.submit(gateway.transcribe, "long_story.wav")
        gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 1, 10, "in flight")
        started = time.monotonic()
        answer = client.post("/api/workers/cpu/restart", params={"force": "true"})
        assert answer.status_code == 202
        cut = running.result(timeout=10)
        assert time.monotonic() - started < 2.0  # no drain
        next_event(ws, {"model.load.completed"}, timeout_s=30)
    assert cut.status_code == 503
    assert cut.json()["error"]["details"]["reason"] == "restart"
    new = gateway.worker("cpu")
    assert new["restart_count"] == old["restart_count"] + 2
    assert new["state"] in ("ready", "busy")
