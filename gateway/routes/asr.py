"""Transcription: `POST /api/asr/transcribe?model_id=...` and `POST /api/sessions/{sid}/transcribe`.

Audio is the request body (any container PyAV reads, or raw 16 kHz 16-bit PCM as
audio/L16) or a multipart `file`; options come as query parameters or form fields.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import json_response
from gateway.services import Services, services
from gateway.transcription.options import options_for, parse_params
from gateway.transcription.upload import read_audio
from protocol.api.config import AsrConfig
from protocol.api.lifecycle import TranscriptionResponse, TranscriptionTimings


async def _transcribe(
    request: Request, svc: Services, session: AsrConfig | None, sid: str | None
) -> Response:
    started = time.perf_counter()
    query = parse_params(request.query_params)
    model_id = query.model_id or (session.model_id if session else svc.settings.default_asr_model)
    svc.models.entry(model_id)  # an unknown model fails before the body is read
    upload = await read_audio(request, int(svc.settings.max_upload_mb * 1024 * 1024))
    # Form fields of a multipart upload count like query parameters (and win over them).
    params = parse_params({**request.query_params, **{k: v[-1] for k, v in upload.fields.items()}})
    model_id = params.model_id or model_id
    options = options_for(params, session)
    result = await svc.inference.transcribe(
        model_id, upload.data, upload.audio_format, options, sid
    )
    total_ms = (time.perf_counter() - started) * 1000
    timings = TranscriptionTimings(
        queue_ms=round(max(total_ms - result.inference_ms, 0.0), 2),
        inference_ms=result.inference_ms,
        total_ms=round(total_ms, 2),
        real_time_factor=round(result.inference_ms / 1000 / result.duration, 4)
        if result.duration
        else 0.0,
    )
    return json_response(
        TranscriptionResponse(
            text=result.text,
            language=result.language,
            language_probability=result.language_probability,
            duration=result.duration,
            segments=result.segments,
            timings=timings,
            model_id=result.model_id,
            device=result.device,
        )
    )


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
