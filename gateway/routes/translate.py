"""Translation: `POST /api/mt/translate` and `POST /api/sessions/{sid}/translate`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, JsonBody, NoParams, api_routes
from gateway.http.io import decode_json, json_response, read_body
from gateway.routes.models import LOAD_ERRORS
from gateway.routes.sessions import SessionPath
from gateway.services import services
from protocol.api.translation import (
    SessionlessTranslateRequest,
    TranslateRequest,
    TranslateResponse,
)
from protocol.errors import ErrorCode as E

_BODY_LIMIT = 4 * 1024 * 1024  # texts are also limited one by one (LX_MAX_TEXT_CHARS)
# A model that is not loaded yet is loaded first, so a load's refusals come too.
_TRANSLATE_ERRORS = (
    *LOAD_ERRORS,
    E.INFERENCE_ERROR,
    E.QUEUE_FULL,
    E.LOADING_TIMEOUT,
)


async def translate(request: Request, params: NoParams) -> Response:
    svc = services(request)
    body = decode_json(
        await read_body(request, _BODY_LIMIT),
        SessionlessTranslateRequest,
        E.CONFIGURATION_ERROR,
    )
    return json_response(await svc.translation.translate(body))


async def session_translate(request: Request, params: SessionPath) -> Response:
    svc = services(request)
    info = await svc.sessions.get(params.sid)
    body = decode_json(
        await read_body(request, _BODY_LIMIT), TranslateRequest, E.CONFIGURATION_ERROR
    )
    return json_response(await svc.translation.translate(body, info.config.mt, params.sid))


routes = api_routes(
    Endpoint(
        "POST",
        "/api/mt/translate",
        "Translate text",
        translate,
        NoParams,
        TranslateResponse,
        body=JsonBody(SessionlessTranslateRequest, required=True),
        errors=_TRANSLATE_ERRORS,
    ),
    Endpoint(
        "POST",
        "/api/sessions/{sid}/translate",
        "Translate with a session's config",
        session_translate,
        SessionPath,
        TranslateResponse,
        body=JsonBody(TranslateRequest, required=True),
        errors=(E.SESSION_NOT_FOUND, *_TRANSLATE_ERRORS),
    ),
)
