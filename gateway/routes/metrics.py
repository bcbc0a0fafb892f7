"""`GET /metrics`: Prometheus text (OpenMetrics when the scraper asks for it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.endpoints import Endpoint, NoParams, api_routes
from gateway.services import services


async def metrics(request: Request, params: NoParams) -> Response:
    body, content_type = services(request).metrics.render(request.headers.get("accept"))
    return Response(body, headers={"content-type": content_type})


routes = api_routes(
    Endpoint(
        "GET",
        "/metrics",
        "Prometheus metrics (OpenMetrics when the Accept header asks for it)",
        metrics,
        NoParams,
        str,
        media_type="text/plain",
        text_media_types=("application/openmetrics-text",),
    )
)
