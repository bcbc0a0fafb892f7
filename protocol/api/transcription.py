"""Bodies of the transcription routes (`/api/asr/transcribe`, `/api/sessions/{sid}/transcribe`).

Their own shapes, not the wire's: the gateway converts what a worker answers into these, so
what clients see does not change when the engine wire does.
"""

from __future__ import annotations

import msgspec


class Word(msgspec.Struct, kw_only=True):
    start: float
    end: float
    word: str
    probability: float


class Segment(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[Word] | None = None  # with word_timestamps=true
    seek: int = 0  # the decoding window's offset, in mel frames
    tokens: list[int] | None = None
    temperature: float = 0.0  # the temperature the segment was finally decoded at


class TranscriptionTimings(msgspec.Struct, kw_only=True):
    queue_ms: float  # waiting in the worker before the model ran
    inference_ms: float
    total_ms: float  # at the gateway, from the request's arrival to the answer
    real_time_factor: float
    # Requests in the largest batch any of its windows was decoded in (1: always alone;
    # 0: a cached answer, decoded by no model now).
    batch_size: int = 1


class TranscriptionResponse(msgspec.Struct, kw_only=True):
    text: str
    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    timings: TranscriptionTimings
    model_id: str
    device: str
