"""Liveness of the gateway and its workers, and the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, NoParams, api_routes
from gateway.http.io import json_response
from gateway.services import services
from protocol.api.lifecycle import HealthzResponse


async def healthz(request: Request, params: NoParams) -> Response:
    workers = services(request).pool.summaries()
    ok = bool(workers) and all(w.state in ("ready", "busy") for w in workers)
    return json_response(HealthzResponse(status="ok" if ok else "degraded", workers=workers))


async def openapi(request: Request, params: NoParams) -> Response:
    return json_response(services(request).openapi.current())


routes = api_routes(
    Endpoint("GET", "/healthz", "Gateway and worker liveness", healthz, NoParams, HealthzResponse),
    Endpoint(
        "GET",
        "/openapi.json",
        "This document: OpenAPI 3.1, WebSocket routes under x-websockets",
        openapi,
        NoParams,
        dict,
    ),
)
