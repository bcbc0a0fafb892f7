"""Voice activity on a growing buffer: faster-whisper's bundled Silero VAD, run incrementally.

faster-whisper's `get_speech_timestamps` scores a whole buffer at once and starts its LSTM
state from zero each call, so calling it on a growing buffer redoes (and changes) the past.
`SileroWindows` keeps the model's state and the 64-sample context between calls instead, so
the probabilities of each 512-sample window are computed once and are the same as one pass
over the whole audio. `SpeechTracker` turns them into speech runs with the same hysteresis
Silero uses (speech from `threshold` up, silence under `neg_threshold`, a run ends after
`min_silence_ms` of silence); it is plain code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
WINDOW = 512  # samples per Silero window at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous window the model sees before each window
_STATE_SHAPE = (1, 1, 128)


class SileroWindows:
    """Speech probability of each complete 512-sample window, computed as audio arrives."""

    def __init__(self, session: Any | None = None) -> None:
        if session is None:
            from faster_whisper.vad import get_vad_model

            # One ONNX session per process (faster-whisper caches it); its state is ours.
            session = get_vad_model().session
        self._session = session
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.windows_done = 0

    def push(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The probabilities of the windows `samples` completed (none if under a window)."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        count = len(audio) // WINDOW
        self._pending = audio[count * WINDOW :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = audio[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]])
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -_CONTEXT:].copy()
        self.windows_done += count
        result: npt.NDArray[np.float32] = np.asarray(probs, dtype=np.float32).reshape(-1)
        return result


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5
    # Silero's default: 0.15 under the speech threshold.
    neg_threshold: float = 0.35
    # Silence that ends a run; under the fixtures' 0.6 s pauses between sentences.
    min_silence_ms: int = 400


@dataclass
class SpeechRun:
    """Speech from `start` to `end` (samples from the stream's start); `end` is None while
    the run goes on."""

    start: int
    end: int | None = None


@dataclass
class SpeechTracker:
    """Speech runs from window probabilities; `offset` is the sample of window 0."""

    settings: VadSettings = field(default_factory=VadSettings)
    offset: int = 0
    runs: list[SpeechRun] = field(default_factory=list)
    _window: int = 0
    _speaking: bool = False
    _silence_from: int | None = None

    def update(self, probabilities: npt.NDArray[np.float32] | list[float]) -> None:
        min_silence = self.settings.min_silence_ms * SAMPLE_RATE // 1000
        for prob in np.asarray(probabilities, dtype=np.float32).tolist():
            start = self.offset + self._window * WINDOW
            self._window += 1
            if prob >= self.settings.threshold:
                self._silence_from = None
                if not self._speaking:
                    self._speaking = True
                    self.runs.append(SpeechRun(start=start))
            elif self._speaking and prob < self.settings.neg_threshold:
                if self._silence_from is None:
                    self._silence_from = start
                if start + WINDOW - self._silence_from >= min_silence:
                    self.runs[-1].end = self._silence_from
                    self._speaking = False
                    self._silence_from = None

    @property
    def scored_until(self) -> int:
        """The sample up to which speech has been scored."""
        return self.offset + self._window * WINDOW

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def pause_from(self) -> int | None:
        """Where the silence began that may end the current run (None: no pause now)."""
        return self._silence_from if self._speaking else None

    def forget_before(self, sample: int) -> None:
        """Drop runs that ended before `sample` (their segment is final)."""
        self.runs = [run for run in self.runs if run.end is None or run.end > sample]


class VoiceActivity:
    """Samples in, speech runs out: Silero probabilities through the tracker."""

    def __init__(
        self,
        settings: VadSettings | None = None,
        offset: int = 0,
        windows: SileroWindows | None = None,
    ) -> None:
        self._windows = windows or SileroWindows()
        self.tracker = SpeechTracker(settings=settings or VadSettings(), offset=offset)

    def push(self, samples: npt.NDArray[np.float32]) -> None:
        self.tracker.update(self._windows.push(samples))
