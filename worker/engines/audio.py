"""Audio bytes to the 16 kHz mono float32 samples Whisper expects.

Containers are decoded (and resampled) by PyAV through faster-whisper. Raw mono samples,
16-bit integers or 32-bit floats, are scaled to [-1, 1] and resampled from their own rate
(8 to 48 kHz) with a windowed-sinc filter. `to_float32_16k` is the entry point for raw
audio from anywhere (an upload, a live stream's chunk); `decode_audio` for any upload.
"""

from __future__ import annotations

import io
from functools import lru_cache
from math import gcd

import numpy as np
import numpy.typing as npt

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    WHISPER_SAMPLE_RATE,
    AudioEncoding,
    RawEncoding,
)

Samples = npt.NDArray[np.float32]

_SAMPLE_BYTES: dict[RawEncoding, int] = {"pcm_s16le": 2, "f32le": 4}
# Zero crossings of the sinc kept on each side (at the lower of the two rates), and the
# Kaiser window's shape: together about 80 dB of stop-band rejection, far below what Whisper
# hears, at 32 taps per output sample when upsampling.
_ZERO_CROSSINGS = 16
_KAISER_BETA = 8.0
_BLOCK = 16_384  # output samples computed at once: bounds the temporary arrays to a few MB


def decode_audio(
    data: bytes, encoding: AudioEncoding, sample_rate: int = WHISPER_SAMPLE_RATE
) -> Samples:
    """Any upload: a container (its own rate), or raw samples at `sample_rate`."""
    if not data:
        raise ServiceError(ErrorCode.INVALID_AUDIO, "The audio is empty.", {"bytes": 0})
    if encoding == "container":
        return _decode_container(data)
    return to_float32_16k(data, encoding, sample_rate)


def to_float32_16k(raw: bytes, encoding: RawEncoding, rate: int) -> Samples:
    """Raw mono samples at `rate` Hz as Whisper's input: float32 in [-1, 1] at 16 kHz."""
    check_sample_rate(rate)
    return resample(raw_to_float32(raw, encoding), rate)


def raw_to_float32(raw: bytes, encoding: RawEncoding) -> Samples:
    """Raw little-endian samples as float32 in [-1, 1], at their own rate."""
    width = _SAMPLE_BYTES[encoding]
    if len(raw) % width:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            f"Raw {encoding} audio must be whole {8 * width}-bit samples: "
            f"{len(raw)} bytes is not a multiple of {width}.",
            {"bytes": len(raw), "encoding": encoding},
        )
    if encoding == "pcm_s16le":
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    samples = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(samples).all():
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            "Raw f32le audio holds samples that are not numbers (NaN or infinite).",
            {"bytes": len(raw), "encoding": encoding},
        )
    return samples


def check_sample_rate(rate: int) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            f"Raw audio at {rate} Hz is not supported: the rate must be from "
            f"{MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz.",
            {"rate": rate, "min_rate": MIN_SAMPLE_RATE, "max_rate": MAX_SAMPLE_RATE},
        )


def resample(samples: Samples, rate: int, target: int = WHISPER_SAMPLE_RATE) -> Samples:
    """`samples` at `rate` Hz, band-limited and resampled to `target` Hz. The output spans
    the same time: ceil(len * target / rate) samples, the first at the same instant."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    step = gcd(rate, target)
    up, down = target // step, rate // step
    bank = _filter_bank(up, down)
    half = bank.shape[1] // 2
    padding = np.zeros(half)
    padded = np.concatenate([padding, samples.astype(np.float64), padding])
    # windows[i] holds input samples i - half .. i + half - 1 (zeros beyond the ends).
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half)
    count = -(-samples.size * up // down)
    out = np.empty(count, dtype=np.float32)
    for start in range(0, count, _BLOCK):
        n = np.arange(start, min(start + _BLOCK, count), dtype=np.int64)
        # Output n lies at input position n * down / up: after sample `base`, at `phase`/up.
        base, phase = np.divmod(n * down, up)
        out[start : start + n.size] = np.einsum("ij,ij->i", windows[base + 1], bank[phase])
    return out


@lru_cache(maxsize=8)
def _filter_bank(up: int, down: int) -> npt.NDArray[np.float64]:
    """Row p: the taps for an output that lies p/up of an input sample after the last input
    sample at or before it. The low-pass cuts at the lower of the two Nyquist rates."""
    cutoff = min(1.0, up / down)  # as a fraction of the input's Nyquist rate
    reach = _ZERO_CROSSINGS / cutoff  # in input samples, each side
    half = int(np.ceil(reach))
    offsets = np.arange(-half + 1, half + 1)  # taps from base - half + 1 to base + half
    t = np.arange(up)[:, None] / up - offsets[None, :]  # distance from each tap, in samples
    inside = np.clip(1.0 - (t / reach) ** 2, 0.0, None)
    taps = cutoff * np.sinc(cutoff * t) * np.i0(_KAISER_BETA * np.sqrt(inside))
    taps[np.abs(t) > reach] = 0.0
    bank: npt.NDArray[np.float64] = taps / taps.sum(axis=1, keepdims=True)  # unit gain at DC
    bank.setflags(write=False)
    return bank


def _decode_container(data: bytes) -> Samples:
    # faster-whisper decodes through PyAV: WAV, FLAC, MP3, Ogg, WebM and more.
    from faster_whisper.audio import decode_audio as fw_decode

    try:
        samples = fw_decode(io.BytesIO(data), sampling_rate=WHISPER_SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many error types for bytes that are not audio
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            "The request body is not audio that can be decoded.",
            {"reason": str(exc)[:200], "bytes": len(data)},
        ) from exc
    result: Samples = np.asarray(samples, dtype=np.float32)
    if result.size == 0:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO, "The audio holds no samples.", {"bytes": len(data)}
        )
    return result
