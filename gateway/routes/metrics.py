"""`GET /metrics`: Prometheus text (OpenMetrics when the scraper asks for it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.services import services


async def metrics(request: Request) -> Response:
    body, content_type = services(request).metrics.render(request.headers.get("accept"))
    return Response(body, headers={"content-type": content_type})


routes = [Route("/metrics", metrics, methods=["GET"])]
