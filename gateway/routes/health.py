"""Probes: liveness (`/healthz`, 200 while the process runs) and readiness (`/readyz`, 503
until a worker can serve the default ASR model); and the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, NoParams, api_routes
from gateway.http.io import json_response
from gateway.ops.readiness import SERVING_STATES, Readiness, readiness
from gateway.services import Services, services
from protocol.api.catalog import ASRModelInfo
from protocol.api.lifecycle import HealthzResponse, ReadyzResponse, WorkerSummary
from protocol.errors import ErrorCode, ServiceError


def _readiness(svc: Services, workers: list[WorkerSummary]) -> Readiness:
    model_id = svc.settings.default_asr_model
    entry = svc.known.find(model_id)
    info = entry.info if entry is not None else None
    # Placement's rule: a model the catalog says nothing about wants a GPU under `auto`.
    gpu = not isinstance(info, ASRModelInfo) or info.hardware_requirements.gpu_recommended
    return readiness(model_id, svc.settings.default_device, gpu, workers)


async def healthz(request: Request, params: NoParams) -> Response:
    svc = services(request)
    workers = svc.pool.summaries()
    # "ok" only when every worker is up and one of them can serve the default model.
    ok = all(w.state in SERVING_STATES for w in workers) and _readiness(svc, workers).ready
    return json_response(HealthzResponse(status="ok" if ok else "degraded", workers=workers))


async def readyz(request: Request, params: NoParams) -> Response:
    svc = services(request)
    workers = svc.pool.summaries()
    ready = _readiness(svc, workers)
    if not ready.ready:
        raise ServiceError(
            ErrorCode.WORKER_UNAVAILABLE,
            ready.reason,
            {
                "model_id": svc.settings.default_asr_model,
                "device": svc.settings.default_device,
                "devices": list(ready.devices),
                "workers": [
                    {"worker_id": w.worker_id, "device": w.device, "state": w.state}
                    for w in workers
                ],
                "retry_after_s": 1,
            },
        )
    body = ReadyzResponse(
        status="ready",
        model_id=svc.settings.default_asr_model,
        device=svc.settings.default_device,
        workers=workers,
    )
    return json_response(body)


async def openapi(request: Request, params: NoParams) -> Response:
    return json_response(services(request).openapi.current())


routes = api_routes(
    Endpoint("GET", "/healthz", "Gateway and worker liveness", healthz, NoParams, HealthzResponse),
    Endpoint(
        "GET",
        "/readyz",
        "Readiness: 503 until a worker can serve the default ASR model",
        readyz,
        NoParams,
        ReadyzResponse,
        errors=(ErrorCode.WORKER_UNAVAILABLE,),
    ),
    Endpoint(
        "GET",
        "/openapi.json",
        "This document: OpenAPI 3.1, WebSocket routes under x-websockets",
        openapi,
        NoParams,
        dict,
    ),
)
