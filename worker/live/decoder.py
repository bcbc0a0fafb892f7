"""The one engine call of a live stream: faster-whisper's `transcribe` on a buffer, words out.

Settings that matter for live decoding (measured on tiny.en, see bench/live_stream.py):
- one temperature, no fallback: on a buffer cut mid-sentence faster-whisper's fallback ladder
  re-decodes up to six times and takes seconds, where a partial must take a fraction of one;
- `condition_on_previous_text` off and the earlier finals as `initial_prompt` instead;
- a token budget per second of audio, so a decode that loops ("3, 3, 3, ...") stops early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from worker.live.events import HypWord

SAMPLE_RATE = 16_000


class Decoder(Protocol):
    def __call__(
        self, audio: npt.NDArray[np.float32], prompt: str | None, final: bool
    ) -> Sequence[HypWord]:
        """Words of `audio` with times in ms from its first sample."""
        ...


@dataclass(frozen=True)
class DecodeSettings:
    beam_size: int = 1
    # Finals are decoded once each, so they can afford a wider beam.
    final_beam_size: int = 5
    language: str | None = "en"
    task: str = "transcribe"  # or "translate" (into English)
    # English speech runs at about 3 words (4-5 tokens) a second; this leaves room for more.
    tokens_per_second: int = 12
    min_tokens: int = 16
    # Whisper's decoder holds 448 tokens; the prompt may take up to 223 of them.
    max_tokens: int = 220


class WhisperDecoder:
    """Decodes with a loaded faster-whisper `WhisperModel` (shared by every stream)."""

    def __init__(self, model: Any, settings: DecodeSettings | None = None) -> None:
        self._model = model
        self.settings = settings or DecodeSettings()
        # English-only models take no language token.
        self._language = self.settings.language if bool(model.model.is_multilingual) else None

    def __call__(
        self, audio: npt.NDArray[np.float32], prompt: str | None, final: bool
    ) -> list[HypWord]:
        settings = self.settings
        seconds = len(audio) / SAMPLE_RATE
        segments, _info = self._model.transcribe(
            audio,
            language=self._language,
            task=settings.task,
            beam_size=settings.final_beam_size if final else settings.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=True,
            vad_filter=False,
            max_new_tokens=_token_budget(settings, seconds),
        )
        words: list[HypWord] = []
        for segment in segments:  # a generator: decoding happens while iterating
            for word in segment.words or ():
                # faster-whisper gives numpy floats in seconds.
                words.append(
                    HypWord(
                        text=str(word.word),
                        start_ms=round(float(word.start) * 1000),
                        end_ms=round(float(word.end) * 1000),
                        probability=float(word.probability),
                    )
                )
        return words


def _token_budget(settings: DecodeSettings, seconds: float) -> int:
    wanted = max(settings.min_tokens, int(seconds * settings.tokens_per_second))
    return min(settings.max_tokens, wanted)
