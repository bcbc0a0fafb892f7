"""OpenAI-compatible routes: `/v1/audio/transcriptions`, `/v1/audio/translations`, `/v1/models`.

Existing OpenAI clients work unchanged against `http://<host>/v1`: the same form fields in,
the same bodies out (json, text, srt, verbose_json, vtt), and with `stream=true` on a
transcription the server-sent events of OpenAI's streamed transcriptions
(gateway/openai/transcript_events.py). Whisper translates into English only.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.catalog import CatalogEntry
from gateway.http.endpoints import AudioBody, Endpoint, NoParams, api_routes
from gateway.http.io import json_response
from gateway.openai.form import (
    WHISPER_1,
    AudioRequest,
    OpenAIAudioForm,
    OpenAITranscriptionForm,
    read_audio_request,
    resolve_model,
)
from gateway.openai.language_names import language_name
from gateway.openai.subtitles import srt, vtt
from gateway.openai.transcript_events import transcript_response
from gateway.routes.asr import TRANSCRIBE_ERRORS
from gateway.services import services
from protocol.api.openai import (
    TRANSCRIPT_EVENTS,
    AudioSegment,
    AudioText,
    AudioWord,
    OpenAIModel,
    OpenAIModelList,
    VerboseAudioText,
)
from protocol.api.transcription import TranscriptionResponse
from protocol.errors import ErrorCode as E
from protocol.vocabulary import Task


class ModelName(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model: str


async def transcriptions(request: Request, params: NoParams) -> Response:
    return await _audio(request, "transcribe")


async def translations(request: Request, params: NoParams) -> Response:
    return await _audio(request, "translate")


async def list_models(request: Request, params: NoParams) -> Response:
    svc = services(request)
    default = resolve_model(svc.settings, svc.models, WHISPER_1)
    models = [_model(WHISPER_1, default)]
    models += [_model(entry.model_id, entry) for entry in svc.catalog.asr_entries()]
    return json_response(OpenAIModelList(data=models))


async def get_model(request: Request, params: ModelName) -> Response:
    name = params.model
    svc = services(request)
    return json_response(_model(name, resolve_model(svc.settings, svc.models, name)))


def _model(name: str, entry: CatalogEntry) -> OpenAIModel:
    return OpenAIModel(id=name, owned_by=entry.info.provider)


async def _audio(request: Request, task: Task) -> Response:
    svc = services(request)
    # The audio's bytes are held against the upload budget until the answer is made (a
    # streamed answer's, until its first event: the stream itself is not counted).
    with svc.uploads.hold() as hold:
        asked = await read_audio_request(request, svc.settings, svc.models, task, hold)
        if asked.stream:
            pieces = svc.transcription.stream(asked.upload, asked.params)
            return await transcript_response(pieces, request.scope)
        result = await svc.transcription.transcribe(asked.upload, asked.params)
    text = result.text.strip()  # as OpenAI: no leading space
    match asked.response_format:
        case "json":
            return json_response(AudioText(text=text))
        case "text":
            return Response(f"{text}\n", media_type="text/plain")
        case "srt":
            return Response(srt(result.segments), media_type="text/plain")
        case "vtt":
            return Response(vtt(result.segments), media_type="text/vtt")
        case "verbose_json":
            return json_response(_verbose(result, asked, text))


def _verbose(result: TranscriptionResponse, asked: AudioRequest, text: str) -> VerboseAudioText:
    task = asked.task
    segments = [
        AudioSegment(
            id=index,  # OpenAI counts from 0, faster-whisper from 1
            seek=segment.seek,
            start=segment.start,
            end=segment.end,
            text=segment.text,
            tokens=segment.tokens or [],
            temperature=segment.temperature,
            avg_logprob=segment.avg_logprob,
            compression_ratio=segment.compression_ratio,
            no_speech_prob=segment.no_speech_prob,
        )
        for index, segment in enumerate(result.segments)
    ]
    words = [
        AudioWord(word=word.word.strip(), start=word.start, end=word.end)
        for segment in result.segments
        for word in segment.words or []
    ]
    # Segments come by default or when asked; words only when asked (as OpenAI does).
    want_segments = not asked.granularities or "segment" in asked.granularities
    return VerboseAudioText(
        task=task,
        # Whisper translates into English; otherwise the language it heard, by name.
        language="english" if task == "translate" else language_name(result.language),
        duration=result.duration,
        text=text,
        segments=segments if want_segments else None,
        words=words if "word" in asked.granularities else None,
    )


# Like the service's own transcription route, less the media type: a non-audio file is bad audio.
_AUDIO_ERRORS = tuple(code for code in TRANSCRIBE_ERRORS if code != E.UNSUPPORTED_MEDIA_TYPE)

routes = api_routes(
    Endpoint(
        "POST",
        "/v1/audio/transcriptions",
        "OpenAI-compatible transcription",
        transcriptions,
        NoParams,
        (AudioText, VerboseAudioText),
        text_media_types=("text/plain", "text/vtt"),
        body=AudioBody(fields=OpenAITranscriptionForm),
        errors=_AUDIO_ERRORS,
        event_stream=TRANSCRIPT_EVENTS,
    ),
    Endpoint(
        "POST",
        "/v1/audio/translations",
        "OpenAI-compatible translation to English",
        translations,
        NoParams,
        (AudioText, VerboseAudioText),
        text_media_types=("text/plain", "text/vtt"),
        body=AudioBody(fields=OpenAIAudioForm),
        errors=_AUDIO_ERRORS,
    ),
    Endpoint(
        "GET", "/v1/models", "OpenAI-compatible model list", list_models, NoParams, OpenAIModelList
    ),
    Endpoint(
        "GET",
        "/v1/models/{model:path}",
        "One model, OpenAI-style",
        get_model,
        ModelName,
        OpenAIModel,
        errors=(E.MODEL_NOT_FOUND, E.CONFIGURATION_ERROR),
    ),
)
