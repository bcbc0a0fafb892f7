"""Model lifecycle routes: load, unload, status. Model ids keep their slash (`org/name`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import decode_json, json_response, read_body
from gateway.services import services
from protocol.api.lifecycle import LoadModelRequest
from protocol.errors import ErrorCode

_JSON_LIMIT = 64 * 1024


async def load_model(request: Request) -> Response:
    svc = services(request)
    model_id = request.path_params["model_id"]
    body = await read_body(request, _JSON_LIMIT)
    load_request = decode_json(body, LoadModelRequest, ErrorCode.CONFIGURATION_ERROR)
    sid = request.query_params.get("session_id")
    answer = await svc.models.load(model_id, load_request, sid)
    return json_response(answer, 200 if answer.status == "loaded" else 202)


async def download_model(request: Request) -> Response:
    """Fetch the files, load nothing: 200 when they are already here, else 202 and events."""
    svc = services(request)
    sid = request.query_params.get("session_id")
    answer = await svc.downloads.start(request.path_params["model_id"], sid)
    return json_response(answer, 200 if answer.status == "downloaded" else 202)


async def unload_model(request: Request) -> Response:
    svc = services(request)
    answer = await svc.models.unload(request.path_params["model_id"])
    return json_response(answer)


async def models_status(request: Request) -> Response:
    # Encoded once per change, not per request (gateway/ops/status_snapshot.py).
    return Response(services(request).status.body(), media_type="application/json")


async def health_check(request: Request) -> Response:
    svc = services(request)
    return json_response(await svc.health.check(request.path_params["model_id"]))


routes = [
    Route("/api/models/status", models_status, methods=["GET"]),
    Route("/api/models/{model_id:path}/load", load_model, methods=["POST"]),
    Route("/api/models/{model_id:path}/unload", unload_model, methods=["POST"]),
    Route("/api/models/{model_id:path}/download", download_model, methods=["POST"]),
    Route("/api/models/{model_id:path}/health-check", health_check, methods=["POST"]),
]
