"""What a content type says about an upload: container or raw PCM, and at what rate."""

from __future__ import annotations

import pytest

from gateway.transcription.upload import audio_format_of
from protocol.errors import ErrorCode, ServiceError


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("audio/wav", ("container", 16_000)),
        ("", ("container", 16_000)),
        ("audio/L16", ("pcm_s16le", 16_000)),
        ("audio/L16;rate=8000", ("pcm_s16le", 8_000)),
        ("audio/l16; rate=48000; channels=1", ("pcm_s16le", 48_000)),
        ('audio/pcm; rate="22050"', ("pcm_s16le", 22_050)),
    ],
)
def test_content_types_name_the_encoding_and_rate(
    content_type: str, expected: tuple[str, int]
) -> None:
    assert audio_format_of(content_type) == expected


@pytest.mark.parametrize(
    ("content_type", "detail"),
    [
        ("audio/L16;rate=7999", "rate"),
        ("audio/L16;rate=96000", "rate"),
        ("audio/L16;rate=fast", "rate"),
        ("audio/L16;rate=8000;channels=2", "channels"),
        ("text/plain", "content_type"),
    ],
)
def test_audio_it_cannot_read_is_unsupported_media(content_type: str, detail: str) -> None:
    with pytest.raises(ServiceError) as caught:
        audio_format_of(content_type)
    assert caught.value.code == ErrorCode.UNSUPPORTED_MEDIA_TYPE
    assert detail in caught.value.details
