"""A load over LX_LOAD_TIMEOUT_MS fails with LOADING_TIMEOUT and leaves nothing loaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway_process import GatewayProcess, next_event, running_gateway

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with running_gateway(tmp_path_factory.mktemp("state"), LX_LOAD_TIMEOUT_MS="1") as process:
        yield process


def test_a_load_past_the_timeout_fails_and_keeps_nothing(gateway: GatewayProcess) -> None:
    with gateway.events() as ws, gateway.client() as client:
        assert client.post(f"/api/models/{TINY}/load").status_code == 202
        failed = next_event(ws, {"model.load.failed", "model.load.completed"})
        status = client.get("/api/models/status").json()
        health = client.post(f"/api/models/{TINY}/health-check").json()
    assert failed["t"] == "model.load.failed"
    assert failed["data"]["error_code"] == "LOADING_TIMEOUT"
    assert any("LX_LOAD_TIMEOUT_MS" in tip for tip in failed["data"]["suggestions"])
    (tiny,) = [m for m in status["asr_models"] if m["model_id"] == TINY]
    assert tiny["status"] == "error"
    assert tiny["memory_usage_mb"] == 0
    assert health["checks"]["loading"]["status"] == "fail"
