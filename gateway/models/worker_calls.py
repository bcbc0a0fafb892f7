"""What the models package asks of the worker link, and the one status call placement needs.

`ModelLink` names the few link methods the manager and the inference calls use, so their
logic runs in unit tests against a plain fake; `gateway.workers.link.WorkerLink` is the real
one.
"""

from __future__ import annotations

from typing import Protocol

from gateway.workers.pool import WorkerState
from gateway.workers.request_stream import RequestStream
from protocol.wire.messages import FinalReply, GatewayMessage, StatusReply, StatusRequest


class ModelLink(Protocol):
    def new_request_id(self) -> str: ...

    async def request(
        self, worker_id: str, message: GatewayMessage, *payload: bytes, request_id: str
    ) -> FinalReply: ...

    def stream(
        self,
        worker_id: str,
        message: GatewayMessage,
        *payload: bytes,
        request_id: str,
        stall_timeout_s: float | None = None,
    ) -> RequestStream: ...


def memory_is_fresh(worker: WorkerState, now: float, max_age_s: float) -> bool:
    """Whether the worker's last memory figure can stand for now: it came at most
    `max_age_s` ago. Every load and unload reply carries a figure measured after it, so a
    recent figure already counts what the worker's own loads and unloads changed."""
    return (
        worker.memory is not None
        and worker.memory_at is not None
        and (now - worker.memory_at <= max_age_s)
    )


async def refresh_memory(
    link: ModelLink, worker: WorkerState, now: float, max_age_s: float
) -> None:
    """Make sure admission sees the worker's memory as it is: ask the worker (a status
    round trip) only when its last figure is older than `max_age_s`."""
    if memory_is_fresh(worker, now, max_age_s):
        return
    request_id = link.new_request_id()
    reply = await link.request(
        worker.worker_id, StatusRequest(request_id=request_id), request_id=request_id
    )
    if isinstance(reply, StatusReply):
        worker.memory = reply.memory
        worker.memory_at = now
