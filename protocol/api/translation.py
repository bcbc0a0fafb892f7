"""Bodies of the translation routes (`/api/mt/translate`, `/api/sessions/{sid}/translate`)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from protocol.options import BeamSize, Language, LengthPenalty, NoRepeatNgram, TokenCount

Text = Annotated[str, msgspec.Meta(min_length=1)]


class TranslateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of `/api/sessions/{sid}/translate`: what it leaves out, the session says."""

    # One text or a list; languages as ISO 639-1 (fr), BCP-47 (zh-TW) or FLORES (fra_Latn).
    text: Text | Annotated[list[Text], msgspec.Meta(min_length=1, max_length=256)]
    target_language: Language | None = None  # the session's when absent
    source_language: Language | None = None  # detected per text when absent
    model_id: str | None = None
    return_confidence: bool = False
    # Decoding over the session's (or the defaults); ranges as protocol.options says.
    beam_size: BeamSize | None = None
    length_penalty: LengthPenalty | None = None
    no_repeat_ngram_size: NoRepeatNgram | None = None
    max_new_tokens: TokenCount | None = None


class SessionlessTranslateRequest(TranslateRequest, kw_only=True, forbid_unknown_fields=True):
    """The body of `/api/mt/translate`: no session to fall back on, so the target is required."""

    target_language: Language


class DetectedSource(msgspec.Struct, kw_only=True):
    language: str
    probability: float


class TranslatedText(msgspec.Struct, kw_only=True, omit_defaults=True):
    text: str
    source_language: str  # BCP-47 tag, as given or as detected
    cached: bool  # served from the result cache
    detected: DetectedSource | None = None
    confidence: float | None = None  # exp of the model's length-normalised log-probability


class TranslationTimings(msgspec.Struct, kw_only=True):
    queue_ms: float
    inference_ms: float
    total_ms: float


class TranslateResponse(msgspec.Struct, kw_only=True):
    translations: list[TranslatedText]
    target_language: str
    model_id: str
    device: str
    timings: TranslationTimings
