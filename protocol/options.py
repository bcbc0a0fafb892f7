"""The decoding options of one transcription and of one translation: each option's range
and its default, defined once.

The session config (`protocol.api.config`), the gateway's query, form and OpenAI form
parsing, and the wire to the workers all use these types, so a value out of range is
refused wherever it comes in, and a worker refuses it too when it decodes the message.
Ranges are wide enough for every setting faster-whisper / ctranslate2 accept in practice,
and narrow enough to refuse values that would only burn CPU or memory (a beam of 500, say).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from protocol.errors import ErrorCode, ServiceError, failing_field
from protocol.vocabulary import Task

# Language codes vary by model family ("en", "fra_Latn", "zh-CN"); the catalog knows which exist.
Language = Annotated[str, Meta(min_length=1, max_length=32)]
# Beam search beyond 20 beams gives no measurable gain and multiplies decode cost.
BeamSize = Annotated[int, Meta(ge=1, le=20)]
BestOf = Annotated[int, Meta(ge=1, le=20)]
# faster-whisper samples at temperatures in [0, 1]; higher is noise.
Temperature = Annotated[float, Meta(ge=0.0, le=1.0)]
# gzip ratio of the decoded text; 0 would reject every segment, >10 never rejects anything.
CompressionRatio = Annotated[float, Meta(gt=0.0, le=10.0)]
# Average log-probability threshold: always negative, below -10 it never triggers.
LogprobThreshold = Annotated[float, Meta(ge=-10.0, le=0.0)]
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
# Whisper's prompt window is 224 tokens; 2048 characters comfortably covers that.
InitialPrompt = Annotated[str, Meta(max_length=2048)]
LengthPenalty = Annotated[float, Meta(ge=0.0, le=5.0)]
NoRepeatNgram = Annotated[int, Meta(ge=0, le=10)]  # 0 disables the constraint
# Token counts; NLLB/M2M100 positions stop at 1024, 4096 leaves room for larger models.
TokenCount = Annotated[int, Meta(ge=1, le=4096)]
# An input counts its language token and </s>: fewer than 2 leaves no room for any text.
InputTokens = Annotated[int, Meta(ge=2, le=4096)]


class TranscribeOptions(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """How to decode one transcription. The defaults are faster-whisper's own
    (`WhisperModel.transcribe`; temperature: the first of its fallback list), so a request
    that sets nothing decodes exactly as faster-whisper would."""

    language: Language | None = None  # None: Whisper detects the language
    task: Task = "transcribe"
    beam_size: BeamSize = 5
    best_of: BestOf = 5
    temperature: Temperature = 0.0
    compression_ratio_threshold: CompressionRatio = 2.4
    logprob_threshold: LogprobThreshold = -1.0
    no_speech_threshold: Probability = 0.6
    condition_on_previous_text: bool = True
    initial_prompt: InitialPrompt | None = None
    word_timestamps: bool = False
    vad_filter: bool = False


class TranslateOptions(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """How to decode one translation batch; the defaults are the usual NLLB / M2M100
    generation settings on ctranslate2's Translator."""

    beam_size: BeamSize = 4
    length_penalty: LengthPenalty = 1.0
    no_repeat_ngram_size: NoRepeatNgram = 0
    # In model tokens, counting the language token and </s>; longer texts are refused.
    max_input_length: InputTokens = 512
    max_new_tokens: TokenCount = 256
    return_scores: bool = False


def check_options(options: TranscribeOptions | TranslateOptions) -> None:
    """Refuse options built in code with a value out of its range (msgspec checks ranges
    only when it decodes): CONFIGURATION_ERROR naming the parameter."""
    values: dict[str, Any] = msgspec.structs.asdict(options)
    try:
        msgspec.convert(values, type(options))
    except msgspec.ValidationError as exc:
        name = failing_field(exc)
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"{exc}",
            {"parameter": name, "value": values.get(name or "")},
        ) from exc
