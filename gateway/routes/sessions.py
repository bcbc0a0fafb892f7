"""Sessions and their model configuration (contract: Model Configuration)."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, JsonBody, NoParams, api_routes
from gateway.http.io import json_response, read_body
from gateway.routes.models import LOAD_ERRORS
from gateway.services import services
from protocol.api.config import (
    CreateSessionRequest,
    ModelConfig,
    SessionInfo,
    UpdateModelConfigRequest,
    UpdateModelConfigResponse,
)
from protocol.errors import ErrorCode as E

_JSON_LIMIT = 64 * 1024
# A config is checked against the machine and the catalog besides its schema.
_CONFIG_ERRORS = (
    E.CONFIGURATION_ERROR,
    E.UNSUPPORTED_DEVICE,
    E.MODEL_NOT_FOUND,
    E.PAYLOAD_TOO_LARGE,
)


class SessionPath(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # `sess_` and 16 hex digits; any other id is simply not found.
    sid: str


async def create_session(request: Request, params: NoParams) -> Response:
    body = await read_body(request, _JSON_LIMIT)
    info = await services(request).sessions.create(body)
    return json_response(info, 201)


async def get_session(request: Request, params: SessionPath) -> Response:
    return json_response(await services(request).sessions.get(params.sid))


async def delete_session(request: Request, params: SessionPath) -> Response:
    await services(request).sessions.delete(params.sid)
    return Response(status_code=204)


async def get_config(request: Request, params: SessionPath) -> Response:
    info = await services(request).sessions.get(params.sid)
    return json_response(info.config)


async def put_config(request: Request, params: SessionPath) -> Response:
    body = await read_body(request, _JSON_LIMIT)
    answer = await services(request).sessions.update_config(params.sid, body)
    return json_response(answer)


routes = api_routes(
    Endpoint(
        "POST",
        "/api/sessions",
        "New session, from the defaults and an optional partial config",
        create_session,
        NoParams,
        SessionInfo,
        statuses=(201,),
        body=JsonBody(CreateSessionRequest),
        errors=_CONFIG_ERRORS,
    ),
    Endpoint(
        "GET",
        "/api/sessions/{sid}",
        "A session",
        get_session,
        SessionPath,
        SessionInfo,
        errors=(E.SESSION_NOT_FOUND,),
    ),
    Endpoint(
        "DELETE",
        "/api/sessions/{sid}",
        "Remove a session",
        delete_session,
        SessionPath,
        None,
        statuses=(204,),
        errors=(E.SESSION_NOT_FOUND,),
    ),
    Endpoint(
        "GET",
        "/api/sessions/{sid}/models/config",
        "A session's model config",
        get_config,
        SessionPath,
        ModelConfig,
        errors=(E.SESSION_NOT_FOUND,),
    ),
    Endpoint(
        "PUT",
        "/api/sessions/{sid}/models/config",
        "Change a session's config (deep partial update; apply_immediately loads now)",
        put_config,
        SessionPath,
        UpdateModelConfigResponse,
        body=JsonBody(UpdateModelConfigRequest, required=True),
        errors=(E.SESSION_NOT_FOUND, *_CONFIG_ERRORS, *LOAD_ERRORS),
    ),
)
