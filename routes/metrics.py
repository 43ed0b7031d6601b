from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from routes.deps import services_of
from routes.lean import LeanRoute, needs

router = APIRouter(tags=["Operations"], route_class=LeanRoute)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@needs(key="metrics_require_key", label="/metrics")
async def metrics(request: Request) -> Response:
    body, content_type = services_of(request).metrics.render()
    return Response(body, media_type=content_type)
