"""An OpenAI audio request (`/v1/audio/...`, multipart form) read into a transcription call.

Fields as OpenAI's API takes them: file, model, language, prompt, response_format,
temperature, timestamp_granularities[], and for transcriptions `stream`. `whisper-1` means
the service's default ASR model (and streams here, where OpenAI's whisper-1 ignores `stream`,
which leaves an SDK's stream loop with nothing). Bad values get the service's error envelope,
which OpenAI clients raise with its message.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from starlette.requests import Request

from gateway.catalog import CatalogEntry
from gateway.catalog.languages import resolve_language, to_model_code
from gateway.models.manager import ModelManager
from gateway.settings import Settings
from gateway.transcription.options import TranscribeParams, parse_params
from gateway.transcription.upload import AudioUpload, media_type, read_audio
from gateway.transcription.upload_budget import UploadHold
from protocol.api.catalog import ASRModelInfo
from protocol.api.openai import GRANULARITIES, RESPONSE_FORMATS, Granularity, ResponseFormat
from protocol.errors import ErrorCode, ServiceError, failing_field
from protocol.options import InitialPrompt, Temperature
from protocol.vocabulary import Task

WHISPER_1 = "whisper-1"  # OpenAI's Whisper model name
_GRANULARITIES = "timestamp_granularities[]"


class OpenAIAudioForm(msgspec.Struct, kw_only=True):
    """The form fields besides `file`, as OpenAI's API takes them. Unknown fields are ignored,
    as newer OpenAI clients send fields this service has no use for; an empty field is unset."""

    model: str = WHISPER_1  # a catalog id, or whisper-1 (the default ASR model)
    language: str | None = None  # ISO 639-1 (or BCP-47, FLORES)
    prompt: InitialPrompt | None = None
    response_format: ResponseFormat = "json"
    temperature: Temperature | None = None
    # Also taken without the brackets.
    timestamp_granularities: list[Granularity] = msgspec.field(
        default_factory=list, name=_GRANULARITIES
    )


class OpenAITranscriptionForm(OpenAIAudioForm, kw_only=True):
    """A transcription's fields: a translation's, and `stream`."""

    # Server-sent events (transcript.text.delta, then transcript.text.done) as segments are
    # decoded; json and text only, as OpenAI's API streams.
    stream: bool = False


# Formats a streamed transcription may ask for: its events are the same for both.
STREAM_FORMATS: tuple[ResponseFormat, ...] = ("json", "text")

# Fields whose bad values are a malformed request rather than a bad decoding option, and
# the values each takes.
_REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    "response_format": RESPONSE_FORMATS,
    _GRANULARITIES: GRANULARITIES,
    "stream": ("true", "false"),
}


@dataclass(frozen=True)
class AudioRequest:
    task: Task
    upload: AudioUpload
    response_format: ResponseFormat
    granularities: frozenset[Granularity]
    params: TranscribeParams  # with the model id `model` resolved to
    stream: bool = False  # answer with server-sent events


async def read_audio_request(
    request: Request, settings: Settings, models: ModelManager, task: Task, hold: UploadHold
) -> AudioRequest:
    if media_type(request.headers.get("content-type", "")) != "multipart/form-data":
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            "Send multipart/form-data with the audio in a 'file' field, as OpenAI's API takes it.",
            {"field": "file"},
        )
    upload = await _read_upload(request, int(settings.max_upload_mb * 1024 * 1024), hold)
    form = read_form(upload)
    _check_stream(form, task)
    entry = resolve_model(settings, models, form.model, task)
    granularities = frozenset(form.timestamp_granularities)
    params = {
        "model_id": entry.model_id,
        "language": _language(form.language, entry),
        "task": task,
        "temperature": form.temperature,
        "initial_prompt": form.prompt,
        # Words cost extra decoding; only verbose_json shows them.
        "word_timestamps": form.response_format == "verbose_json" and "word" in granularities,
    }
    return AudioRequest(
        task=task,
        upload=upload,
        response_format=form.response_format,
        granularities=granularities,
        params=parse_params({k: v for k, v in params.items() if v is not None}),
        stream=form.stream,
    )


def read_form(upload: AudioUpload) -> OpenAITranscriptionForm:
    values: dict[str, object] = {
        name: upload.field(name)
        for name in ("model", "language", "prompt", "response_format", "stream")
    }
    values["temperature"] = upload.field("temperature")
    values[_GRANULARITIES] = [
        *upload.fields.get(_GRANULARITIES, []),
        *upload.fields.get("timestamp_granularities", []),
    ]
    given = {name: value for name, value in values.items() if value not in (None, "")}
    try:
        return msgspec.convert(given, OpenAITranscriptionForm, strict=False)
    except msgspec.ValidationError as exc:
        field = failing_field(exc) or ""
        name = next((n for n in _REQUEST_FIELDS if field.startswith(n)), None)
        if name is None:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR, str(exc), {"field": field} if field else {}
            ) from exc
        supported = _REQUEST_FIELDS[name]
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"{name} takes {', '.join(supported)}: {exc}",
            {"field": name, "supported": list(supported)},
        ) from exc


def _check_stream(form: OpenAITranscriptionForm, task: Task) -> None:
    """Streams as OpenAI's API does: transcriptions only, in json or text."""
    if not form.stream:
        return
    if task == "translate":
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            "Translations do not stream (OpenAI's /v1/audio/translations takes no `stream`); "
            "leave it out, or stream a transcription with /v1/audio/transcriptions.",
            {"field": "stream"},
        )
    if form.response_format not in STREAM_FORMATS:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"response_format {form.response_format!r} cannot be streamed: with stream=true "
            f"use {' or '.join(STREAM_FORMATS)} (the events carry the text), or leave stream out.",
            {"field": "response_format", "supported": list(STREAM_FORMATS)},
        )


