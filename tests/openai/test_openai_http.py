"""The OpenAI-compatible routes over plain HTTP, as curl sends them, and their errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.openai.conftest import MULTILINGUAL_MODEL, UPLOAD_LIMIT_MB
from tests.support.audio import clip_path, load_references
from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

CLIP = "kitchen_lights.wav"
WAV = clip_path(CLIP).read_bytes()
TRANSCRIPTIONS = "/v1/audio/transcriptions"


def post(
    gateway: GatewayProcess,
    fields: dict[str, Any],
    file: tuple[str, bytes, str] = ("speech.wav", WAV, "audio/wav"),
    path: str = TRANSCRIPTIONS,
) -> httpx.Response:
    with gateway.client() as client:
        return client.post(path, files={"file": file}, data=fields)


def test_curl_style_upload_returns_the_spoken_words(gateway: GatewayProcess) -> None:
    # curl -F file=@speech.wav -F model=openai/whisper-tiny.en .../v1/audio/transcriptions
    answer = post(gateway, {"model": "openai/whisper-tiny.en"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"text"}
    assert word_error_rate(load_references()[CLIP], body["text"]) <= 0.15


def test_no_model_field_means_the_default_model(gateway: GatewayProcess) -> None:
    answer = post(gateway, {}, file=("speech", WAV, "application/octet-stream"))
    assert answer.status_code == 200, answer.text
    assert word_error_rate(load_references()[CLIP], answer.json()["text"]) <= 0.15


def test_formats_carry_their_content_types(gateway: GatewayProcess) -> None:
    types = {"text": "text/plain", "srt": "text/plain", "vtt": "text/vtt"}
    for response_format, media_type in types.items():
        answer = post(gateway, {"model": "whisper-1", "response_format": response_format})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert answer.text.startswith("WEBVTT\n\n00:00:00.")


def test_granularities_as_a_form_list(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        answer = client.post(
            TRANSCRIPTIONS,
            files=[
                ("file", ("speech.wav", WAV, "audio/wav")),
                ("model", (None, b"whisper-1")),
                ("response_format", (None, b"verbose_json")),
                ("timestamp_granularities[]", (None, b"word")),
                ("timestamp_granularities[]", (None, b"segment")),
            ],
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["task"] == "transcribe"
    assert set(body) == {"task", "language", "duration", "text", "segments", "words"}
    assert set(body["segments"][0]) == {
        "id", "seek", "start", "end", "text", "tokens", "temperature",
        "avg_logprob", "compression_ratio", "no_speech_prob",
    }  # fmt: skip
    assert set(body["words"][0]) == {"word", "start", "end"}


def test_verbose_json_without_granularities_has_segments_only(gateway: GatewayProcess) -> None:
    body = post(gateway, {"response_format": "verbose_json"}).json()
    assert body["segments"]
    assert "words" not in body


@pytest.mark.parametrize(
    "bad_file",
    [
        pytest.param(("notes.txt", b"just some text, no sound", "text/plain"), id="text"),
        pytest.param(("speech.wav", b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"), id="truncated"),
        pytest.param(("speech.wav", b"", "audio/wav"), id="empty"),
    ],
)
def test_non_audio_files_are_invalid_audio(
    gateway: GatewayProcess, bad_file: tuple[str, bytes, str]
) -> None:
    error_of(post(gateway, {"model": "whisper-1"}, file=bad_file), 400, "INVALID_AUDIO")


def test_an_upload_over_the_limit_is_refused(gateway: GatewayProcess) -> None:
    big = b"\x00" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 1)
    answer = post(gateway, {"model": "whisper-1"}, file=("big.wav", big, "audio/wav"))
    error_of(answer, 413, "PAYLOAD_TOO_LARGE")


def test_a_raw_body_is_refused_with_a_hint(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        answer = client.post(TRANSCRIPTIONS, content=WAV, headers={"content-type": "audio/wav"})
    assert "multipart/form-data" in error_of(answer, 400, "INVALID_REQUEST")["message"]


def test_an_unknown_model_is_not_found_with_suggestions(gateway: GatewayProcess) -> None:
    error = error_of(post(gateway, {"model": "openai/whisper-tiny.enn"}), 404, "MODEL_NOT_FOUND")
    assert "openai/whisper-tiny.en" in error["details"]["suggested_alternatives"]


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"model": "facebook/nllb-200-distilled-600M"}, 400, "CONFIGURATION_ERROR", "model"),
        ({"response_format": "diarized_json"}, 400, "INVALID_REQUEST", "response_format"),
        ({"temperature": "1.5"}, 400, "CONFIGURATION_ERROR", "temperature"),
        ({"temperature": "warm"}, 400, "CONFIGURATION_ERROR", "temperature"),
        ({"timestamp_granularities[]": "char"}, 400, "INVALID_REQUEST", None),
        ({"language": "fr"}, 400, "CONFIGURATION_ERROR", "language"),  # tiny.en: English only
        ({"language": "xx-nope"}, 400, "CONFIGURATION_ERROR", None),
    ],
)
def test_bad_fields_get_clear_errors(
    gateway: GatewayProcess, fields: dict[str, str], status: int, code: str, field: str | None
) -> None:
    error = error_of(post(gateway, {"model": "whisper-1", **fields}), status, code)
    if field is not None:
        assert error["details"]["field"] == field


def test_a_language_the_model_knows_is_taken(gateway: GatewayProcess) -> None:
    answer = post(gateway, {"model": MULTILINGUAL_MODEL, "language": "de"})
    assert answer.status_code == 200, answer.text


def test_translation_refuses_an_english_only_model(gateway: GatewayProcess) -> None:
    answer = post(gateway, {"model": "whisper-1"}, path="/v1/audio/translations")
    error = error_of(answer, 400, "CONFIGURATION_ERROR")
    assert MULTILINGUAL_MODEL in error["details"]["suggested_alternatives"]


def test_models_routes(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        listing = client.get("/v1/models").json()
        one = client.get("/v1/models/whisper-1").json()
        missing = client.get("/v1/models/nope")
    assert listing["object"] == "list"
    assert {"id", "object", "created", "owned_by"} == set(listing["data"][0])
    assert listing["data"][0]["id"] == "whisper-1"
    assert one == {"id": "whisper-1", "object": "model", "created": 0, "owned_by": "openai"}
    error_of(missing, 404, "MODEL_NOT_FOUND")
