"""A worker that keeps dying is restarted with backoff, then marked failed with its cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT
from tests.supervision.harness import Gateway, collect, gateway_running

pytestmark = pytest.mark.integration

LIMIT = 3


def _failed(gateway: Gateway) -> bool:
    return gateway.state_of("cpu") == "failed"


def test_crash_loop_ends_in_failed_with_the_last_exit_and_an_operator_can_retry(
    tmp_path: Path,
) -> None:
    # A 1 MB cap is below any Python process: every start ends at once with reason oom.
    env = {"LX_WORKER_MEMORY_LIMIT_MB": "1", "LX_WORKER_CRASH_LOOP_LIMIT": str(LIMIT)}
    with gateway_running(tmp_path, ready=_failed, **env) as gateway:
        worker = gateway.worker("cpu")
        assert worker["restart_count"] == LIMIT - 1
        assert worker["last_exit"]["reason"] == "oom"
        assert worker["last_exit"]["code"] == EXIT_MEMORY_LIMIT
        assert "memory limit of 1 MB" in worker["last_exit"]["message"]
        with gateway.client() as client:
            health = client.get("/healthz").json()
            assert health["status"] == "degraded"
            # No worker can serve: the answer comes at once, not after a ready timeout.
            answer = client.post(
                "/api/models/openai/whisper-tiny.en/load",
                json={"compute_config": {"device": "cpu"}},
            )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "WORKER_UNAVAILABLE"
        with gateway.events() as ws, gateway.client() as client:
            retry = client.post("/api/workers/cpu/restart")
            assert retry.status_code == 202, retry.text
            events = collect(ws, lambda e: e["t"] == "worker.failed", timeout_s=15)
        kinds = [e["t"] for e in events]
        assert kinds.count("worker.starting") == LIMIT  # a fresh crash-loop allowance
        assert events[-1]["data"]["exit"]["reason"] == "oom"
        assert "oom" in gateway.log() or "memory" in gateway.log()
