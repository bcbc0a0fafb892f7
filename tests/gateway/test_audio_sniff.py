"""An upload's first bytes decide whether it can be audio, before any work is queued."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.transcription.audio_sniff import check_audio_bytes, container_name
from protocol.errors import ErrorCode, ServiceError
from tests.support.audio_formats import FORMATS, encode
from tests.support.envelope import error_of

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00"
    b":~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND"
)


@pytest.mark.parametrize("container", sorted(FORMATS))
def test_every_container_the_suite_encodes_is_audio(container: str) -> None:
    data = encode(AUDIO / "sunny_day.wav", container)
    assert container_name(data[:256]) is not None
    check_audio_bytes(data, "container")


def test_the_fixture_wavs_are_audio() -> None:
    for wav in AUDIO.glob("*.wav"):
        check_audio_bytes(wav.read_bytes(), "container")


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (PNG, "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x00\x00", "a ZIP archive"),
        (b'{"text": "no sound here"}', "text"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\xf0", "no audio format this service knows"),
    ],
)
def test_what_is_not_audio_is_refused_saying_what_it_looks_like(
    data: bytes, looks_like: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        check_audio_bytes(data, "container")
    assert caught.value.code is ErrorCode.INVALID_AUDIO
    assert caught.value.details["looks_like"] == looks_like
    assert looks_like in caught.value.message


def test_raw_pcm_must_be_whole_samples_and_not_empty() -> None:
    check_audio_bytes(PNG + b"\x00", "pcm_s16le")  # any whole samples are PCM
    for data in (b"", b"\x00\x01\x02"):
        with pytest.raises(ServiceError) as caught:
            check_audio_bytes(data, "pcm_s16le")
        assert caught.value.code is ErrorCode.INVALID_AUDIO
    with pytest.raises(ServiceError):
        check_audio_bytes(b"", "container")


def test_a_png_upload_is_refused_by_the_gateway_itself(client: TestClient) -> None:
    # No worker runs behind this app: the refusal comes before any work would be queued.
    raw = client.post("/api/asr/transcribe", content=PNG, headers={"content-type": "audio/wav"})
    assert error_of(raw, 400, "INVALID_AUDIO")["details"]["looks_like"] == "a PNG image"
    # A part with no audio type of its own (as schemathesis sent it) is judged by its bytes.
    part = {"file": ("file.png", PNG, "application/octet-stream")}
    error_of(client.post("/api/asr/transcribe", files=part), 400, "INVALID_AUDIO")
    error_of(client.post("/v1/audio/transcriptions", files=part), 400, "INVALID_AUDIO")
    typed = client.post("/api/asr/transcribe", files={"file": ("file.png", PNG, "image/png")})
    error_of(typed, 415, "UNSUPPORTED_MEDIA_TYPE")
