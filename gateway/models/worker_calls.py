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


async def refresh_memory(link: ModelLink, worker: WorkerState) -> None:
    """Measure the worker's memory now: the last heartbeat may predate a load."""
    request_id = link.new_request_id()
    reply = await link.request(
        worker.worker_id, StatusRequest(request_id=request_id), request_id=request_id
    )
    if isinstance(reply, StatusReply):
        worker.memory = reply.memory
