"""Audio bytes to the 16 kHz mono float32 samples Whisper expects."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt

from protocol.errors import ErrorCode, ServiceError

SAMPLE_RATE = 16_000


def decode_audio(data: bytes, audio_format: str) -> npt.NDArray[np.float32]:
    if not data:
        raise ServiceError(ErrorCode.INVALID_AUDIO, "The audio is empty.", {"bytes": 0})
    if audio_format == "pcm_s16le_16k":
        return _decode_pcm(data)
    return _decode_container(data)


def _decode_pcm(data: bytes) -> npt.NDArray[np.float32]:
    if len(data) % 2:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            "Raw PCM must be 16-bit samples: the byte count is odd.",
            {"bytes": len(data)},
        )
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32)
    return samples / 32768.0


def _decode_container(data: bytes) -> npt.NDArray[np.float32]:
    # faster-whisper decodes through PyAV: WAV, FLAC, MP3, Ogg, WebM and more.
    from faster_whisper.audio import decode_audio as fw_decode

    try:
        samples = fw_decode(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many error types for bytes that are not audio
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            "The request body is not audio that can be decoded.",
            {"reason": str(exc)[:200], "bytes": len(data)},
        ) from exc
    result: npt.NDArray[np.float32] = np.asarray(samples, dtype=np.float32)
    if result.size == 0:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO, "The audio holds no samples.", {"bytes": len(data)}
        )
    return result
