"""Transcription without a session: `POST /api/asr/transcribe?model_id=...` with audio."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http_io import json_response, read_body
from gateway.services import services
from protocol.api import TranscriptionResponse, TranscriptionTimings
from protocol.errors import ErrorCode, ServiceError
from protocol.ipc import TranscribeOptions

_PCM_TYPES = {"audio/l16", "audio/pcm"}


def _options(request: Request) -> TranscribeOptions:
    query = request.query_params
    try:
        return TranscribeOptions(
            language=query.get("language") or None,
            beam_size=int(query.get("beam_size", 5)),
            word_timestamps=query.get("word_timestamps", "false").lower() == "true",
            vad_filter=query.get("vad_filter", "false").lower() == "true",
        )
    except ValueError as exc:
        raise ServiceError(ErrorCode.CONFIGURATION_ERROR, str(exc), {"field": "beam_size"}) from exc


async def transcribe(request: Request) -> Response:
    svc = services(request)
    started = time.perf_counter()
    model_id = request.query_params.get("model_id") or svc.settings.default_asr_model
    svc.models.entry(model_id)  # unknown ids fail before the body is read
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    audio = await read_body(request, int(svc.settings.max_upload_mb * 1024 * 1024))
    result = await svc.inference.transcribe(
        model_id,
        audio,
        "pcm" if content_type in _PCM_TYPES else "container",
        _options(request),
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


routes = [Route("/api/asr/transcribe", transcribe, methods=["POST"])]
