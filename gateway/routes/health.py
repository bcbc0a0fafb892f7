"""Liveness of the gateway and its workers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import json_response
from gateway.services import services
from protocol.api.lifecycle import HealthzResponse


async def healthz(request: Request) -> Response:
    workers = services(request).pool.summaries()
    ok = bool(workers) and all(w.state in ("ready", "busy") for w in workers)
    return json_response(HealthzResponse(status="ok" if ok else "degraded", workers=workers))


async def openapi(request: Request) -> Response:
    return json_response(services(request).openapi)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]
