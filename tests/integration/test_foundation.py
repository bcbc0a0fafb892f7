"""The foundation end to end: real gateway, real worker process, real tiny.en weights."""

from __future__ import annotations

import json
import os
import signal
import wave
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway_process import GatewayProcess, next_event
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
REFERENCES: dict[str, str] = json.loads((AUDIO / "references.json").read_text())
LOAD_EVENTS = {"model.load.started", "model.load.progress", "model.load.completed"}


def _status_of(gateway: GatewayProcess, model_id: str) -> dict[str, object]:
    with gateway.client() as client:
        body = client.get("/api/models/status").json()
    matches = [m for m in body["asr_models"] if m["model_id"] == model_id]
    assert len(matches) == 1
    found: dict[str, object] = matches[0]
    return found


def _load_and_wait(gateway: GatewayProcess) -> list[dict[str, Any]]:
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post(f"/api/models/{MODEL}/load", json={"preload_cache": True})
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "loading"
        assert answer.json()["model_id"] == MODEL
        events = [next_event(ws, LOAD_EVENTS | {"model.load.failed"})]
        while events[-1]["t"] not in ("model.load.completed", "model.load.failed"):
            events.append(next_event(ws, LOAD_EVENTS | {"model.load.failed"}))
    return events


def test_load_streams_started_progress_completed_in_order(gateway: GatewayProcess) -> None:
    events = _load_and_wait(gateway)
    kinds = [e["t"] for e in events]
    assert kinds[0] == "model.load.started"
    assert kinds[-1] == "model.load.completed", events[-1]
    assert set(kinds[1:-1]) == {"model.load.progress"}
    stages = [e["data"]["stage"] for e in events[1:-1]]
    assert stages == ["resolving", "loading_weights", "warming_up"]
    for event in events:
        assert event["v"] == 1
        assert event["data"]["model_id"] == MODEL
    completed = events[-1]["data"]
    assert completed["ready_for_inference"] is True
    assert completed["memory_usage_mb"] > 0

    status = _status_of(gateway, MODEL)
    assert status["status"] == "loaded"
    assert isinstance(status["memory_usage_mb"], float) and status["memory_usage_mb"] > 0


def test_second_load_answers_loaded(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        answer = client.post(f"/api/models/{MODEL}/load")
    assert answer.status_code == 200
    assert answer.json()["status"] == "loaded"


@pytest.mark.parametrize("name", ["kitchen_lights.wav", "sunny_day.wav"])
def test_transcribes_fixture_within_wer_bound(gateway: GatewayProcess, name: str) -> None:
    with gateway.client() as client:
        answer = client.post(
            "/api/asr/transcribe",
            params={"model_id": MODEL},
            content=(AUDIO / name).read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert word_error_rate(REFERENCES[name], body["text"]) <= 0.15, body["text"]
    assert body["device"] == "cpu"
    assert body["duration"] > 1.0
    assert body["segments"] and body["segments"][0]["end"] > body["segments"][0]["start"]
    assert body["timings"]["inference_ms"] > 0


def test_raw_pcm_is_transcribed(gateway: GatewayProcess) -> None:
    with wave.open(str(AUDIO / "kitchen_lights.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        pcm = wav.readframes(wav.getnframes())
    with gateway.client() as client:
        answer = client.post(
            "/api/asr/transcribe", content=pcm, headers={"content-type": "audio/L16; rate=16000"}
        )
    assert answer.status_code == 200, answer.text
    assert word_error_rate(REFERENCES["kitchen_lights.wav"], answer.json()["text"]) <= 0.15


def test_bytes_that_are_not_audio_get_invalid_audio_and_the_worker_keeps_serving(
    gateway: GatewayProcess,
) -> None:
    with gateway.client() as client:
        bad = client.post(
            "/api/asr/transcribe",
            content=b"this is not audio at all",
            headers={"content-type": "audio/wav"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "INVALID_AUDIO"
        good = client.post(
            "/api/asr/transcribe",
            content=(AUDIO / "open_window.wav").read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert good.status_code == 200
    assert word_error_rate(REFERENCES["open_window.wav"], good.json()["text"]) <= 0.15


def test_status_counts_inferences(gateway: GatewayProcess) -> None:
    status = _status_of(gateway, MODEL)
    assert isinstance(status["inference_count"], int) and status["inference_count"] >= 3
    metrics = status["performance_metrics"]
    assert isinstance(metrics, dict) and metrics["avg_inference_time_ms"] > 0


def test_unload_reports_memory_freed(gateway: GatewayProcess) -> None:
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post(f"/api/models/{MODEL}/unload")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "unloaded"
        assert body["model_id"] == MODEL
        assert body["memory_freed_mb"] > 0
        assert body["unloaded_at"].endswith("+00:00")
        event = next_event(ws, {"model.unloaded"})
    assert event["data"]["memory_freed_mb"] == body["memory_freed_mb"]
    assert _status_of(gateway, MODEL)["status"] == "not_loaded"
    with gateway.client() as client:
        again = client.post(f"/api/models/{MODEL}/unload")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "MODEL_NOT_LOADED"


def test_killed_worker_is_reported_and_replaced_and_its_model_restored(
    gateway: GatewayProcess,
) -> None:
    _load_and_wait(gateway)
    (old,) = gateway.workers()
    with gateway.events() as ws:
        os.kill(old["pid"], signal.SIGKILL)
        lost = next_event(ws, {"worker.lost"}, timeout_s=5)
        assert lost["data"]["worker_id"] == old["worker_id"]
        assert "SIGKILL" in lost["data"]["reason"]
        ready = next_event(ws, {"worker.ready"}, timeout_s=5)
        assert ready["data"]["pid"] != old["pid"]
        # The model it held comes back without anyone asking.
        restored = next_event(ws, {"model.load.completed"}, timeout_s=30)
        assert restored["data"]["model_id"] == MODEL
    (new,) = gateway.workers()
    assert new["pid"] != old["pid"]
    assert new["restart_count"] == old["restart_count"] + 1
    assert new["last_exit"]["signal"] == "SIGKILL"
    assert _status_of(gateway, MODEL)["status"] == "loaded"
    with gateway.client() as client:
        answer = client.post(
            "/api/asr/transcribe",
            content=(AUDIO / "kitchen_lights.wav").read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200
