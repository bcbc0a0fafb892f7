"""Re-encode a WAV fixture into other containers with PyAV (installed with faster-whisper)."""

from __future__ import annotations

import io
from pathlib import Path

import av

# container format -> (codec, sample rate the codec accepts)
FORMATS: dict[str, tuple[str, int]] = {
    "flac": ("flac", 16_000),
    "mp3": ("libmp3lame", 16_000),
    "ogg": ("libopus", 48_000),
    "webm": ("libopus", 48_000),
}


def encode(wav: Path | bytes, container: str) -> bytes:
    """A WAV file (or its bytes) in `container`."""
    codec, rate = FORMATS[container]
    out = io.BytesIO()
    source_file = str(wav) if isinstance(wav, Path) else io.BytesIO(wav)
    with av.open(source_file, "r") as source, av.open(out, "w", format=container) as target:
        stream = target.add_stream(codec, rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        resampler = av.AudioResampler(format=stream.format, layout="mono", rate=rate)
        for frame in source.decode(audio=0):
            assert isinstance(frame, av.AudioFrame)
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()
