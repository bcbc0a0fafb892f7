"""An idle model is unloaded after the idle timeout, and the event says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway_process import GatewayProcess, next_event, running_gateway

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {"LX_AUTO_UNLOAD_TIMEOUT_MS": "700", "LX_CACHE_CHECK_INTERVAL_MS": "50"}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


def test_idle_model_is_evicted_after_the_timeout(gateway: GatewayProcess) -> None:
    with gateway.events() as ws, gateway.client() as client:
        assert client.post(f"/api/models/{TINY}/load").status_code == 202
        completed = next_event(ws, {"model.load.completed"})
        evicted = next_event(ws, {"model.evicted"}, timeout_s=10)
        status = client.get("/api/models/status").json()
    assert completed["data"]["model_id"] == TINY
    assert evicted["data"]["model_id"] == TINY
    assert evicted["data"]["reason"] == "idle_timeout"
    assert evicted["data"]["memory_freed_mb"] > 0
    (tiny,) = [m for m in status["asr_models"] if m["model_id"] == TINY]
    assert tiny["status"] == "not_loaded"
