"""Audio bytes as windows of 16 kHz samples, decoded as they are needed.

A whole file decoded at once costs memory in proportion to its length: its samples (64 kB
per second) and, far more, faster-whisper's features of all of it (about 0.85 MB per
second, measured with tiny.en: a 46-minute file took a worker to 2.7 GB). Here a container
is decoded by PyAV frame by frame, as faster-whisper's own `decode_audio` does (the same
resampler, so the same samples), and handed on in windows of `window_s` seconds; raw
samples are converted a slice at a time. Only one window is ever held as samples.

A window ends at the quietest 20 ms of its last `_CUT_SEARCH_S` seconds, so a cut rarely
splits a word; the rest begins the next window. Audio no longer than one window is one
window: exactly the samples a whole-file decode gives.

`duration_s` measures the decoded length without keeping any samples (frame sizes only),
and stops as soon as it passes a limit: a small compressed file that decodes to hours is
refused after reading as much of it as the limit allows (AudioTooLong).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import WHISPER_SAMPLE_RATE, AudioEncoding, RawEncoding
from worker.engines.audio import Samples, check_sample_rate, to_float32_16k

_CUT_SEARCH_S = 5.0  # where in a window's end a cut may fall
_CUT_FRAME = 320  # 20 ms at 16 kHz: the unit whose energy is compared
# Raw input converted at once (seconds): bounds the temporary arrays of the resampler.
_RAW_SLICE_S = 30.0
# faster-whisper's grouping of decoded frames before resampling (its decode_audio).
_GROUP_SAMPLES = 500_000
_RAW_WIDTH: dict[RawEncoding, int] = {"pcm_s16le": 2, "f32le": 4}


@dataclass(frozen=True)
class Window:
    offset_s: float  # where it starts in the whole audio
    samples: Samples
    last: bool


def audio_too_long(limit_s: float, seen_s: float) -> ServiceError:
    return ServiceError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The audio is longer than the limit of {limit_s:g} seconds (LX_MAX_AUDIO_SECONDS).",
        {"limit_seconds": limit_s, "decoded_seconds_at_least": round(seen_s, 2)},
    )


def duration_s(
    data: bytes, encoding: AudioEncoding, sample_rate: int, limit_s: float = 0.0
) -> float:
    """The audio's decoded length in seconds; PAYLOAD_TOO_LARGE as soon as it passes
    `limit_s` (0: no limit). Raw samples are measured by their byte count."""
    _check_not_empty(data)
    if encoding != "container":
        check_sample_rate(sample_rate)
        seconds = len(data) / _RAW_WIDTH[encoding] / sample_rate
        if limit_s and seconds > limit_s:
            raise audio_too_long(limit_s, seconds)
        return seconds
    seconds = 0.0
    with _opened(data) as container:
        for frame in _frames(container):
            seconds += frame.samples / frame.sample_rate
            if limit_s and seconds > limit_s:
                raise audio_too_long(limit_s, seconds)
    return seconds


def windows(
    data: bytes, encoding: AudioEncoding, sample_rate: int, window_s: float
) -> Iterator[Window]:
    """The audio as consecutive windows of about `window_s` seconds (the last shorter)."""
    _check_not_empty(data)
    size = max(int(window_s * WHISPER_SAMPLE_RATE), 2 * _CUT_FRAME)
    search = min(int(_CUT_SEARCH_S * WHISPER_SAMPLE_RATE), size // 2)
    pieces: list[Samples] = []
    held = 0
    offset = 0  # samples already handed on
    for chunk in _chunks(data, encoding, sample_rate):
        pieces.append(chunk)
        held += chunk.size
        while held > size:  # more follows this window: cut it at a quiet point
            buffer = np.concatenate(pieces)
            cut = _quiet_cut(buffer[size - search : size]) + size - search
            yield Window(offset / WHISPER_SAMPLE_RATE, buffer[:cut].copy(), last=False)
            offset += cut
            pieces, held = [buffer[cut:]], buffer.size - cut
    if held == 0 and offset == 0:
        raise ServiceError(ErrorCode.INVALID_AUDIO, "The audio holds no samples.", {})
    if held:
        samples = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        yield Window(offset / WHISPER_SAMPLE_RATE, samples, last=True)


def _quiet_cut(tail: Samples) -> int:
    """The index in `tail` of the middle of its quietest 20 ms."""
    frames = tail[: tail.size // _CUT_FRAME * _CUT_FRAME].reshape(-1, _CUT_FRAME)
    energy = np.einsum("ij,ij->i", frames, frames)
    return int(np.argmin(energy)) * _CUT_FRAME + _CUT_FRAME // 2


def _chunks(data: bytes, encoding: AudioEncoding, sample_rate: int) -> Iterator[Samples]:
    if encoding != "container":
        yield from _raw_chunks(data, encoding, sample_rate)
        return
    import av

    resampler = av.audio.resampler.AudioResampler(
        format="s16", layout="mono", rate=WHISPER_SAMPLE_RATE
    )
    with _opened(data) as container:
        fifo = av.audio.fifo.AudioFifo()
        try:
            for frame in _frames(container):
                frame.pts = None  # as faster-whisper: no timestamp checks
                fifo.write(frame)
                if fifo.samples >= _GROUP_SAMPLES:
                    yield from _resampled(resampler, fifo.read())
            if fifo.samples > 0:
                yield from _resampled(resampler, fifo.read())
            yield from _resampled(resampler, None)  # flush the resampler
        except av.error.FFmpegError as exc:  # the resampler refused a frame
            raise _undecodable(exc, data) from exc


def _resampled(resampler: Any, frame: Any) -> Iterator[Samples]:
    for out in resampler.resample(frame):
        pcm = out.to_ndarray().reshape(-1)
        yield pcm.astype(np.float32) / np.float32(32768.0)


def _raw_chunks(data: bytes, encoding: RawEncoding, sample_rate: int) -> Iterator[Samples]:
    width = _RAW_WIDTH[encoding]
    step = int(_RAW_SLICE_S * sample_rate) * width
    for start in range(0, len(data), step):
        yield to_float32_16k(data[start : start + step], encoding, sample_rate)


class _opened:
    """A PyAV container over the bytes; INVALID_AUDIO when they are not audio."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._container: Any = None

    def __enter__(self) -> Any:
        import av

        try:
            self._container = av.open(io.BytesIO(self._data), mode="r", metadata_errors="ignore")
        except Exception as exc:  # PyAV raises many error types for bytes that are not audio
            raise _undecodable(exc, self._data) from exc
        return self._container

    def __exit__(self, *exc: object) -> None:
        if self._container is not None:
            self._container.close()


def _frames(container: Any) -> Iterator[Any]:
    """The audio frames of the first audio stream, skipping invalid ones (as faster-whisper)."""
    import av

    try:
        frames = iter(container.decode(audio=0))
    except Exception as exc:  # no audio stream
        raise _undecodable(exc, b"") from exc
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue
        except Exception as exc:  # a stream that breaks off
            raise _undecodable(exc, b"") from exc
        yield frame


def _undecodable(exc: BaseException, data: bytes) -> ServiceError:
    return ServiceError(
        ErrorCode.INVALID_AUDIO,
        "The request body is not audio that can be decoded.",
        {"reason": str(exc)[:200], "bytes": len(data)},
    )


def _check_not_empty(data: bytes) -> None:
    if not data:
        raise ServiceError(ErrorCode.INVALID_AUDIO, "The audio is empty.", {"bytes": 0})
