from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from routes.delivery import json_response
from routes.deps import services_of
from routes.errors import error_response
from routes.lean import LeanRoute, needs
from services.errors import APIError, ProxyError

router = APIRouter(tags=["Health"], route_class=LeanRoute)

_RECENT_SECONDS = 60.0
_probe_lock = asyncio.Lock()


@router.get("/health", summary="Liveness (no upstream call)")
@needs(key=False, label="/health")
async def health(request: Request) -> Response:
    # Open to anyone: only what a liveness probe needs, and whether the built-in emulator answers. The
    # workspace and the auth type are in the start-up log line. ``surfaces``: Unity Gateway and the native APIs,
    # as far as the workspace has answered.
    services = services_of(request)
    return json_response({"status": "ok", "upstream": services.upstream, "surfaces": services.surfaces.describe()})


@router.get("/ready", summary="Readiness: Databricks accepted the proxy's own credential")
@needs(key=False, label="/ready")
async def ready(request: Request) -> Response:
    # Ready only when Databricks accepted the proxy's own credential. Traffic made with it keeps the verdict
    # fresh; otherwise one cheap listing call settles it, at most once a minute however often probes come.
    services = services_of(request)
    client = services.client
    verdict = client.own_credential
    if not verdict.fresh(_RECENT_SECONDS):
        async with _probe_lock:
            if not verdict.fresh(_RECENT_SECONDS):
                try:
                    await client.list_endpoints(services.credentials.header())
                except ProxyError as exc:
                    if not verdict.fresh(_RECENT_SECONDS):  # no word on the credential: Databricks is not answering
                        return _not_ready(f"Databricks is not answering ({exc.message})")
    if verdict.refused:
        return _not_ready(f"Databricks refused the proxy's workspace credential ({verdict.refusal})")
    return json_response({"status": "ready", "upstream": services.upstream})


def _not_ready(reason: str) -> Response:
    return error_response(APIError(f"Not ready: {reason}", status=503, code="not_ready"))


@router.get("/api/v1/healthcheck", summary="Health in the Databricks Apps template format")
@needs(key=False, label="/api/v1/healthcheck")
async def healthcheck(request: Request) -> Response:
    services = services_of(request)
    return json_response(
        {"status": "healthy", "timestamp": datetime.now(UTC).isoformat(), "service": services.settings.service_name}
    )
