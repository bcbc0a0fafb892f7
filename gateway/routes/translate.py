"""Translation: `POST /api/mt/translate` and `POST /api/sessions/{sid}/translate`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import decode_json, json_response, read_body
from gateway.services import services
from protocol.api.translation import TranslateRequest
from protocol.errors import ErrorCode

_BODY_LIMIT = 4 * 1024 * 1024  # texts are also limited one by one (LX_MAX_TEXT_CHARS)


async def translate(request: Request) -> Response:
    svc = services(request)
    body = decode_json(
        await read_body(request, _BODY_LIMIT), TranslateRequest, ErrorCode.CONFIGURATION_ERROR
    )
    return json_response(await svc.translation.translate(body))


async def session_translate(request: Request) -> Response:
    svc = services(request)
    sid = request.path_params["sid"]
    info = await svc.sessions.get(sid)
    body = decode_json(
        await read_body(request, _BODY_LIMIT), TranslateRequest, ErrorCode.CONFIGURATION_ERROR
    )
    return json_response(await svc.translation.translate(body, info.config.mt, sid))


routes = [
    Route("/api/mt/translate", translate, methods=["POST"]),
    Route("/api/sessions/{sid}/translate", session_translate, methods=["POST"]),
]
