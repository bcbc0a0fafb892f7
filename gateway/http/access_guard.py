"""ASGI middleware that carries out access_rules.py on every HTTP request and WebSocket.

Order, outermost first (gateway/app.py builds it): the browser guard (Host, then Origin),
CORS (answers the preflights of allowed origins), the token guard, then the routes. So a
preflight from an allowed origin is answered without a token (browsers send none with it),
and every refusal leaves in the error envelope with the CORS headers the page needs to read
it. The probes (`/healthz`, `/readyz`) need neither a token nor an allowed Host: orchestrators
call them by pod address, and they tell nothing a client could act on.

WebSockets refused for Host or Origin get an HTTP 421 / 403 before any upgrade (as a denial
response where the server supports one, else a bare 403). A missing or wrong token is told
after the upgrade, by closing with 4401: a browser sees the close code only once the socket
was accepted.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence

import msgspec
import psutil
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from gateway.http.access_rules import (
    BearerToken,
    host_allowed,
    origin_allowed,
    origin_checked,
    subprotocol_to_answer,
    without_token_subprotocols,
)
from gateway.http.errors import ERROR_CODE_SCOPE_KEY, error_response
from protocol.errors import ErrorCode, ServiceError

PROBE_PATHS = frozenset({"/healthz", "/readyz"})
CLOSE_UNAUTHORIZED = 4401  # 4000-4999: the application's own; 401 as in HTTP


def machine_names() -> list[str]:
    """This machine's names and interface addresses (a gateway on 0.0.0.0 answers to them)."""
    names = [socket.gethostname(), socket.getfqdn()]
    for addresses in psutil.net_if_addrs().values():
        names += [a.address.partition("%")[0] for a in addresses if a.family in _IP_FAMILIES]
    return names


_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


async def refuse(scope: Scope, receive: Receive, send: Send, error: ServiceError) -> None:
    """Answer with the error envelope: an HTTP response, or a WebSocket denial response."""
    headers = {"WWW-Authenticate": "Bearer"} if error.code == ErrorCode.UNAUTHORIZED else None
    response = error_response(error, headers)
    scope[ERROR_CODE_SCOPE_KEY] = error.code.value  # counted by the metrics like any error
    if scope["type"] == "http":
        await response(scope, receive, send)
        return
    websocket = WebSocket(scope, receive, send)
    if "websocket.http.response" in scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close()  # the server answers the upgrade with 403


class BrowserGuard:
    def __init__(
        self, app: ASGIApp, allowed_hosts: frozenset[str] | None, cors_origins: Sequence[str]
    ) -> None:
        self.app = app
        self._hosts = allowed_hosts
        self._origins = tuple(cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host")
        if scope["path"] not in PROBE_PATHS and not host_allowed(host, self._hosts):
            error = ServiceError(
                ErrorCode.HOST_NOT_ALLOWED,
                f"This service does not answer to the host {host!r}; LX_ALLOWED_HOSTS lists "
                "the names it answers to.",
                {"host": host},
            )
            await refuse(scope, receive, send, error)
            return
        origin = headers.get("origin")
        websocket = scope["type"] == "websocket"
        method = "GET" if websocket else scope["method"]
        preflight = method == "OPTIONS" and "access-control-request-method" in headers
        if (
            origin is not None
            and origin_checked(method, websocket, preflight)
            and not origin_allowed(origin, self._origins)
        ):
            error = ServiceError(
                ErrorCode.ORIGIN_NOT_ALLOWED,
                f"Requests from pages of {origin!r} may not act on this service; "
                "LX_CORS_ORIGINS lists the origins that may.",
                {"origin": origin, "method": method, "path": scope["path"]},
            )
            await refuse(scope, receive, send, error)
            return
        await self.app(scope, receive, send)


class TokenGuard:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = BearerToken(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        by_header = self._token.matches_authorization(headers.get("authorization"))
        if scope["type"] == "http":
            if by_header:
                await self.app(scope, receive, send)
            else:
                await refuse(scope, receive, send, _unauthorized(headers))
            return
        offered: list[str] = list(scope.get("subprotocols", []))
        if not (by_header or self._token.matches_subprotocols(offered)):
            websocket = WebSocket(scope, receive, send)
            await websocket.accept(subprotocol=subprotocol_to_answer(offered))
            await websocket.close(CLOSE_UNAUTHORIZED, "unauthorized: a bearer token is required")
            return
        # The routes never see the token; the handshake answers `bearer` if they pick nothing.
        inner = {**scope, "subprotocols": without_token_subprotocols(offered)}
        answer = (
            subprotocol_to_answer(offered) if len(offered) > len(inner["subprotocols"]) else None
        )

        async def send_with_subprotocol(message: Message) -> None:
            if message["type"] == "websocket.accept" and message.get("subprotocol") is None:
                message = {**message, "subprotocol": answer}
            await send(message)

        await self.app(inner, receive, send_with_subprotocol)


def _unauthorized(headers: Headers) -> ServiceError:
    if headers.get("authorization") is None:
        message = "A bearer token is required: send Authorization: Bearer <token>."
    else:
        message = "The bearer token is missing from Authorization or is not the right one."
    return ServiceError(ErrorCode.UNAUTHORIZED, message, {"scheme": "Bearer"})


class EnvelopeCORS(CORSMiddleware):
    """Starlette's CORS, with its refused preflights (a method or header not allowed) in the
    error envelope like every other error. Origins were checked by the browser guard."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "WWW-Authenticate"],
            # Chrome asks before a public page reaches a loopback or private address; an
            # origin the operator listed may.
            allow_private_network=True,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        error = ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"The preflight asks for what this service does not allow ({refused}).",
            {
                "refused": refused.split(", "),
                "method": request_headers.get("access-control-request-method"),
                "headers": request_headers.get("access-control-request-headers"),
            },
        )
        return Response(
            msgspec.json.encode(error.body()),
            status_code=400,
            media_type="application/json",
            headers={k: v for k, v in answer.headers.items() if k.lower().startswith("access-")},
        )
