"""Sessions and their model configuration (contract: Model Configuration)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import json_response, read_body
from gateway.services import services

_JSON_LIMIT = 64 * 1024


async def create_session(request: Request) -> Response:
    body = await read_body(request, _JSON_LIMIT)
    info = await services(request).sessions.create(body)
    return json_response(info, 201)


async def get_session(request: Request) -> Response:
    return json_response(await services(request).sessions.get(request.path_params["sid"]))


async def delete_session(request: Request) -> Response:
    await services(request).sessions.delete(request.path_params["sid"])
    return Response(status_code=204)


async def get_config(request: Request) -> Response:
    info = await services(request).sessions.get(request.path_params["sid"])
    return json_response(info.config)


async def put_config(request: Request) -> Response:
    body = await read_body(request, _JSON_LIMIT)
    answer = await services(request).sessions.update_config(request.path_params["sid"], body)
    return json_response(answer)


routes = [
    Route("/api/sessions", create_session, methods=["POST"]),
    Route("/api/sessions/{sid}", get_session, methods=["GET"]),
    Route("/api/sessions/{sid}", delete_session, methods=["DELETE"]),
    Route("/api/sessions/{sid}/models/config", get_config, methods=["GET"]),
    Route("/api/sessions/{sid}/models/config", put_config, methods=["PUT"]),
]
