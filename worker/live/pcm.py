"""A client's raw audio frames to the 16 kHz mono float32 samples a live stream takes.

Scaling and checks are the service's one way for raw audio (worker.engines.audio:
`raw_to_float32`, the same as for raw uploads). Resampling differs from an upload's: a
stream arrives in small frames, and resampling each one on its own would put an edge at
every frame boundary. Other rates than 16 kHz go through libswresample (PyAV's
AudioResampler), which keeps its filter state between frames, so the frames give the same
samples as the audio would in one piece (`flush` returns the filter's last samples at the
end).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from protocol.vocabulary import WHISPER_SAMPLE_RATE, RawEncoding
from worker.engines.audio import check_sample_rate, raw_to_float32


class PcmToStream:
    def __init__(self, encoding: RawEncoding, sample_rate: int) -> None:
        check_sample_rate(sample_rate)
        self.encoding: RawEncoding = encoding
        self.sample_rate = sample_rate
        self._resampler: Any = None
        if sample_rate != WHISPER_SAMPLE_RATE:
            import av

            self._resampler = av.AudioResampler(
                format="flt", layout="mono", rate=WHISPER_SAMPLE_RATE
            )

    def convert(self, frame: bytes) -> npt.NDArray[np.float32]:
        """One frame's samples at 16 kHz (raises ServiceError INVALID_AUDIO for bad bytes)."""
        samples = raw_to_float32(frame, self.encoding)
        if self._resampler is None or samples.size == 0:
            return samples
        return self._resample(samples)

    def flush(self) -> npt.NDArray[np.float32]:
        """What the resampler still holds, at the end of the audio."""
        if self._resampler is None:
            return np.zeros(0, dtype=np.float32)
        return _frames_to_array(self._resampler.resample(None))

    def _resample(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        import av

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.sample_rate
        return _frames_to_array(self._resampler.resample(frame))


def _frames_to_array(frames: list[Any]) -> npt.NDArray[np.float32]:
    if not frames:
        return np.zeros(0, dtype=np.float32)
    parts = [np.asarray(f.to_ndarray(), dtype=np.float32).reshape(-1) for f in frames]
    return np.concatenate(parts)
