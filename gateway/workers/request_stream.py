"""One open request on a worker: its partial replies as they come, then its final reply.

    async with link.stream(worker_id, message, *frames, request_id=rid) as stream:
        async for partial in stream:        # PartialReply Structs, in order
            ...
            await stream.send(follow_up, chunk)   # more messages on the open request
        reply = stream.final                # the FinalReply (an ErrorReply raised instead)

Entering sends the request; iteration ends when the final reply arrives, and raises
ServiceError for an ErrorReply (its code) or a lost worker (WORKER_UNAVAILABLE), or
TimeoutError when `stall_timeout_s` passes without a word. Leaving the block before the
final reply (break, exception, task cancellation) sends `Cancel(request_id)` to the worker
and stops routing the request's replies: what comes for it later is dropped.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Protocol, Self

from protocol.errors import ServiceError
from protocol.wire.messages import ErrorReply, FinalReply, GatewayMessage, PartialReply

_Item = PartialReply | FinalReply | ServiceError


class StreamHost(Protocol):
    """What a stream needs of the link that routes its replies."""

    def open_stream(self, stream: RequestStream) -> None:
        """Start routing replies to `stream`; raises the worker's refusal (draining...)."""

    def close_stream(self, stream: RequestStream, cancel: bool) -> None:
        """Stop routing; when `cancel`, tell the worker (without waiting on the socket)."""

    async def send(self, worker_id: str, message: GatewayMessage, *payload: bytes) -> None: ...


class RequestStream:
    def __init__(
        self,
        host: StreamHost,
        worker_id: str,
        message: GatewayMessage,
        payload: tuple[bytes, ...],
        request_id: str,
        stall_timeout_s: float | None = None,
    ) -> None:
        self.worker_id = worker_id
        self.request_id = request_id
        self._host = host
        self._message = message
        self._payload = payload
        self._stall_timeout_s = stall_timeout_s
        self._items: asyncio.Queue[_Item] = asyncio.Queue()
        self._state: str = "new"  # new -> open -> ended (the link saw the end) / closed
        self._final: FinalReply | None = None
        self._error: ServiceError | None = None

    # ------------------------------------------------------------ the caller's side

    @property
    def is_open(self) -> bool:
        """Sent, and its final reply (or failure) not yet come: follow-ups may go."""
        return self._state == "open"

    @property
    def final(self) -> FinalReply:
        """The final reply, once iteration has ended without an error."""
        if self._final is None:
            raise RuntimeError(f"request {self.request_id} has no final reply yet")
        return self._final

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def open(self) -> None:
        """Send the request (once); `async with` does this for you."""
        if self._state != "new":
            raise RuntimeError(f"request {self.request_id} was already sent")
        self._host.open_stream(self)
        self._state = "open"
        try:
            await self._host.send(self.worker_id, self._message, *self._payload)
        except asyncio.CancelledError:
            self.close()  # it may have left: the worker drops it if it did
            raise
        except BaseException:
            self._state = "closed"  # it never reached the worker
            self._host.close_stream(self, cancel=False)
            raise

    def close(self) -> None:
        """Stop listening; a request still open on the worker is cancelled there."""
        if self._state in ("new", "open"):
            cancel = self._state == "open"
            self._state = "closed"
            self._host.close_stream(self, cancel=cancel)

    async def send(self, message: GatewayMessage, *payload: bytes) -> None:
        """Another message on this open request (it must name `request_id`), e.g. the next
        chunk of audio as a frame of its own."""
        if getattr(message, "request_id", None) != self.request_id:
            raise ValueError(f"a follow-up of request {self.request_id} must carry its id")
        if not self.is_open:
            if self._error is not None:
                raise _copy(self._error)
            raise RuntimeError(f"request {self.request_id} is no longer open")
        await self._host.send(self.worker_id, message, *payload)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> PartialReply:
        if self._error is not None:
            raise _copy(self._error)
        if self._final is not None:
            raise StopAsyncIteration
        if self._state == "new":
            raise RuntimeError(f"request {self.request_id} was not sent: use `async with`")
        if self._state == "closed":
            raise RuntimeError(f"request {self.request_id} was closed before its end")
        async with asyncio.timeout(self._stall_timeout_s):
            item = await self._items.get()
        if isinstance(item, ServiceError):
            self._error = item
            raise item
        if isinstance(item, ErrorReply):
            self._error = ServiceError(item.code, item.message, item.details)
            raise self._error
        if isinstance(item, PartialReply):
            return item
        self._final = item
        raise StopAsyncIteration

    async def result(self) -> FinalReply:
        """Skip the partial replies still to come and return the final one."""
        async for _ in self:
            pass
        return self.final

    # ------------------------------------------------------------ the link's side

    def deliver(self, item: _Item) -> None:
        """A reply (or a failure) for this request, in the order it came. The link calls
        `ended` itself after a final one."""
        self._items.put_nowait(item)

    def ended(self) -> None:
        """The worker is done with it (final reply or failure): nothing to cancel."""
        if self._state == "open":
            self._state = "ended"


def _copy(error: ServiceError) -> ServiceError:
    # A fresh exception each time it is raised: each gets its own traceback.
    return ServiceError(error.code, error.message, error.details)
