"""Operator controls: list workers, drain one (and resume it), restart one (gracefully or
by force)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, NoParams, api_routes
from gateway.http.io import json_response
from gateway.services import Services, services
from protocol.api.lifecycle import WorkerListResponse, WorkerSummary
from protocol.errors import ErrorCode as E


class WorkerPath(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    worker_id: Annotated[str, msgspec.Meta(examples=["cpu"])]


class RestartParams(WorkerPath, kw_only=True, forbid_unknown_fields=True):
    # true: kill the process now instead of draining its work first.
    force: bool = False


def _summary(svc: Services, worker_id: str) -> WorkerSummary:
    svc.pool.require(worker_id)
    (found,) = [s for s in svc.pool.summaries(svc.link.pending_for) if s.worker_id == worker_id]
    return found


async def list_workers(request: Request, params: NoParams) -> Response:
    svc = services(request)
    return json_response(WorkerListResponse(workers=svc.pool.summaries(svc.link.pending_for)))


async def get_worker(request: Request, params: WorkerPath) -> Response:
    return json_response(_summary(services(request), params.worker_id))


async def drain_worker(request: Request, params: WorkerPath) -> Response:
    svc = services(request)
    svc.control.drain(params.worker_id)
    return json_response(_summary(svc, params.worker_id), 202)


async def resume_worker(request: Request, params: WorkerPath) -> Response:
    svc = services(request)
    svc.control.resume(params.worker_id)
    return json_response(_summary(svc, params.worker_id))


async def restart_worker(request: Request, params: RestartParams) -> Response:
    svc = services(request)
    svc.control.restart(params.worker_id, force=params.force)
    return json_response(_summary(svc, params.worker_id), 202)


routes = api_routes(
    Endpoint("GET", "/api/workers", "Workers", list_workers, NoParams, WorkerListResponse),
    Endpoint(
        "GET",
        "/api/workers/{worker_id}",
        "One worker",
        get_worker,
        WorkerPath,
        WorkerSummary,
        errors=(E.WORKER_NOT_FOUND,),
    ),
    Endpoint(
        "POST",
        "/api/workers/{worker_id}/drain",
        "Drain a worker: it takes no new work",
        drain_worker,
        WorkerPath,
        WorkerSummary,
        statuses=(202,),
        errors=(E.WORKER_NOT_FOUND, E.WORKER_UNAVAILABLE),
    ),
    Endpoint(
        "POST",
        "/api/workers/{worker_id}/resume",
        "End a drain: the worker takes new work again",
        resume_worker,
        WorkerPath,
        WorkerSummary,
        errors=(E.WORKER_NOT_FOUND, E.WORKER_NOT_DRAINING),
    ),
    Endpoint(
        "POST",
        "/api/workers/{worker_id}/restart",
        "Restart a worker (drained first unless force) and restore its models",
        restart_worker,
        RestartParams,
        WorkerSummary,
        statuses=(202,),
        errors=(E.WORKER_NOT_FOUND, E.WORKER_UNAVAILABLE),
    ),
)
