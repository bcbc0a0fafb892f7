"""Transcription: `POST /api/asr/transcribe?model_id=...` and `POST /api/sessions/{sid}/transcribe`.

Audio is the request body (any container PyAV reads, or raw 16-bit PCM as audio/L16, at
16 kHz or the `rate` its type names) or a multipart `file`; options come as query
parameters or form fields (the same TranscribeParams; a form field wins over the query).
"""

from __future__ import annotations

import time

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import AudioBody, Endpoint, api_routes
from gateway.http.io import json_response
from gateway.routes.models import LOAD_ERRORS
from gateway.services import Services, services
from gateway.transcription.options import TranscribeParams, parse_params
from gateway.transcription.upload import AUDIO_MEDIA_TYPES, read_audio
from protocol.api.config import AsrConfig
from protocol.api.transcription import TranscriptionResponse
from protocol.errors import ErrorCode as E

# A model that is not loaded yet is loaded first, so a load's refusals come too.
TRANSCRIBE_ERRORS = (
    *LOAD_ERRORS,
    E.INVALID_REQUEST,
    E.INVALID_AUDIO,
    E.UNSUPPORTED_MEDIA_TYPE,
    E.QUEUE_FULL,
    E.INFERENCE_ERROR,
    E.LOADING_TIMEOUT,
)


class SessionTranscribeParams(TranscribeParams, kw_only=True, forbid_unknown_fields=True):
    sid: str


async def _transcribe(
    request: Request,
    svc: Services,
    params: TranscribeParams,
    session: AsrConfig | None,
    sid: str | None,
) -> Response:
    arrived = time.perf_counter()
    # An unknown model fails before the body is read (a form field may still name another).
    svc.transcription.model_for(params.model_id, session)
    with svc.uploads.hold() as hold:  # the audio's bytes, until the answer is made
        upload = await read_audio(request, int(svc.settings.max_upload_mb * 1024 * 1024), hold)
        form = parse_params({k: v[-1] for k, v in upload.fields.items()})
        given = {
            f: getattr(form, f) for f in form.__struct_fields__ if getattr(form, f) is not None
        }
        params = msgspec.structs.replace(params, **given)
        answer = await svc.transcription.transcribe(upload, params, session, sid, since=arrived)
    return json_response(answer)


async def transcribe(request: Request, params: TranscribeParams) -> Response:
    return await _transcribe(request, services(request), params, None, None)


async def session_transcribe(request: Request, params: SessionTranscribeParams) -> Response:
    svc = services(request)
    info = await svc.sessions.get(params.sid)
    return await _transcribe(request, svc, params, info.config.asr, params.sid)


_AUDIO = AudioBody(fields=TranscribeParams, raw_media_types=AUDIO_MEDIA_TYPES)

routes = api_routes(
    Endpoint(
        "POST",
        "/api/asr/transcribe",
        "Transcribe audio (the body, or a multipart file)",
        transcribe,
        TranscribeParams,
        TranscriptionResponse,
        body=_AUDIO,
        errors=TRANSCRIBE_ERRORS,
        params_error=E.CONFIGURATION_ERROR,
    ),
    Endpoint(
        "POST",
        "/api/sessions/{sid}/transcribe",
        "Transcribe with a session's config",
        session_transcribe,
        SessionTranscribeParams,
        TranscriptionResponse,
        body=_AUDIO,
        errors=(E.SESSION_NOT_FOUND, *TRANSCRIBE_ERRORS),
        params_error=E.CONFIGURATION_ERROR,
    ),
)
