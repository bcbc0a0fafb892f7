"""kill -9 of a worker: what was in flight fails at once; the worker and its model come back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.supervision.harness import MODEL, Gateway, collect, gateway_running
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration

IN_FLIGHT = 3


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with gateway_running(tmp_path_factory.mktemp("failfast")) as running:
        yield running


def _loaded(gateway: Gateway) -> None:
    if gateway.model_status() != "loaded":
        with gateway.events() as ws:
            gateway.load()
            next_event(ws, {"model.load.completed"}, timeout_s=30)


def test_requests_in_flight_get_503_at_once_and_the_next_one_succeeds(gateway: Gateway) -> None:
    _loaded(gateway)
    (old,) = gateway.workers()
    with gateway.events() as ws, ThreadPoolExecutor(IN_FLIGHT) as threads:
        requests = [threads.submit(gateway.transcribe, "long_story.wav") for _ in range(IN_FLIGHT)]
        gateway.wait_for(
            lambda: gateway.worker("cpu")["in_flight"] == IN_FLIGHT, 10, "requests in flight"
        )
        os.kill(old["pid"], signal.SIGKILL)
        killed = time.monotonic()
        answers: list[httpx.Response] = [r.result(timeout=10) for r in requests]
        failed_within = time.monotonic() - killed
        events = collect(ws, lambda e: e["t"] == "model.load.completed", timeout_s=30)
    # Each would have run for seconds more: 2 s leaves room for a loaded CI machine.
    assert failed_within < 2.0, f"in-flight requests took {failed_within:.2f} s to fail"
    for answer in answers:
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "WORKER_UNAVAILABLE"
        assert error["details"]["worker_id"] == "cpu"
        assert error["details"]["signal"] == "SIGKILL"
        assert "SIGKILL" in error["details"]["cause"]
    kinds = [e["t"] for e in events]
    assert kinds[0] == "worker.lost" and "worker.ready" in kinds
    assert events[-1]["data"]["model_id"] == MODEL  # restored without anyone asking
    assert gateway.worker("cpu")["pid"] != old["pid"]
    answer = gateway.transcribe()
    assert answer.status_code == 200, answer.text


def test_a_load_in_progress_ends_with_model_load_failed(gateway: Gateway) -> None:
    model = "openai/whisper-tiny.en"
    if gateway.model_status(model) == "loaded":
        with gateway.client() as client:
            assert client.post(f"/api/models/{model}/unload").status_code == 200
    (worker,) = gateway.workers()
    with gateway.events() as ws:
        assert gateway.load(model).status_code == 202
        next_event(ws, {"model.load.progress"}, timeout_s=10)
        os.kill(worker["pid"], signal.SIGKILL)
        failed = next_event(ws, {"model.load.failed", "model.load.completed"}, timeout_s=5)
    assert failed["t"] == "model.load.failed", failed
    assert failed["data"]["error_code"] == "WORKER_UNAVAILABLE"
    assert "SIGKILL" in failed["data"]["error_message"]
    gateway.wait_state("cpu", {"ready"})
