"""The gateway's end of the ZeroMQ link: one ROUTER socket, one future per request.

Workers connect with their worker id as ZeroMQ identity. Replies resolve the future of
their `request_id`; progress events go to the request's callback; hellos and heartbeats
go to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import zmq
import zmq.asyncio

from gateway.errors import as_service_error
from protocol.errors import ErrorCode, ServiceError
from protocol.ipc import (
    ErrorReply,
    FinalReply,
    GatewayMessage,
    Heartbeat,
    Hello,
    LoadProgress,
    WorkerMessage,
    decode_from_worker,
    encode,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[LoadProgress], None]
MessageCallback = Callable[[str, WorkerMessage], None]


@dataclass
class _Pending:
    worker_id: str
    future: asyncio.Future[FinalReply]
    on_progress: ProgressCallback | None


class WorkerLink:
    def __init__(self, endpoint: str, on_message: MessageCallback) -> None:
        self.endpoint = endpoint
        self._on_message = on_message
        self._context = zmq.asyncio.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        # Fail at once when a worker is gone instead of dropping the frame silently,
        # and let a restarted worker take over its old identity.
        self._socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._socket.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}"
        self._receiver: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._socket.bind(self.endpoint)
        self._receiver = asyncio.create_task(self._receive_loop(), name="worker-link")

    async def close(self) -> None:
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
        self.fail_pending(None, "the gateway is shutting down")
        self._socket.close(linger=0)
        self._context.term()

    def new_request_id(self) -> str:
        return f"{self._prefix}-{next(self._ids)}"

    def pending_for(self, worker_id: str) -> int:
        return sum(1 for p in self._pending.values() if p.worker_id == worker_id)

    async def send(self, worker_id: str, message: GatewayMessage, *payload: bytes) -> None:
        try:
            await self._socket.send_multipart([worker_id.encode(), encode(message), *payload])
        except zmq.ZMQError as exc:
            if exc.errno == zmq.EHOSTUNREACH:
                raise ServiceError(
                    ErrorCode.WORKER_UNAVAILABLE,
                    f"Worker {worker_id} is not connected.",
                    {"worker_id": worker_id},
                ) from exc
            raise

    async def request(
        self,
        worker_id: str,
        message: GatewayMessage,
        *payload: bytes,
        request_id: str,
        on_progress: ProgressCallback | None = None,
    ) -> FinalReply:
        """Send a request and wait for its final reply; an ErrorReply raises ServiceError."""
        future: asyncio.Future[FinalReply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(worker_id, future, on_progress)
        try:
            await self.send(worker_id, message, *payload)
            reply = await future
        finally:
            self._pending.pop(request_id, None)
        if isinstance(reply, ErrorReply):
            raise as_service_error(reply.code, reply.message, reply.details)
        return reply

    def fail_pending(self, worker_id: str | None, cause: str) -> int:
        """Fail every request waiting on a worker (None: on any worker) at once."""
        failed = 0
        for request_id, pending in list(self._pending.items()):
            if worker_id is not None and pending.worker_id != worker_id:
                continue
            if not pending.future.done():
                pending.future.set_exception(
                    ServiceError(
                        ErrorCode.WORKER_UNAVAILABLE,
                        f"Worker {pending.worker_id} went away before answering.",
                        {"worker_id": pending.worker_id, "cause": cause},
                    )
                )
                failed += 1
            self._pending.pop(request_id, None)
        return failed

    async def _receive_loop(self) -> None:
        while True:
            frames = await self._socket.recv_multipart()
            try:
                self._deliver(frames)
            except Exception:  # one bad frame or callback must never stop the loop
                log.exception("error handling a worker frame")

    def _deliver(self, frames: list[bytes]) -> None:
        if len(frames) < 2:
            log.warning("dropped a short frame from a worker")
            return
        worker_id = frames[0].decode(errors="replace")
        try:
            message = decode_from_worker(frames[1])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("dropped a malformed frame from worker %s: %s", worker_id, exc)
            return
        if isinstance(message, Hello | Heartbeat):
            self._on_message(worker_id, message)
            return
        pending = self._pending.get(message.request_id)
        if pending is None:
            log.debug("reply for unknown request %s from %s", message.request_id, worker_id)
            return
        if isinstance(message, LoadProgress):
            if pending.on_progress is not None:
                pending.on_progress(message)
        elif not pending.future.done():
            pending.future.set_result(message)
