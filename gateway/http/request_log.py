"""The request id and the access log: one line per HTTP request or WebSocket.

Each request gets an id: the client's `X-Request-ID` when it is a sane token (1-128 of
`A-Z a-z 0-9 . _ : -`), else a fresh one. It is echoed in the response's `X-Request-ID`,
set in `protocol.log_lines.REQUEST_ID` for every log line written while the request is
handled (and sent to the worker along with the request), and it ends the access line:
method, path (never the query string), status, duration in ms, client address (status 499:
the client left before any answer, gateway/http/client_gone.py). A WebSocket logs once it
ends, with 101 if it was accepted, and its duration is the connection's.
This is the outermost middleware, so refused requests (401, 403, 421) are logged too.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.client_gone import CLIENT_CLOSED_STATUS, CLIENT_GONE_SCOPE_KEY
from protocol.log_lines import REQUEST_ID

log = logging.getLogger("gateway.access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(header: str | None) -> str:
    """The client's id when it is safe to log and echo, else a new one."""
    if header is not None and _SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope).get(REQUEST_ID_HEADER))
        status = 0
        close_code: int | None = None  # how the gateway closed an accepted WebSocket
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, close_code
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
                message.setdefault("headers", [])
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif kind == "websocket.accept":
                status = 101
                message = {**message, "headers": [*message.get("headers", []), _header(request_id)]}
            elif kind == "websocket.close":
                # Before the upgrade the server answers 403; after it, the code says why.
                close_code = int(message.get("code", 1000)) if status == 101 else None
                status = status or 403
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            if not status and scope.get(CLIENT_GONE_SCOPE_KEY):
                status = CLIENT_CLOSED_STATUS
            duration_ms = (time.perf_counter() - started) * 1000
            self._log(scope, status, duration_ms, request_id, close_code)
            REQUEST_ID.reset(token)

    def _log(
        self,
        scope: Scope,
        status: int,
        duration_ms: float,
        request_id: str,
        close_code: int | None,
    ) -> None:
        method = "WS" if scope["type"] == "websocket" else scope["method"]
        peer = scope.get("client")
        closed = {} if close_code is None else {"close_code": close_code}
        log.info(
            "%s %s %d %.1f ms%s",
            method,
            scope["path"],
            status,
            duration_ms,
            "" if close_code is None else f" (closed {close_code})",
            extra={
                **closed,
                "method": method,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "client": f"{peer[0]}:{peer[1]}" if peer else None,
                "request_id": request_id,
            },
        )


def _header(request_id: str) -> tuple[bytes, bytes]:
    return (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
