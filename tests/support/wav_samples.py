"""A 16-bit mono WAV fixture as raw PCM bytes or 16 kHz float32 samples (for live tests)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt


def read_wav_pcm(path: Path) -> tuple[bytes, int]:
    """The s16le frames of a mono 16-bit WAV, and its sample rate."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getnchannels(), wav.getsampwidth()) != (1, 2):
            raise ValueError(f"{path.name}: expected mono 16-bit PCM")
        return wav.readframes(wav.getnframes()), wav.getframerate()


def read_wav_samples(path: Path) -> npt.NDArray[np.float32]:
    """The samples of a mono 16-bit 16 kHz WAV as float32 in [-1, 1)."""
    pcm, rate = read_wav_pcm(path)
    if rate != 16_000:
        raise ValueError(f"{path.name}: expected 16 kHz, got {rate}")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def wav_bytes(pcm: bytes, rate: int = 16_000) -> bytes:
    """s16le mono samples as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


def repeated_wav(path: Path, times: int) -> bytes:
    """A fixture said `times` over, as one WAV (a long file from a short one)."""
    pcm, rate = read_wav_pcm(path)
    return wav_bytes(pcm * times, rate)


def silent_wav(seconds: float, rate: int = 16_000) -> bytes:
    return wav_bytes(bytes(2 * int(seconds * rate)), rate)
