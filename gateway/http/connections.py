"""uvicorn's HTTP/1.1 protocol with the bounds a slow or greedy client must not escape.

- A connection that has not sent a complete request head within LX_REQUEST_HEAD_TIMEOUT_MS
  of opening (or of its first byte after a keep-alive pause) is closed: uvicorn alone waits
  for a head forever, so half-sent headers (slowloris) held every descriptor.
- Idle keep-alive connections are closed by uvicorn itself (timeout_keep_alive, set from
  LX_KEEPALIVE_TIMEOUT_MS).
- Past the connection cap (LX_MAX_CONNECTIONS, lowered to what the descriptor limit leaves)
  a new connection gets 503 TOO_MANY_CONNECTIONS in the error envelope as soon as it sends
  anything, and is closed; one that sends nothing is closed after a second; one past the
  cap by more than a few dozen is closed at once. The cap is checked when the connection
  is made, not when a head is complete (uvicorn's limit_concurrency), so connections that
  never finish a head cannot grow past it. WebSockets count too (uvicorn keeps both in
  `server_state.connections`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
import msgspec
from uvicorn.protocols.http.h11_impl import H11Protocol

from protocol.errors import ErrorBody, ErrorCode, ErrorInfo

log = logging.getLogger(__name__)

# A refused client gets this long to send its request and read the 503.
_REFUSAL_GRACE_S = 1.0
# Refused connections held at once for that; beyond, they are closed without an answer.
REFUSAL_SLACK = 32
# A flood refuses thousands of connections: one log line per this many seconds.
_LOG_EVERY_S = 5.0


def refusal_bytes(limit: int) -> bytes:
    body = msgspec.json.encode(
        ErrorBody(
            error=ErrorInfo(
                code=ErrorCode.TOO_MANY_CONNECTIONS.value,
                message=f"Too many open connections (at most {limit}); try again shortly.",
                details={"max_connections": limit, "retry_after_s": 1},
            )
        )
    )
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 1\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def bounded_protocol(head_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """The protocol class for uvicorn.Config(http=...), with these bounds."""
    refusal = refusal_bytes(max_connections)
    last_logged = [0.0]

    def log_refusal(open_now: int) -> None:
        now = time.monotonic()
        if now - last_logged[0] >= _LOG_EVERY_S:
            last_logged[0] = now
            log.warning(
                "refusing connections: %d open, LX_MAX_CONNECTIONS cap %d",
                open_now,
                max_connections,
            )

    class BoundedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_timer: asyncio.TimerHandle | None = None
            self._refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            count = len(self.connections)
            if count > max_connections:
                self._refused = True
                log_refusal(count)
                if count > max_connections + REFUSAL_SLACK:
                    transport.abort()
                    return
                self._head_timer = self.loop.call_later(_REFUSAL_GRACE_S, transport.abort)
                return
            self._head_timer = self.loop.call_later(head_timeout_s, self._head_timed_out)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                self._cancel_head_timer()
                if not self.transport.is_closing():
                    self.transport.write(refusal)
                    self.transport.close()
                return
            super().data_received(data)
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                # A complete head (or a WebSocket upgrade, or an error answered): no wait.
                self._cancel_head_timer()
            elif self._head_timer is None:
                # The first bytes of a head after a keep-alive pause: they have the same
                # time as a new connection, counted once, not renewed by each byte.
                self._head_timer = self.loop.call_later(head_timeout_s, self._head_timed_out)

        def on_response_complete(self) -> None:
            self._cancel_head_timer()  # keep-alive (uvicorn's timer) until the next byte
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                log.debug(
                    "closed a connection with no complete request head in %.1f s", head_timeout_s
                )
                self.transport.close()

    return BoundedH11Protocol
