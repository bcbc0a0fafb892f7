"""A WAV file as a live stream's audio: 16-bit PCM samples, mono, at the file's own rate.

The stream route takes raw `pcm_s16le` at 8-48 kHz and resamples in the worker, so a WAV
needs no conversion here beyond mixing stereo down. Other files (MP3, 24-bit WAV) are
refused with a hint: the command line stays free of numpy and codecs.
"""

from __future__ import annotations

import array
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_BYTES_PER_SAMPLE = 2


class UnsupportedWav(ValueError):
    """A file this command cannot stream as it is; the message says how to convert it."""


@dataclass(frozen=True)
class WavAudio:
    pcm: bytes  # s16le mono
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / _BYTES_PER_SAMPLE / self.sample_rate

    def chunks(self, chunk_ms: int) -> Iterator[bytes]:
        """Frames of `chunk_ms` of audio each (the last one shorter)."""
        step = max(1, self.sample_rate * chunk_ms // 1000) * _BYTES_PER_SAMPLE
        for start in range(0, len(self.pcm), step):
            yield self.pcm[start : start + step]


_CONVERT_HINT = "convert it first: ffmpeg -i INPUT -ac 1 -ar 16000 -c:a pcm_s16le OUTPUT.wav"


def read_wav(path: Path) -> WavAudio:
    # Imported here: the CLI's import stays free of msgspec, so `--help` answers at once.
    from protocol.vocabulary import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise UnsupportedWav(f"{path} is not a PCM WAV file ({exc}); {_CONVERT_HINT}") from exc
    if width != _BYTES_PER_SAMPLE:
        raise UnsupportedWav(f"{path} has {8 * width}-bit samples, not 16-bit; {_CONVERT_HINT}")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise UnsupportedWav(
            f"{path} is sampled at {rate} Hz; the stream takes "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz; {_CONVERT_HINT}"
        )
    if channels > 1:
        frames = _downmix(frames, channels)
    return WavAudio(pcm=frames, sample_rate=rate)


def _downmix(frames: bytes, channels: int) -> bytes:
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    mono = array.array(
        "h",
        (
            sum(samples[i : i + channels]) // channels
            for i in range(0, len(samples) - channels + 1, channels)
        ),
    )
    if sys.byteorder == "big":
        mono.byteswap()
    return mono.tobytes()
