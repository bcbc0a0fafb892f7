"""Transcription: `POST /api/asr/transcribe?model_id=...` and `POST /api/sessions/{sid}/transcribe`.

Audio is the request body (any container PyAV reads, or raw 16-bit PCM as audio/L16, at
16 kHz or the `rate` its type names) or a multipart `file`; options come as query
parameters or form fields.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import json_response
from gateway.services import Services, services
from gateway.transcription.options import parse_params
from gateway.transcription.upload import read_audio
from protocol.api.config import AsrConfig


async def _transcribe(
    request: Request, svc: Services, session: AsrConfig | None, sid: str | None
) -> Response:
    arrived = time.perf_counter()
    # An unknown model fails before the body is read (a form field may still name another).
    svc.transcription.model_for(request.query_params.get("model_id"), session)
    upload = await read_audio(request, int(svc.settings.max_upload_mb * 1024 * 1024))
    # Form fields of a multipart upload count like query parameters (and win over them).
    params = parse_params({**request.query_params, **{k: v[-1] for k, v in upload.fields.items()}})
    answer = await svc.transcription.transcribe(upload, params, session, sid, since=arrived)
    return json_response(answer)


async def transcribe(request: Request) -> Response:
    return await _transcribe(request, services(request), None, None)


async def session_transcribe(request: Request) -> Response:
    svc = services(request)
    sid = request.path_params["sid"]
    info = await svc.sessions.get(sid)
    return await _transcribe(request, svc, info.config.asr, sid)


routes = [
    Route("/api/asr/transcribe", transcribe, methods=["POST"]),
    Route("/api/sessions/{sid}/transcribe", session_transcribe, methods=["POST"]),
]
