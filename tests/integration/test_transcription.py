"""Transcription through the gateway: formats, multipart, sessions, bad input, caching."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import av
import pytest

from tests.support.audio_formats import FORMATS, encode
from tests.support.gateway_process import GatewayProcess
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
REFERENCES: dict[str, str] = json.loads((AUDIO / "references.json").read_text())
KITCHEN = AUDIO / "kitchen_lights.wav"


def _post(gateway: GatewayProcess, path: str, **kwargs: Any) -> Any:
    with gateway.client() as client:
        return client.post(path, **kwargs)


@pytest.mark.parametrize("container", sorted(FORMATS))
def test_every_container_is_transcribed(gateway: GatewayProcess, container: str) -> None:
    answer = _post(
        gateway,
        "/api/asr/transcribe",
        content=encode(KITCHEN, container),
        headers={"content-type": f"audio/{'mpeg' if container == 'mp3' else container}"},
    )
    assert answer.status_code == 200, answer.text
    assert word_error_rate(REFERENCES["kitchen_lights.wav"], answer.json()["text"]) <= 0.15


def test_multipart_upload_with_options_in_fields(gateway: GatewayProcess) -> None:
    answer = _post(
        gateway,
        "/api/asr/transcribe",
        files={"file": ("speech.wav", KITCHEN.read_bytes(), "audio/wav")},
        data={"model_id": TINY, "word_timestamps": "true", "beam_size": "2"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_id"] == TINY
    words = [w for segment in body["segments"] for w in segment["words"]]
    assert [w["word"].strip(" .").lower() for w in words] == REFERENCES[
        "kitchen_lights.wav"
    ].split()
    assert all(0 <= w["start"] < w["end"] <= body["duration"] + 0.5 for w in words)
    assert all(0 < w["probability"] <= 1 for w in words)
    timings = body["timings"]
    assert timings["total_ms"] >= timings["inference_ms"] > 0
    assert 0 < timings["real_time_factor"] < 5


def test_session_transcription_uses_the_session_parameters(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        sid = client.post("/api/sessions").json()["session_id"]
        client.put(
            f"/api/sessions/{sid}/models/config",
            json={"asr": {"parameters": {"beam_size": 1, "initial_prompt": "Kitchen lights."}}},
        ).raise_for_status()
        answer = client.post(
            f"/api/sessions/{sid}/transcribe",
            content=(AUDIO / "sunny_day.wav").read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    assert word_error_rate(REFERENCES["sunny_day.wav"], answer.json()["text"]) <= 0.15


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"", "audio/wav", 400, "INVALID_AUDIO"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav", 400, "INVALID_AUDIO"),
        (b'{"not": "audio"}', "application/json", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b"\x01\x02\x03", "audio/L16", 400, "INVALID_AUDIO"),
    ],
)
def test_bad_audio_gets_its_own_4xx_and_the_worker_keeps_serving(
    gateway: GatewayProcess, content: bytes, content_type: str, status: int, code: str
) -> None:
    bad = _post(
        gateway, "/api/asr/transcribe", content=content, headers={"content-type": content_type}
    )
    assert bad.status_code == status, bad.text
    assert bad.json()["error"]["code"] == code
    good = _post(
        gateway,
        "/api/asr/transcribe",
        content=KITCHEN.read_bytes(),
        headers={"content-type": "audio/wav"},
    )
    assert good.status_code == 200


def test_truncated_audio_is_transcribed_as_far_as_it_goes(gateway: GatewayProcess) -> None:
    whole = KITCHEN.read_bytes()
    cut_wav = whole[: len(whole) // 2]  # the header still promises the full length
    with wave.open(str(KITCHEN)) as wav:
        frames = wav.readframes(wav.getnframes())
    cut_pcm = frames[: len(frames) // 4 * 2]  # whole 16-bit samples, half of them
    for content, kind in [(cut_wav, "audio/wav"), (cut_pcm, "audio/L16")]:
        answer = _post(
            gateway, "/api/asr/transcribe", content=content, headers={"content-type": kind}
        )
        assert answer.status_code == 200, answer.text
        assert 0.8 < answer.json()["duration"] < 1.5


def test_bad_options_and_unknown_session_are_4xx(gateway: GatewayProcess) -> None:
    bad = _post(gateway, "/api/asr/transcribe?beam_size=zero", content=KITCHEN.read_bytes())
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "beam_size"
    unknown = _post(gateway, "/api/asr/transcribe?colour=red", content=KITCHEN.read_bytes())
    assert unknown.status_code == 400
    missing = _post(
        gateway, "/api/sessions/sess_0123456789abcdef/transcribe", content=KITCHEN.read_bytes()
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "SESSION_NOT_FOUND"


def test_the_same_audio_twice_is_a_cache_hit(gateway: GatewayProcess) -> None:
    audio = (AUDIO / "apples_oranges.wav").read_bytes()
    first = _post(
        gateway, "/api/asr/transcribe", content=audio, headers={"content-type": "audio/wav"}
    )
    second = _post(
        gateway, "/api/asr/transcribe", content=audio, headers={"content-type": "audio/wav"}
    )
    assert first.json()["text"] == second.json()["text"]
    with gateway.client() as client:
        status = client.get("/api/models/status").json()
    (tiny,) = [m for m in status["asr_models"] if m["model_id"] == TINY]
    assert 0 < tiny["performance_metrics"]["cache_hit_rate"] < 1


def _pcm_at(wav: Path, rate: int) -> bytes:
    """The clip as raw 16-bit mono PCM at `rate`, resampled by libswresample (PyAV), not by
    the service's own resampler."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    chunks: list[bytes] = []
    with av.open(str(wav)) as source:
        for frame in source.decode(audio=0):
            chunks += [bytes(out.planes[0])[: out.samples * 2] for out in resampler.resample(frame)]
    chunks += [bytes(out.planes[0])[: out.samples * 2] for out in resampler.resample(None)]
    return b"".join(chunks)


def test_raw_pcm_at_8khz_is_resampled_and_transcribed(gateway: GatewayProcess) -> None:
    pcm = _pcm_at(KITCHEN, 8_000)
    with wave.open(str(KITCHEN)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert len(pcm) / 2 / 8_000 == pytest.approx(seconds, abs=0.05)
    answer = _post(
        gateway,
        "/api/asr/transcribe",
        content=pcm,
        headers={"content-type": "audio/L16;rate=8000"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert word_error_rate(REFERENCES["kitchen_lights.wav"], body["text"]) <= 0.15
    assert body["duration"] == pytest.approx(seconds, abs=0.05)


def test_raw_pcm_at_a_rate_out_of_range_is_unsupported(gateway: GatewayProcess) -> None:
    answer = _post(
        gateway,
        "/api/asr/transcribe",
        content=b"\x00\x00" * 96_000,
        headers={"content-type": "audio/L16;rate=96000"},
    )
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert (error["details"]["rate"], error["details"]["max_rate"]) == ("96000", 48_000)
