"""Heartbeats: a long inference never looks hung; a stopped worker is hung, killed, replaced."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.supervision.harness import MODEL, Gateway, collect, gateway_running
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.5  # LX_WORKER_HEARTBEAT_TIMEOUT_MS in harness.FAST


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with gateway_running(tmp_path_factory.mktemp("liveness")) as running:
        with running.events() as ws:
            assert running.load().status_code == 202
            next_event(ws, {"model.load.completed"}, timeout_s=30)
        yield running


def test_a_long_inference_keeps_heartbeating(gateway: Gateway) -> None:
    (before,) = gateway.workers()
    with gateway.events() as ws:
        started = time.monotonic()
        answer = gateway.transcribe("long_story.wav")
        took = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        # Longer than the heartbeat timeout, so a busy worker that did not beat would be hung.
        assert took > TIMEOUT_S, f"inference took only {took:.2f} s: the test proves nothing"
        with pytest.raises(TimeoutError):
            next_event(ws, {"worker.hung", "worker.lost"}, timeout_s=0.3)
    (after,) = gateway.workers()
    assert after["pid"] == before["pid"]
    assert after["restart_count"] == before["restart_count"]


def test_a_stopped_worker_is_declared_hung_killed_and_replaced(gateway: Gateway) -> None:
    (old,) = gateway.workers()
    with gateway.events() as ws:
        os.kill(old["pid"], signal.SIGSTOP)
        stopped = time.monotonic()
        hung = next_event(ws, {"worker.hung"}, timeout_s=TIMEOUT_S + 2)
        detected = time.monotonic() - stopped
        assert hung["data"]["worker_id"] == "cpu"
        assert hung["data"]["exit"]["reason"] == "hang"
        assert TIMEOUT_S * 0.9 < detected < TIMEOUT_S + 1.5
        lost = next_event(ws, {"worker.lost"}, timeout_s=2)
        assert lost["data"]["exit"]["reason"] == "hang"
        assert lost["data"]["exit"]["signal"] == "SIGKILL"
        events = collect(ws, lambda e: e["t"] == "model.load.completed", timeout_s=30)
    kinds = [e["t"] for e in events]
    assert kinds.index("worker.restarting") < kinds.index("worker.starting")
    assert kinds.index("worker.starting") < kinds.index("worker.ready")
    new = gateway.worker("cpu")
    assert new["pid"] != old["pid"]
    assert new["restart_count"] == old["restart_count"] + 1
    assert new["last_exit"]["reason"] == "hang"
    assert gateway.model_status(MODEL) == "loaded"
    assert gateway.transcribe().status_code == 200
