"""Each WebSocket route declared once, as a `WebSocketEndpoint`: path, query parameters (a
Struct the route parses them with), the messages each side sends and the close codes.

The OpenAPI document lists these under `x-websockets` with every message's schema in its
components (OpenAPI itself has no WebSocket operations). To add a WebSocket route: declare a
`WebSocketEndpoint` beside its handler and put `ApiWebSocketRoute(endpoint)` in the module's
routes; its messages are documented from that one declaration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from starlette.routing import WebSocketRoute, compile_path
from starlette.websockets import WebSocket

from gateway.http.endpoints import P, parse_parameters
from protocol.errors import ErrorCode, ServiceError

# 1008 "policy violation": the connection's parameters were refused.
CLOSE_BAD_PARAMETERS = 1008


@dataclass(frozen=True)
class WebSocketEndpoint(Generic[P]):
    path: str
    summary: str
    handler: Callable[[WebSocket, P], Awaitable[None]]
    params: type[P]
    # What the server sends, by message name: the type of each message (or of its body when
    # `envelope` frames it). JSON text frames.
    server_messages: Mapping[str, Any]
    # What the client sends, the same way; empty: nothing the server reads.
    client_messages: Mapping[str, Any] = field(default_factory=dict)
    # A Struct every message is wrapped in, its name in `name_field` and its body in
    # `body_field` (the events' `{v, t, sid, data}`); None: each message is its own frame.
    envelope: type | None = None
    name_field: str = "t"
    body_field: str = "data"
    # Binary frames the client may send, described; None: none.
    client_binary: str | None = None
    close_codes: Mapping[int, str] = field(default_factory=dict)

    @property
    def path_names(self) -> list[str]:
        return list(compile_path(self.path)[2])


class ApiWebSocketRoute(WebSocketRoute):
    """Parses the declared parameters before the handler runs; refused ones close the socket
    with 1008 and the reason."""

    def __init__(self, endpoint: WebSocketEndpoint[Any]) -> None:
        self.spec = endpoint
        super().__init__(endpoint.path, self._run)

    async def _run(self, websocket: WebSocket) -> None:
        spec = self.spec
        try:
            params = parse_parameters(
                spec.params, spec.path_names, websocket, ErrorCode.INVALID_REQUEST
            )
        except ServiceError as exc:
            await websocket.accept()
            # A close reason holds at most 123 bytes.
            reason = exc.message.encode()[:123].decode(errors="ignore")
            await websocket.close(code=CLOSE_BAD_PARAMETERS, reason=reason)
            return
        await spec.handler(websocket, params)
