"""Every HTTP request's latency by route template (not the raw path, so model ids and
session ids do not multiply the series), method and status, and error responses by code.

The error handlers (gateway/http/errors.py) note the envelope's code in the request's scope;
this middleware, around them, counts it once the response is sent.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.client_gone import CLIENT_CLOSED_STATUS
from gateway.http.errors import ERROR_CODE_SCOPE_KEY
from protocol.errors import ErrorCode

# Seconds: a status read takes well under a millisecond, a long transcription minutes.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
UNMATCHED = "unmatched"  # the route of a path no route serves (404)
# The status of a request whose client went away before any answer (nginx's number).
CLIENT_CLOSED = str(CLIENT_CLOSED_STATUS)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._duration = Histogram(
            "loquilex_http_request_duration_seconds",
            "HTTP requests: time from arrival to the last byte of the answer",
            ["route", "method", "status"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self._errors = Counter(
            "loquilex_errors_total",
            "Error responses sent, by the error envelope's code",
            ["code"],
            registry=registry,
        )

    def observe(self, route: str, method: str, status: str, seconds: float) -> None:
        self._duration.labels(route, method, status).observe(seconds)

    def error(self, code: str) -> None:
        self._errors.labels(code).inc()


class RequestMetrics:
    """Pure ASGI middleware (no per-request task or body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_noting_status)
        except Exception:
            # Answered by the outermost handler (a bug): 500 INTERNAL_ERROR, unless an
            # answer had begun already.
            if status == CLIENT_CLOSED:
                status = "500"
            scope.setdefault(ERROR_CODE_SCOPE_KEY, ErrorCode.INTERNAL_ERROR.value)
            raise
        finally:
            # The router leaves the route it matched in the scope: its template is the label.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self._metrics.observe(route, scope["method"], status, time.perf_counter() - started)
            code = scope.get(ERROR_CODE_SCOPE_KEY)
            if code is not None:
                self._metrics.error(code)
