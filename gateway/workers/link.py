"""The gateway's end of the ZeroMQ link: ROUTER sockets, one open stream per request.

Local workers connect over ipc://; remote ones over tcp:// with CURVE when configured
(a second ROUTER, see remote_listener). Workers use their worker id as ZeroMQ identity;
the link remembers on which socket each one said hello. Every request is a stream
(request_stream.py): its partial replies and then its final reply go to the stream of
their `request_id`, only from the worker it was sent to; replies to requests nobody waits
for (any more) are dropped. Hellos, heartbeats, goodbyes and load/unload results go to the
pool. A worker heard from without a hello (a remote one reconnecting, a restarted gateway)
is asked to introduce itself again. Frames that do not decode are logged and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import zmq
import zmq.asyncio

from gateway.workers.exits import failure_for
from gateway.workers.remote_listener import RemoteListener
from gateway.workers.request_stream import RequestStream
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import (
    Cancel,
    FinalReply,
    GatewayMessage,
    Goodbye,
    Heartbeat,
    Hello,
    HelloRequest,
    LoadResult,
    PartialReply,
    UnloadResult,
    WorkerMessage,
    decode_from_worker,
    encode,
)

if TYPE_CHECKING:
    from gateway.workers.pool import WorkerState

log = logging.getLogger(__name__)

MessageCallback = Callable[[str, WorkerMessage], None]
Gate = Callable[[str], ServiceError | None]

_ASK_HELLO_EVERY_S = 1.0


class WorkerLink:
    def __init__(self, endpoint: str, on_message: MessageCallback) -> None:
        self.endpoint = endpoint
        self._on_message = on_message
        self._context = zmq.asyncio.Context()
        self._local = self._router()
        self._sockets: list[zmq.asyncio.Socket] = [self._local]
        self._routes: dict[str, zmq.asyncio.Socket] = {}
        self._asked_hello: dict[str, float] = {}
        self._streams: dict[str, RequestStream] = {}
        self._open_on: dict[str, int] = {}  # open streams per worker
        self._idle: dict[str, asyncio.Event] = {}  # set while a worker has none
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
        """Requests sent to the worker whose final reply has not come."""
        return self._open_on.get(worker_id, 0)

    async def wait_idle(self, worker_id: str) -> None:
        """Return once the worker has no request in flight (at once if it has none)."""
        while self.pending_for(worker_id):
            await self._idle_event(worker_id).wait()

    def _idle_event(self, worker_id: str) -> asyncio.Event:
        event = self._idle.get(worker_id)
        if event is None:
            event = self._idle[worker_id] = asyncio.Event()
            if not self.pending_for(worker_id):
                event.set()
        return event

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

    def stream(
        self,
        worker_id: str,
        message: GatewayMessage,
        *payload: bytes,
        request_id: str,
        stall_timeout_s: float | None = None,
    ) -> RequestStream:
        """A request whose partial replies the caller reads as they come (request_stream.py);
        sent when the caller enters it (`async with`). With `stall_timeout_s`, reading gives
        up (TimeoutError) only after that long without any reply: a download that keeps
        reporting bytes is not stuck."""
        return RequestStream(self, worker_id, message, payload, request_id, stall_timeout_s)

    async def request(
        self, worker_id: str, message: GatewayMessage, *payload: bytes, request_id: str
    ) -> FinalReply:
        """Send a request and wait for its final reply; an ErrorReply raises ServiceError."""
        async with self.stream(worker_id, message, *payload, request_id=request_id) as stream:
            return await stream.result()

    # ------------------------------------------------------------ stream host

    def open_stream(self, stream: RequestStream) -> None:
        refused = self.gate(stream.worker_id) if self.gate is not None else None
        if refused is not None:
            raise refused
        if stream.request_id in self._streams:
            raise ValueError(f"request id {stream.request_id} is already in flight")
        self._streams[stream.request_id] = stream
        worker_id = stream.worker_id
        self._open_on[worker_id] = self._open_on.get(worker_id, 0) + 1
        self._idle_event(worker_id).clear()

    def close_stream(self, stream: RequestStream, cancel: bool) -> None:
        if self._streams.get(stream.request_id) is not stream:
            return  # already ended
        del self._streams[stream.request_id]
        worker_id = stream.worker_id
        self._open_on[worker_id] -= 1
        if not self._open_on[worker_id]:
            del self._open_on[worker_id]
            self._idle_event(worker_id).set()
        if cancel:
            self._send_nowait(worker_id, Cancel(request_id=stream.request_id))

    def _end_stream(self, stream: RequestStream) -> None:
        stream.ended()
        self.close_stream(stream, cancel=False)

    def _send_nowait(self, worker_id: str, message: GatewayMessage) -> None:
        """Send without waiting (safe while a task is being cancelled); a failure is only
        logged: the worker is gone, and with it what the message was about."""
        socket = self._routes.get(worker_id, self._local)
        try:
            sent = socket.send_multipart([worker_id.encode(), encode(message)])
        except zmq.ZMQError as exc:
            log.info("could not send %s to %s: %s", type(message).__name__, worker_id, exc)
            return
        if isinstance(sent, asyncio.Future):
            sent.add_done_callback(_log_send_failure)

    def fail_pending(
        self, worker_id: str | None, cause: str, error: ServiceError | None = None
    ) -> int:
        """Fail every request open on a worker (None: on any worker) at once."""
        failed = 0
        for stream in list(self._streams.values()):
            if worker_id is not None and stream.worker_id != worker_id:
                continue
            template = error or ServiceError(
                ErrorCode.WORKER_UNAVAILABLE,
                f"Worker {stream.worker_id} could not answer: {cause}.",
                {"worker_id": stream.worker_id, "cause": cause},
            )
            # One exception object per request: each gets its own traceback.
            stream.deliver(ServiceError(template.code, template.message, template.details))
            self._end_stream(stream)
            failed += 1
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

    def _on_reply(self, worker_id: str, message: PartialReply | FinalReply) -> None:
        stream = self._streams.get(message.request_id)
        if stream is None or stream.worker_id != worker_id:
            log.debug(
                "dropped a reply to unknown request %s from %s", message.request_id, worker_id
            )
            return
        if isinstance(message, PartialReply):
            stream.deliver(message)
            return
        if isinstance(message, LoadResult | UnloadResult):
            self._on_message(worker_id, message)  # the pool tracks each worker's models
        stream.deliver(message)
        self._end_stream(stream)


def _log_send_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.info("could not send to a worker (a hello request or a cancel): %s", future.exception())
