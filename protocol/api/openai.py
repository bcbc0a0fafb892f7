"""Bodies of the OpenAI-compatible routes (`/v1/...`), shaped as OpenAI's API answers them.

Field names and nesting follow OpenAI's audio and models API, so OpenAI clients parse them
unchanged. Errors are not here: they keep the service's envelope, which OpenAI clients also
read (`{"error": {"code", "message", ...}}`).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from protocol.errors import ErrorInfo
from protocol.vocabulary import Task

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
RESPONSE_FORMATS: tuple[ResponseFormat, ...] = ("json", "text", "srt", "verbose_json", "vtt")
Granularity = Literal["word", "segment"]
GRANULARITIES: tuple[Granularity, ...] = ("word", "segment")


class AudioText(msgspec.Struct, kw_only=True):
    """`response_format=json`: the text alone."""

    text: str


class AudioWord(msgspec.Struct, kw_only=True):
    word: str
    start: float
    end: float


class AudioSegment(msgspec.Struct, kw_only=True):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class VerboseAudioText(msgspec.Struct, kw_only=True, omit_defaults=True):
    """`response_format=verbose_json`. `language` is Whisper's English name ("english");
    `segments` and `words` appear as `timestamp_granularities[]` asks."""

    task: Task
    language: str
    duration: float
    text: str
    segments: list[AudioSegment] | None = None
    words: list[AudioWord] | None = None


# `stream=true` on a transcription: server-sent events, each a `data:` line of one of these
# (`type` first, as OpenAI sends them).


class TranscriptTextDelta(
    msgspec.Struct, kw_only=True, tag_field="type", tag="transcript.text.delta"
):
    """More of the transcript, as the model decodes it: the deltas, joined, are the text."""

    delta: str


class TranscriptTextDone(
    msgspec.Struct, kw_only=True, tag_field="type", tag="transcript.text.done"
):
    """The last event: the whole transcript."""

    text: str


class TranscriptError(msgspec.Struct, kw_only=True, tag_field="type", tag="error"):
    """A failure after the stream began, instead of `transcript.text.done`: the service's
    error envelope with a `type`, which OpenAI clients raise with its message."""

    error: ErrorInfo


TRANSCRIPT_EVENTS = (TranscriptTextDelta, TranscriptTextDone, TranscriptError)


class OpenAIModel(msgspec.Struct, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    created: int = 0  # Unix seconds; the catalog has no release dates, so 0
    owned_by: str


class OpenAIModelList(msgspec.Struct, kw_only=True):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]
