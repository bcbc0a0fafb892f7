"""What a live stream says after a decode: a partial caption or a final one.

Times are milliseconds on the stream's clock: samples received since the stream began (so
they depend on the audio only, never on how fast it arrived).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FinalReason = Literal["end_of_speech", "max_length", "end_of_audio"]


@dataclass(frozen=True)
class HypWord:
    """One word of a decoder hypothesis; `text` keeps Whisper's leading space."""

    text: str
    start_ms: int
    end_ms: int
    probability: float


def join_words(words: tuple[HypWord, ...] | list[HypWord]) -> str:
    return "".join(word.text for word in words).strip()


@dataclass(frozen=True)
class ResumeState:
    """Where a stream stands after a final: with the audio that follows, enough to rebuild it
    on another worker (LiveStream.resumed)."""

    # The first sample (16 kHz, from the stream's start) no final covers.
    start_sample: int = 0
    segment_index: int = 0
    # The end of the earlier finals, the next segment's decoder prompt.
    prompt: str | None = None
    # Where the last final ended: the next one starts no earlier.
    last_end_ms: int = 0


@dataclass(frozen=True)
class PartialCaption:
    segment_index: int
    text: str
    # The prefix of `text` that will not change (committed by agreement).
    stable_text: str
    # How much audio the decode saw (for the partial's delay behind the audio).
    audio_ms: int


@dataclass(frozen=True)
class FinalCaption:
    segment_index: int
    text: str
    start_ms: int
    end_ms: int
    words: tuple[HypWord, ...]
    # Everything before this sample (16 kHz, from the stream's start) is final: the gateway
    # may drop that audio, and a restarted stream begins here.
    end_sample: int
    reason: FinalReason
    audio_ms: int
    # The stream's state right after this final.
    resume: ResumeState


LiveEvent = PartialCaption | FinalCaption
