"""Readiness and the refusal to serve every address without a token, on real processes:
`/readyz` is 503 while no worker can serve and 200 once one can, while `/healthz` answers
200 all along (liveness) with an honest status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.envelope import error_of
from tests.support.gateway_process import free_port, gateway_process, running_gateway

pytestmark = pytest.mark.integration


def test_no_token_on_every_address_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LX_HOST": "0.0.0.0",
        "LX_PORT": str(free_port()),
        "LX_STATE_DIR": str(tmp_path),
        "LX_WORKER_DEVICES": "",
    }
    env.pop("LX_API_TOKEN", None)
    env.pop("LX_ALLOW_INSECURE", None)
    started = subprocess.run(
        [sys.executable, "-m", "gateway"], env=env, capture_output=True, timeout=60, check=False
    )
    assert started.returncode != 0
    message = started.stderr.decode()
    assert "LX_HOST='0.0.0.0' is not a loopback address" in message
    assert "LX_API_TOKEN" in message and "LX_ALLOW_INSECURE=1" in message


def test_insecure_on_every_address_starts_and_is_not_ready_without_a_worker(
    tmp_path: Path,
) -> None:
    # No worker at all: it listens (checked over loopback only) but cannot serve.
    env = {"LX_HOST": "0.0.0.0", "LX_ALLOW_INSECURE": "1", "LX_WORKER_DEVICES": ""}
    with gateway_process(tmp_path, env, wait_workers=False) as gateway, gateway.client() as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "degraded", "workers": []}
        ready = client.get("/readyz")
        error = error_of(ready, 503, "WORKER_UNAVAILABLE")
        assert error["details"]["model_id"] == "openai/whisper-tiny.en"
        assert ready.headers["retry-after"] == "1"


def test_readyz_follows_the_worker(tmp_path: Path) -> None:
    # A restart delay long enough to see the gap between the worker's death and its return.
    with (
        running_gateway(tmp_path, LX_WORKER_RESTART_BACKOFF_MS="3000") as gateway,
        gateway.client() as client,
    ):
        assert client.get("/readyz").status_code == 200
        pid = client.get("/api/workers/cpu").json()["pid"]
        os.kill(pid, signal.SIGKILL)

        def not_ready() -> bool:
            return client.get("/readyz").status_code == 503

        gateway.wait_for(not_ready, 10, "/readyz to say 503 while the worker is gone")
        health = client.get("/healthz")
        assert health.status_code == 200  # liveness: the gateway itself is fine
        assert health.json()["status"] == "degraded"
        error = error_of(client.get("/readyz"), 503, "WORKER_UNAVAILABLE")
        assert error["details"]["workers"][0]["state"] != "ready"
        gateway.wait_for(
            lambda: client.get("/readyz").status_code == 200, 60, "/readyz back to 200"
        )
        assert client.get("/healthz").json()["status"] == "ok"
