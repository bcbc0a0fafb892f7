"""Health checks run a real small inference on the model, ASR and translation alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import LOCAL_MT_MODEL
from tests.support.gateway_process import GatewayProcess, next_event

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"


def _check(gateway: GatewayProcess, model_id: str) -> dict[str, Any]:
    with gateway.client() as client:
        answer = client.post(f"/api/models/{model_id}/health-check")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["model_id"] == model_id
    assert body["checked_at"].endswith("+00:00")
    return body


def _load(gateway: GatewayProcess, model_id: str) -> None:
    with gateway.events() as ws, gateway.client() as client:
        assert client.post(f"/api/models/{model_id}/load").status_code == 202
        outcome = next_event(ws, {"model.load.completed", "model.load.failed"})
    assert outcome["t"] == "model.load.completed", outcome


def _inference_count(gateway: GatewayProcess, model_id: str) -> int:
    with gateway.client() as client:
        body = client.get("/api/models/status").json()
    (found,) = [m for m in body["asr_models"] + body["mt_models"] if m["model_id"] == model_id]
    count: int = found["inference_count"]
    return count


def test_a_model_not_loaded_is_unhealthy_and_told_to_load(gateway: GatewayProcess) -> None:
    body = _check(gateway, "openai/whisper-base")
    assert body["status"] == "unhealthy"
    assert body["checks"]["loading"]["status"] == "fail"
    assert body["checks"]["inference"]["status"] == "fail"
    assert any("/load" in tip for tip in body["recommendations"])


def test_a_loaded_asr_model_passes_a_real_inference(gateway: GatewayProcess) -> None:
    _load(gateway, TINY)
    body = _check(gateway, TINY)
    assert body["status"] in ("healthy", "degraded")
    assert body["checks"]["loading"]["status"] == "pass"
    assert body["checks"]["inference"]["status"] == "pass"
    assert body["checks"]["inference"]["latency_ms"] > 0
    assert body["checks"]["memory"]["usage_mb"] > 0
    assert body["checks"]["memory"]["limit_mb"] > body["checks"]["memory"]["usage_mb"]
    assert "gpu" not in body["checks"]
    # The probe is not a served request.
    assert _inference_count(gateway, TINY) == 0


def test_a_loaded_translation_model_passes_a_real_inference(gateway: GatewayProcess) -> None:
    _load(gateway, LOCAL_MT_MODEL)
    body = _check(gateway, LOCAL_MT_MODEL)
    assert body["checks"]["inference"]["status"] == "pass", body
    assert body["checks"]["inference"]["latency_ms"] > 0
