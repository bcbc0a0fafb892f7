"""Model lifecycle routes: load, unload, download (the files only), status. Model ids
keep their slash (`org/name`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, JsonBody, api_routes
from gateway.http.io import decode_json, json_response, read_body
from gateway.services import services
from protocol.api.health import ModelHealthCheckResponse
from protocol.api.lifecycle import (
    DownloadModelResponse,
    LoadModelRequest,
    LoadModelResponse,
    ModelsStatusResponse,
    ModelState,
    UnloadModelResponse,
)
from protocol.errors import ErrorCode as E

_JSON_LIMIT = 64 * 1024
# What a load can fail with before it starts (later failures come as model.load.failed).
LOAD_ERRORS = (
    E.MODEL_NOT_FOUND,
    E.DOWNLOAD_REQUIRED,
    E.INSUFFICIENT_MEMORY,
    E.UNSUPPORTED_DEVICE,
    E.CONFIGURATION_ERROR,
    E.LICENSE_ERROR,
    E.WORKER_UNAVAILABLE,
    E.PAYLOAD_TOO_LARGE,
)


# A catalog id (it keeps its slash) or `local/<folder>`; the bundled model as the example.
ModelId = Annotated[str, msgspec.Meta(examples=["openai/whisper-tiny.en"])]


class ModelPath(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_id: ModelId


class LoadParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_id: ModelId
    # The session asking: the load's events carry its sid.
    session_id: str | None = None


class StatusParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Only the models in this state.
    status: ModelState | None = None


async def load_model(request: Request, params: LoadParams) -> Response:
    svc = services(request)
    body = await read_body(request, _JSON_LIMIT)
    load_request = decode_json(body, LoadModelRequest, E.CONFIGURATION_ERROR)
    answer = await svc.models.load(params.model_id, load_request, params.session_id)
    return json_response(answer, 200 if answer.status == "loaded" else 202)


async def download_model(request: Request, params: LoadParams) -> Response:
    """Fetch the files, load nothing: 200 when they are already here, else 202 and events."""
    svc = services(request)
    answer = await svc.downloads.start(params.model_id, params.session_id)
    return json_response(answer, 200 if answer.status == "downloaded" else 202)


async def unload_model(request: Request, params: ModelPath) -> Response:
    svc = services(request)
    answer = await svc.models.unload(params.model_id)
    return json_response(answer)


async def models_status(request: Request, params: StatusParams) -> Response:
    # Encoded once per change, not per request (gateway/ops/status_snapshot.py).
    wanted = None if params.status is None else [params.status]
    return Response(services(request).status.body(wanted), media_type="application/json")


async def health_check(request: Request, params: ModelPath) -> Response:
    svc = services(request)
    return json_response(await svc.health.check(params.model_id))


routes = api_routes(
    Endpoint(
        "GET",
        "/api/models/status",
        "Every model's status (optionally only those in one state)",
        models_status,
        StatusParams,
        ModelsStatusResponse,
    ),
    Endpoint(
        "POST",
        "/api/models/{model_id:path}/load",
        "Load a model: 202 loading (progress as events), 200 if it already is",
        load_model,
        LoadParams,
        LoadModelResponse,
        statuses=(202, 200),
        body=JsonBody(LoadModelRequest),
        errors=LOAD_ERRORS,
    ),
    Endpoint(
        "POST",
        "/api/models/{model_id:path}/unload",
        "Unload a model, after the work it accepted",
        unload_model,
        ModelPath,
        UnloadModelResponse,
        errors=(E.MODEL_NOT_FOUND, E.MODEL_NOT_LOADED, E.WORKER_UNAVAILABLE),
    ),
    Endpoint(
        "POST",
        "/api/models/{model_id:path}/download",
        "Download a model's files without loading them: 202 downloading (bytes as "
        "model.download.* events), 200 if they are already on this machine",
        download_model,
        LoadParams,
        DownloadModelResponse,
        statuses=(202, 200),
        errors=(
            E.MODEL_NOT_FOUND,
            E.DOWNLOAD_REQUIRED,
            E.UNSUPPORTED_DEVICE,
            E.WORKER_UNAVAILABLE,
        ),
    ),
    Endpoint(
        "POST",
        "/api/models/{model_id:path}/health-check",
        "Check a model with a real small inference",
        health_check,
        ModelPath,
        ModelHealthCheckResponse,
        errors=(E.MODEL_NOT_FOUND, E.WORKER_UNAVAILABLE),
    ),
)
