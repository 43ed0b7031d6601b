from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from routes.deps import services_of
from routes.errors import error_response
from routes.lean import LeanRoute, needs
from routes.respond import json_response
from services.errors import APIError, ProxyError

router = APIRouter(tags=["Health"], route_class=LeanRoute)

_RECENT_SECONDS = 60.0


@router.get("/health", summary="Liveness (no upstream call)")
@needs(key=False, label="/health")
async def health(request: Request) -> Response:
    # Open to anyone: only what a liveness probe needs, and whether the built-in emulator answers. The
    # workspace and the auth type are in the start-up log line.
    return json_response({"status": "ok", "upstream": services_of(request).upstream})


@router.get("/ready", summary="Readiness: credentials resolved and Databricks answering")
@needs(key=False, label="/ready")
async def ready(request: Request) -> Response:
    services = services_of(request)
    client = services.client
    recent = client.last_answer_at is not None and time.monotonic() - client.last_answer_at < _RECENT_SECONDS
    if not recent:
        try:
            await client.list_endpoints(services.credentials.header())
        except ProxyError as exc:
            error = APIError(f"Not ready: Databricks is not answering ({exc.message})", status=503, code="not_ready")
            return error_response(error)
    return json_response({"status": "ready", "upstream": services.upstream})


@router.get("/api/v1/healthcheck", summary="Health in the Databricks Apps template format")
@needs(key=False, label="/api/v1/healthcheck")
async def healthcheck(request: Request) -> Response:
    services = services_of(request)
    return json_response(
        {"status": "healthy", "timestamp": datetime.now(UTC).isoformat(), "service": services.settings.service_name}
    )
