"""A client's raw audio frames to the 16 kHz mono float32 samples a live stream takes.

Frames arrive as s16le or f32le at 8-48 kHz. Other rates go through libswresample (PyAV's
AudioResampler), which keeps its filter state between frames, so cutting the audio into
frames anywhere gives the same samples as one long frame (up to the filter's delay, which
`flush` returns at the end).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from protocol.errors import ErrorCode, ServiceError

STREAM_RATE = 16_000
_DTYPES: dict[str, np.dtype[Any]] = {"pcm_s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}
_AV_FORMATS = {"pcm_s16le": "s16", "f32le": "flt"}


class PcmToStream:
    def __init__(self, encoding: str, sample_rate: int) -> None:
        if encoding not in _DTYPES:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"Unsupported live audio encoding {encoding!r}.",
                {"encoding": encoding, "supported": sorted(_DTYPES)},
            )
        self.encoding = encoding
        self.sample_rate = sample_rate
        self._dtype = _DTYPES[encoding]
        self._resampler: Any = None
        if sample_rate != STREAM_RATE:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=STREAM_RATE)

    def convert(self, frame: bytes) -> npt.NDArray[np.float32]:
        if len(frame) % self._dtype.itemsize:
            raise ServiceError(
                ErrorCode.INVALID_AUDIO,
                f"A {self.encoding} frame must hold whole {self._dtype.itemsize}-byte samples.",
                {"bytes": len(frame)},
            )
        samples = np.frombuffer(frame, dtype=self._dtype)
        if self._resampler is None:
            return _as_float(samples)
        if samples.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self._resample(samples)

    def flush(self) -> npt.NDArray[np.float32]:
        """What the resampler still holds, at the end of the audio."""
        if self._resampler is None:
            return np.zeros(0, dtype=np.float32)
        return _frames_to_array(self._resampler.resample(None))

    def _resample(self, samples: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        import av

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples).reshape(1, -1),
            format=_AV_FORMATS[self.encoding],
            layout="mono",
        )
        frame.sample_rate = self.sample_rate
        return _frames_to_array(self._resampler.resample(frame))


def _as_float(samples: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    if samples.dtype == np.dtype("<i2"):
        return samples.astype(np.float32) / 32768.0
    return samples.astype(np.float32)


def _frames_to_array(frames: list[Any]) -> npt.NDArray[np.float32]:
    if not frames:
        return np.zeros(0, dtype=np.float32)
    parts = [np.asarray(f.to_ndarray(), dtype=np.float32).reshape(-1) for f in frames]
    return np.concatenate(parts)
