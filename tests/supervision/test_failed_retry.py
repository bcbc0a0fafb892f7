"""A crash-looping worker is `failed`, `/readyz` says 503, and after a cool-down that grows
it is tried again: once the cause is gone it serves without an operator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.supervision.harness import Gateway, gateway_running
from tests.support.envelope import error_of

pytestmark = pytest.mark.integration

# Imported by every Python started with this folder on PYTHONPATH: a worker (its command
# line has --connect) exits at once while the flag file exists. The gateway is unaffected.
_SITECUSTOMIZE = """
import os, sys
flag = os.environ.get("TEST_WORKER_CRASHES_WHILE")
if flag and "--connect" in sys.argv and os.path.exists(flag):
    os._exit(3)
"""

COOLDOWN_MS = 1500


def _failed(gateway: Gateway) -> bool:
    return gateway.state_of("cpu") == "failed"


def _cool_downs(gateway: Gateway, count: int, timeout_s: float) -> list[float]:
    """Seconds from each of the next `count` `worker.failed` events to the `worker.starting`
    that follows it."""
    waits: list[float] = []
    failed_at: float | None = None
    deadline = time.monotonic() + timeout_s
    with gateway.events() as ws:
        while len(waits) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"saw only {waits}"
            kind = json.loads(ws.recv(timeout=remaining))["t"]
            if kind == "worker.failed":
                failed_at = time.monotonic()
            elif kind == "worker.starting" and failed_at is not None:
                waits.append(time.monotonic() - failed_at)
                failed_at = None
    return waits


def test_a_failed_worker_is_retried_after_a_growing_cool_down_and_serves_again(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    flag = tmp_path / "crash"
    flag.touch()
    env = {
        "PYTHONPATH": str(site),
        "TEST_WORKER_CRASHES_WHILE": str(flag),
        "LX_WORKER_CRASH_LOOP_LIMIT": "2",
        "LX_WORKER_FAILED_RETRY_MS": str(COOLDOWN_MS),
        "LX_WORKER_FAILED_RETRY_MAX_MS": "60000",
    }
    with gateway_running(tmp_path, ready=_failed, **env) as gateway:
        with gateway.client() as client:
            error = error_of(client.get("/readyz"), 503, "WORKER_UNAVAILABLE")
        assert "failed" in error["message"]
        # It is failed already (its first cool-down runs): the next two are 2x and 4x it.
        waits = _cool_downs(gateway, 2, timeout_s=40)
        base = COOLDOWN_MS / 1000
        assert 2 * base * 0.9 <= waits[0] < 2 * base + 1.5, waits
        assert 4 * base * 0.9 <= waits[1] < 4 * base + 1.5, waits

        flag.unlink()  # the cause goes away: the next retry stays up
        gateway.wait_state("cpu", {"ready"}, timeout_s=30)
        with gateway.client() as client:
            assert client.get("/readyz").status_code == 200
        assert gateway.load().status_code == 202
        gateway.wait_for(lambda: gateway.model_status() == "loaded", 60, "the model loaded")
        answer = gateway.transcribe()
        assert answer.status_code == 200, answer.text
        assert "kitchen" in answer.json()["text"].lower()
