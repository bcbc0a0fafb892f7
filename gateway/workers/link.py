"""The gateway's end of the ZeroMQ link: ROUTER sockets, one future per request.

Local workers connect over ipc://; remote ones over tcp:// with CURVE when configured
(a second ROUTER, see remote_listener). Workers use their worker id as ZeroMQ identity;
the link remembers on which socket each one said hello. Replies resolve the future of
their `request_id` (only from the worker it was sent to); progress goes to the
request's callback; hellos, heartbeats, goodbyes and load/unload results go to the pool.
A worker heard from without a hello (a remote one reconnecting, a restarted gateway) is
asked to introduce itself again. Frames that do not decode are logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import zmq
import zmq.asyncio

from gateway.workers.exits import failure_for
from gateway.workers.remote_listener import RemoteListener
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import (
    ErrorReply,
    FinalReply,
    GatewayMessage,
    Goodbye,
    Heartbeat,
    Hello,
    HelloRequest,
    LoadProgress,
    LoadResult,
    UnloadResult,
    WorkerMessage,
    decode_from_worker,
    encode,
)

if TYPE_CHECKING:
    from gateway.workers.pool import WorkerState

log = logging.getLogger(__name__)

ProgressCallback = Callable[[LoadProgress], None]
MessageCallback = Callable[[str, WorkerMessage], None]
Gate = Callable[[str], ServiceError | None]

_ASK_HELLO_EVERY_S = 1.0


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
        self._local = self._router()
        self._sockets: list[zmq.asyncio.Socket] = [self._local]
        self._routes: dict[str, zmq.asyncio.Socket] = {}
        self._asked_hello: dict[str, float] = {}
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}"
        self._receivers: list[asyncio.Task[None]] = []
        self._remote: RemoteListener | None = None
        # Says whether a worker takes new requests (the pool: not while draining).
        self.gate: Gate | None = None

    def _router(self) -> zmq.asyncio.Socket:
        socket = self._context.socket(zmq.ROUTER)
        # Fail at once when a worker is gone instead of dropping the frame silently,
        # and let a restarted (or reconnected) worker take over its old identity.
        socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        socket.setsockopt(zmq.ROUTER_HANDOVER, 1)
        socket.setsockopt(zmq.LINGER, 0)
        return socket

    def start(self) -> None:
        self._local.bind(self.endpoint)
        self._receive_on(self._local)

    def listen_remote(
        self, endpoint: str, secret_key_file: Path | None, allowed_dir: Path | None
    ) -> None:
        """Also accept workers over tcp://, CURVE-encrypted, from listed public keys only."""
        if secret_key_file is None or allowed_dir is None:
            raise ValueError("remote workers need a server secret key and an allow-list folder")
        socket = self._router()
        self._remote = RemoteListener(self._context, socket, endpoint, secret_key_file, allowed_dir)
        self._sockets.append(socket)
        self._receive_on(socket)

    def _receive_on(self, socket: zmq.asyncio.Socket) -> None:
        name = f"worker-link {len(self._receivers)}"
        self._receivers.append(asyncio.create_task(self._receive_loop(socket), name=name))

    async def close(self) -> None:
        for receiver in self._receivers:
            receiver.cancel()
        for receiver in self._receivers:
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
        self.fail_pending(None, "the gateway is shutting down")
        if self._remote is not None:
            await self._remote.close()
        for socket in self._sockets:
            socket.close(linger=0)
        self._context.term()

    def new_request_id(self) -> str:
        return f"{self._prefix}-{next(self._ids)}"

    def pending_for(self, worker_id: str) -> int:
        return sum(1 for p in self._pending.values() if p.worker_id == worker_id)

    def is_remote(self, worker_id: str) -> bool:
        return worker_id in self._routes and self._routes[worker_id] is not self._local

    async def send(self, worker_id: str, message: GatewayMessage, *payload: bytes) -> None:
        socket = self._routes.get(worker_id, self._local)
        try:
            await socket.send_multipart([worker_id.encode(), encode(message), *payload])
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
        refused = self.gate(worker_id) if self.gate is not None else None
        if refused is not None:
            raise refused
        future: asyncio.Future[FinalReply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(worker_id, future, on_progress)
        try:
            await self.send(worker_id, message, *payload)
            reply = await future
        finally:
            self._pending.pop(request_id, None)
        if isinstance(reply, ErrorReply):
            raise ServiceError(reply.code, reply.message, reply.details)
        return reply

    async def request_until_stalled(
        self,
        worker_id: str,
        message: GatewayMessage,
        *,
        request_id: str,
        on_progress: ProgressCallback,
        stall_timeout_s: float,
    ) -> FinalReply:
        """Like `request`, but gives up (TimeoutError) only after `stall_timeout_s` without
        a reply or a progress event: a download that keeps reporting bytes is not stuck."""
        loop = asyncio.get_running_loop()
        last_progress = loop.time()

        def progressed(progress: LoadProgress) -> None:
            nonlocal last_progress
            last_progress = loop.time()
            on_progress(progress)

        reply = asyncio.ensure_future(
            self.request(worker_id, message, request_id=request_id, on_progress=progressed)
        )
        while True:
            remaining = last_progress + stall_timeout_s - loop.time()
            done, _ = await asyncio.wait({reply}, timeout=max(remaining, 0.0))
            if done:
                return reply.result()
            if loop.time() - last_progress >= stall_timeout_s:
                reply.cancel()
                raise TimeoutError

    def fail_pending(
        self, worker_id: str | None, cause: str, error: ServiceError | None = None
    ) -> int:
        """Fail every request waiting on a worker (None: on any worker) at once."""
        failed = 0
        for request_id, pending in list(self._pending.items()):
            if worker_id is not None and pending.worker_id != worker_id:
                continue
            if not pending.future.done():
                template = error or ServiceError(
                    ErrorCode.WORKER_UNAVAILABLE,
                    f"Worker {pending.worker_id} could not answer: {cause}.",
                    {"worker_id": pending.worker_id, "cause": cause},
                )
                # One exception object per request: each gets its own traceback.
                pending.future.set_exception(
                    ServiceError(template.code, template.message, template.details)
                )
                failed += 1
            self._pending.pop(request_id, None)
        return failed

    def forget(self, worker_id: str) -> None:
        """The worker is gone: the next word from it must be a fresh hello."""
        self._routes.pop(worker_id, None)

    # ------------------------------------------------------------ pool listener

    def worker_ready(self, worker: WorkerState) -> None:
        pass

    def worker_lost(self, worker: WorkerState, cause: str) -> None:
        failed = self.fail_pending(
            worker.worker_id, cause, failure_for(worker.worker_id, worker.last_exit)
        )
        if failed:
            log.warning("failed %d request(s) in flight on %s: %s", failed, worker.worker_id, cause)
        self.forget(worker.worker_id)

    # ------------------------------------------------------------ receiving

    async def _receive_loop(self, socket: zmq.asyncio.Socket) -> None:
        while True:
            frames = await socket.recv_multipart()
            try:
                self._deliver(socket, frames)
            except Exception:  # one bad frame or callback must never stop the loop
                log.exception("error handling a worker frame")

    def _deliver(self, socket: zmq.asyncio.Socket, frames: list[bytes]) -> None:
        if len(frames) < 2:
            log.warning("dropped a frame without a message from a worker")
            return
        worker_id = frames[0].decode(errors="replace")
        try:
            message = decode_from_worker(frames[1])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("dropped a malformed frame from worker %r: %s", worker_id, exc)
            return
        if isinstance(message, Hello):
            self._on_hello(socket, worker_id, message)
        elif isinstance(message, Heartbeat | Goodbye):
            if self._routes.get(worker_id) is socket:
                self._on_message(worker_id, message)
            elif isinstance(message, Heartbeat):
                self._ask_hello(socket, worker_id)
        else:
            self._on_reply(worker_id, message)

    def _on_hello(self, socket: zmq.asyncio.Socket, worker_id: str, hello: Hello) -> None:
        if hello.worker_id != worker_id:
            log.warning("dropped a hello from %r naming itself %r", worker_id, hello.worker_id)
            return
        current = self._routes.get(worker_id)
        if current is not None and current is not socket:
            log.warning("refused worker %r: that id is already connected elsewhere", worker_id)
            return
        self._routes[worker_id] = socket
        self._asked_hello.pop(worker_id, None)
        self._on_message(worker_id, hello)

    def _ask_hello(self, socket: zmq.asyncio.Socket, worker_id: str) -> None:
        now = time.monotonic()
        if now - self._asked_hello.get(worker_id, -_ASK_HELLO_EVERY_S) < _ASK_HELLO_EVERY_S:
            return
        self._asked_hello[worker_id] = now
        log.info("worker %r is talking without a hello; asking it to introduce itself", worker_id)
        frames = [worker_id.encode(), encode(HelloRequest(reason="unknown to the gateway"))]
        sent = socket.send_multipart(frames)
        if isinstance(sent, asyncio.Future):
            sent.add_done_callback(_log_send_failure)

    def _on_reply(self, worker_id: str, message: FinalReply | LoadProgress) -> None:
        pending = self._pending.get(message.request_id)
        if pending is None or pending.worker_id != worker_id:
            log.debug(
                "dropped a reply to unknown request %s from %s", message.request_id, worker_id
            )
            return
        if isinstance(message, LoadProgress):
            if pending.on_progress is not None:
                pending.on_progress(message)
            return
        if isinstance(message, LoadResult | UnloadResult):
            self._on_message(worker_id, message)  # the pool tracks each worker's models
        if not pending.future.done():
            pending.future.set_result(message)


def _log_send_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.info("could not ask a worker for its hello: %s", future.exception())
