"""The gateway's middleware, outermost first, built from the settings: request ids and the
access log, cancelling the work of clients that left, the browser guard (Host, Origin),
CORS, the bearer token, the WebSocket limits."""

from __future__ import annotations

from starlette.middleware import Middleware

from gateway.http.access_guard import BrowserGuard, EnvelopeCORS, TokenGuard, machine_names
from gateway.http.access_rules import allowed_host_names
from gateway.http.client_gone import AbandonOnDisconnect
from gateway.http.request_log import RequestLog
from gateway.http.websocket_limits import ConnectionLimits, WebSocketLimits
from gateway.settings import Settings


def access_middleware(settings: Settings) -> list[Middleware]:
    hosts = allowed_host_names(settings.allowed_hosts, settings.host, machine_names())
    stack = [
        Middleware(RequestLog),
        # Inside the access log, which logs 499 for a request whose client left.
        Middleware(AbandonOnDisconnect),
        Middleware(BrowserGuard, allowed_hosts=hosts, cors_origins=settings.cors_origins),
    ]
    if settings.cors_origins:
        stack.append(Middleware(EnvelopeCORS, origins=settings.cors_origins))
    if settings.api_token is not None:
        stack.append(Middleware(TokenGuard, token=settings.api_token))
    limits = ConnectionLimits(settings.max_websockets, settings.max_websockets_per_client)
    stack.append(Middleware(WebSocketLimits, limits=limits))
    return stack
