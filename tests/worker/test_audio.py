from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import AudioEncoding
from worker.engines.audio import decode_audio

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


def test_pcm_samples_are_scaled_to_unit_range() -> None:
    raw = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    samples = decode_audio(raw, "pcm_s16le")
    assert samples.dtype == np.float32
    assert samples.tolist() == pytest.approx([0.0, 0.5, -1.0, 32767 / 32768])


def test_wav_decodes_to_16k_mono() -> None:
    samples = decode_audio((AUDIO / "kitchen_lights.wav").read_bytes(), "container")
    assert samples.ndim == 1
    assert samples.size > 1.5 * 16_000  # the clip is 2.3 s long
    assert samples.size < 6 * 16_000
    assert float(np.abs(samples).max()) > 0.05


@pytest.mark.parametrize(
    ("data", "audio_format"),
    [
        (b"", "container"),
        (b"", "pcm_s16le"),
        (b"\x00\x01\x02", "pcm_s16le"),
        (b"hello", "container"),
    ],
)
def test_bad_audio_is_invalid_audio(data: bytes, audio_format: AudioEncoding) -> None:
    with pytest.raises(ServiceError) as caught:
        decode_audio(data, audio_format)
    assert caught.value.code == ErrorCode.INVALID_AUDIO


def test_truncated_wav_is_refused_or_shorter() -> None:
    whole = (AUDIO / "kitchen_lights.wav").read_bytes()
    with pytest.raises(ServiceError) as caught:
        decode_audio(whole[:30], "container")
    assert caught.value.code == ErrorCode.INVALID_AUDIO
