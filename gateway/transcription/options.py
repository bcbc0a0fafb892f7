"""Transcription options from a request (query string, multipart fields, the OpenAI form)
over defaults: the session's ASR config, else `protocol.options`' own."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from gateway.http.io import validation_error
from protocol.api.config import AsrConfig
from protocol.errors import ErrorCode
from protocol.options import (
    BeamSize,
    BestOf,
    InitialPrompt,
    Language,
    Temperature,
    TranscribeOptions,
)
from protocol.vocabulary import Task


class TranscribeParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a request may set; every field optional, ranges as protocol.options defines."""

    model_id: str | None = None
    language: Language | None = None
    task: Task | None = None
    beam_size: BeamSize | None = None
    best_of: BestOf | None = None
    temperature: Temperature | None = None
    initial_prompt: InitialPrompt | None = None
    condition_on_previous_text: bool | None = None
    word_timestamps: bool | None = None
    vad_filter: bool | None = None


def parse_params(values: Mapping[str, object]) -> TranscribeParams:
    """Strings (a query, form fields) are read as the types they stand for ("2", "true")."""
    try:
        return msgspec.convert(dict(values), TranscribeParams, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, ErrorCode.CONFIGURATION_ERROR) from exc


def options_for(params: TranscribeParams, session: AsrConfig | None) -> TranscribeOptions:
    base = TranscribeOptions()
    if session is not None:
        p = session.parameters
        base = TranscribeOptions(
            language=session.language,
            task=session.task,
            beam_size=p.beam_size,
            best_of=p.best_of,
            temperature=p.temperature,
            compression_ratio_threshold=p.compression_ratio_threshold,
            logprob_threshold=p.logprob_threshold,
            no_speech_threshold=p.no_speech_threshold,
            condition_on_previous_text=p.condition_on_previous_text,
            initial_prompt=p.initial_prompt,
        )
    names = [f.name for f in msgspec.structs.fields(TranscribeParams) if f.name != "model_id"]
    changes = {n: getattr(params, n) for n in names if getattr(params, n) is not None}
    return msgspec.structs.replace(base, **changes)