def resolve_model(
    settings: Settings, models: ModelManager, name: str, task: Task = "transcribe"
) -> CatalogEntry:
    """The ASR model `name` means: a catalog id as is, `whisper-1` the default ASR model."""
    model_id = settings.default_asr_model if name == WHISPER_1 else name
    entry = models.entry(model_id)  # MODEL_NOT_FOUND with suggestions
    info = entry.info
    if entry.kind != "asr" or not isinstance(info, ASRModelInfo):
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Model {model_id!r} is a translation model; the audio API needs a Whisper model.",
            {"model_id": model_id, "field": "model"},
        )
    if task == "translate" and not info.features.multilingual:
        multilingual = [
            e.model_id
            for e in models.catalog.asr_entries()
            if isinstance(e.info, ASRModelInfo) and e.info.features.multilingual
        ]
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Model {model_id!r} is English-only and cannot translate speech; use a "
            f"multilingual Whisper model such as {multilingual[0]!r}."
            if multilingual
            else f"Model {model_id!r} is English-only and cannot translate speech.",
            {"model_id": model_id, "field": "model", "suggested_alternatives": multilingual},
        )
    return entry


async def _read_upload(request: Request, limit_bytes: int, hold: UploadHold) -> AudioUpload:
    try:
        return await read_audio(request, limit_bytes, hold)
    except ServiceError as exc:
        # OpenAI takes any file and judges it by its bytes: a non-audio type is bad audio.
        if exc.code != ErrorCode.UNSUPPORTED_MEDIA_TYPE:
            raise
        raise ServiceError(
            ErrorCode.INVALID_AUDIO, f"The file is not audio: {exc.message}", exc.details
        ) from exc


def _language(value: str | None, entry: CatalogEntry) -> str | None:
    """The Whisper code of an ISO 639-1 (or BCP-47, FLORES) code, if the model knows it."""
    if not value:
        return None
    code = to_model_code(resolve_language(value), "whisper")  # CONFIGURATION_ERROR if not
    known = entry.info.languages if isinstance(entry.info, ASRModelInfo) else []
    if known and code not in known:
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Model {entry.model_id!r} does not recognise language {value!r}; "
            f"it knows {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}.",
            {"field": "language", "language": value, "model_id": entry.model_id},
        )
    return code
