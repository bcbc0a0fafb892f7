"""Model ids resolve to bundled weights, the Hugging Face cache, or a clear DOWNLOAD_REQUIRED."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import CACHED_MODEL, CACHED_MODEL_LANGUAGE
from tests.support.builders.fixtures import TINY_WHISPER_PHRASE
from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess, next_event

pytestmark = pytest.mark.integration

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
OUTCOME = {"model.load.completed", "model.load.failed"}


def test_a_model_in_the_hub_cache_loads_from_it_offline(gateway: GatewayProcess) -> None:
    with gateway.events() as ws, gateway.client() as client:
        assert client.post(f"/api/models/{CACHED_MODEL}/load").status_code == 202
        outcome = next_event(ws, OUTCOME)
        assert outcome["t"] == "model.load.completed", outcome
        answer = client.post(
            "/api/asr/transcribe",
            params={"model_id": CACHED_MODEL},
            content=(AUDIO / "sunny_day.wav").read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    # The suite's tiny Whisper says its phrase in its language whatever it hears: this
    # proves the cached weights, not the bundled tiny.en, served the request.
    assert answer.json()["text"] == TINY_WHISPER_PHRASE
    assert answer.json()["language"] == CACHED_MODEL_LANGUAGE


def test_a_model_not_on_this_machine_fails_with_download_required(
    gateway: GatewayProcess,
) -> None:
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post("/api/models/openai/whisper-small/load")
        # Offline and not on disk: refused at once, before any worker is asked.
        refused = error_of(answer, 409, "DOWNLOAD_REQUIRED")
        assert refused["details"]["repo_id"] == "Systran/faster-whisper-small"
        assert refused["details"]["offline"] is True
        failed = next_event(ws, OUTCOME)
        assert failed["t"] == "model.load.failed"
        assert failed["data"]["model_id"] == "openai/whisper-small"
        assert failed["data"]["error_code"] == "DOWNLOAD_REQUIRED"
        assert "Systran/faster-whisper-small" in failed["data"]["error_message"]
        assert failed["data"]["details"]["repo_id"] == "Systran/faster-whisper-small"
        assert failed["data"]["details"]["offline"] is True
        assert failed["data"]["suggestions"]
        status = client.get("/api/models/status").json()
    (small,) = [m for m in status["asr_models"] if m["model_id"] == "openai/whisper-small"]
    assert small["status"] == "error"
    assert "Systran/faster-whisper-small" in small["error_message"]
