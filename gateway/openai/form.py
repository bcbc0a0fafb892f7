"""An OpenAI audio request (`/v1/audio/...`, multipart form) read into a transcription call.

Fields as OpenAI's API takes them: file, model, language, prompt, response_format,
temperature, timestamp_granularities[]. `whisper-1` means the service's default ASR model.
Bad values get the service's error envelope, which OpenAI clients raise with its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from starlette.requests import Request

from gateway.catalog import CatalogEntry
from gateway.catalog.languages import resolve_language, to_model_code
from gateway.models.manager import ModelManager
from gateway.settings import Settings
from gateway.transcription.options import TranscribeParams, parse_params
from gateway.transcription.upload import AudioUpload, media_type, read_audio
from protocol.api.catalog import ASRModelInfo
from protocol.api.openai import GRANULARITIES, RESPONSE_FORMATS, Granularity, ResponseFormat
from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import Task

WHISPER_1 = "whisper-1"  # OpenAI's Whisper model name


@dataclass(frozen=True)
class AudioRequest:
    task: Task
    upload: AudioUpload
    response_format: ResponseFormat
    granularities: frozenset[Granularity]
    params: TranscribeParams  # with the model id `model` resolved to


async def read_audio_request(
    request: Request, settings: Settings, models: ModelManager, task: Task
) -> AudioRequest:
    if media_type(request.headers.get("content-type", "")) != "multipart/form-data":
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            "Send multipart/form-data with the audio in a 'file' field, as OpenAI's API takes it.",
            {"field": "file"},
        )
    upload = await _read_upload(request, int(settings.max_upload_mb * 1024 * 1024))
    entry = resolve_model(settings, models, upload.field("model") or WHISPER_1, task)
    response_format = _response_format(upload.field("response_format"))
    granularities = _granularities(upload)
    params = {
        "model_id": entry.model_id,
        "language": _language(upload.field("language"), entry),
        "task": task,
        "temperature": upload.field("temperature") or None,  # its range: protocol.options
        "initial_prompt": upload.field("prompt") or None,
        # Words cost extra decoding; only verbose_json shows them.
        "word_timestamps": response_format == "verbose_json" and "word" in granularities,
    }
    return AudioRequest(
        task=task,
        upload=upload,
        response_format=response_format,
        granularities=granularities,
        params=parse_params(params),
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


async def _read_upload(request: Request, limit_bytes: int) -> AudioUpload:
    try:
        return await read_audio(request, limit_bytes)
    except ServiceError as exc:
        # OpenAI takes any file and judges it by its bytes: a non-audio type is bad audio.
        if exc.code != ErrorCode.UNSUPPORTED_MEDIA_TYPE:
            raise
        raise ServiceError(
            ErrorCode.INVALID_AUDIO, f"The file is not audio: {exc.message}", exc.details
        ) from exc


def _response_format(value: str | None) -> ResponseFormat:
    if value is None or value == "":
        return "json"
    if value not in RESPONSE_FORMATS:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"response_format {value!r} is not one of {', '.join(RESPONSE_FORMATS)}.",
            {"field": "response_format", "value": value, "supported": list(RESPONSE_FORMATS)},
        )
    return value


def _granularities(upload: AudioUpload) -> frozenset[Granularity]:
    # OpenAI clients send `timestamp_granularities[]`; a form may also send it without [].
    values = [
        *upload.fields.get("timestamp_granularities[]", []),
        *upload.fields.get("timestamp_granularities", []),
    ]
    unknown = sorted(set(values) - set(GRANULARITIES))
    if unknown:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"timestamp_granularities[] takes word and segment, not {', '.join(unknown)}.",
            {"field": "timestamp_granularities[]", "supported": list(GRANULARITIES)},
        )
    return frozenset(cast(list[Granularity], values))


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
