"""A bound on open WebSockets: `LX_MAX_WEBSOCKETS` in all and `LX_MAX_WEBSOCKETS_PER_CLIENT`
from one remote address, so one client cannot hold every descriptor and subscriber slot.

Past either limit the socket is accepted and closed at once with 1013 ("try again later")
and a reason naming the limit: a browser sees a close code only after an accept, and the
same answer serves every client. It counts every WebSocket route, present and future.
"""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from gateway.http.access_rules import subprotocol_to_answer

CLOSE_TRY_AGAIN_LATER = 1013


class ConnectionLimits:
    """Counts open connections in all and per client; plain, for the middleware and tests."""

    def __init__(self, total: int, per_client: int) -> None:
        self.total = total
        self.per_client = per_client
        self._open: Counter[str] = Counter()

    def open_count(self, client: str | None = None) -> int:
        return self._open[client] if client is not None else self._open.total()

    def acquire(self, client: str) -> str | None:
        """Take a slot for `client`; the reason it is refused, or None when it got one."""
        if self._open.total() >= self.total:
            return f"too many WebSockets open (LX_MAX_WEBSOCKETS={self.total})"
        if self._open[client] >= self.per_client:
            limit = self.per_client
            return f"too many WebSockets from {client} (LX_MAX_WEBSOCKETS_PER_CLIENT={limit})"
        self._open[client] += 1
        return None

    def release(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]


class WebSocketLimits:
    def __init__(self, app: ASGIApp, limits: ConnectionLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        client = str(peer[0]) if peer else "unknown"
        refused = self.limits.acquire(client)
        if refused is not None:
            websocket = WebSocket(scope, receive, send)
            offered = list(scope.get("subprotocols", []))
            await websocket.accept(subprotocol=subprotocol_to_answer(offered))
            await websocket.close(CLOSE_TRY_AGAIN_LATER, refused[:120])  # a reason fits 123 bytes
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limits.release(client)
