"""Operator controls: list workers, drain one (and resume it), restart one (gracefully or
by force)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.http.io import json_response
from gateway.services import Services, services
from protocol.api.lifecycle import WorkerListResponse, WorkerSummary
from protocol.errors import ErrorCode, ServiceError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _summary(svc: Services, worker_id: str) -> WorkerSummary:
    svc.pool.require(worker_id)
    (found,) = [s for s in svc.pool.summaries(svc.link.pending_for) if s.worker_id == worker_id]
    return found


def _force(request: Request) -> bool:
    raw = request.query_params.get("force", "").strip().lower()
    if raw in _TRUE | _FALSE:
        return raw in _TRUE
    raise ServiceError(
        ErrorCode.INVALID_REQUEST,
        f"force={raw!r}: expected true or false.",
        {"field": "force", "value": raw},
    )


async def list_workers(request: Request) -> Response:
    svc = services(request)
    return json_response(WorkerListResponse(workers=svc.pool.summaries(svc.link.pending_for)))


async def get_worker(request: Request) -> Response:
    return json_response(_summary(services(request), request.path_params["worker_id"]))


async def drain_worker(request: Request) -> Response:
    svc = services(request)
    worker_id = request.path_params["worker_id"]
    svc.control.drain(worker_id)
    return json_response(_summary(svc, worker_id), 202)


async def resume_worker(request: Request) -> Response:
    svc = services(request)
    worker_id = request.path_params["worker_id"]
    svc.control.resume(worker_id)
    return json_response(_summary(svc, worker_id))


async def restart_worker(request: Request) -> Response:
    svc = services(request)
    worker_id = request.path_params["worker_id"]
    svc.control.restart(worker_id, force=_force(request))
    return json_response(_summary(svc, worker_id), 202)


routes = [
    Route("/api/workers", list_workers, methods=["GET"]),
    Route("/api/workers/{worker_id}", get_worker, methods=["GET"]),
    Route("/api/workers/{worker_id}/drain", drain_worker, methods=["POST"]),
    Route("/api/workers/{worker_id}/resume", resume_worker, methods=["POST"]),
    Route("/api/workers/{worker_id}/restart", restart_worker, methods=["POST"]),
]
