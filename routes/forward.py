"""The path every POST route shares: bound concurrency, call Databricks, relay JSON or SSE."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import orjson
from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response

from routes.deps import record_of, upstream_authorization
from services.call import CallRecord
from services.container import Services
from services.errors import ProxyError, UpstreamTimeoutError
from services.streaming import StreamNormalizer, relay
from services.translate.requests import UpstreamRequest, add_attribution

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CLIENT_CLOSED = 499


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive")


def json_response(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


async def _until_disconnect(request: Request, scope: anyio.CancelScope, record: CallRecord) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            record.status = CLIENT_CLOSED
            record.error_type = "client_closed"
            scope.cancel()
            return


async def forward_json(
    request: Request,
    services: Services,
    plan: UpstreamRequest,
    model: str,
    endpoint: str,
    normalize: Callable[[dict[str, Any]], dict[str, Any]],
) -> Response:
    record = _prepare(request, services, plan, model, endpoint)
    authorization = upstream_authorization(request, services)
    services.limiter.acquire()
    started = time.perf_counter()
    answer = None
    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            # Uvicorn does not cancel a handler when its client goes away; this does, so that
            # Databricks stops generating (and billing) for nobody.
            group.start_soon(_until_disconnect, request, group.cancel_scope, record)
            try:
                with anyio.fail_after(services.settings.request_timeout):
                    answer = await services.client.invoke(endpoint, plan.body, authorization)
            except TimeoutError:
                failure = UpstreamTimeoutError("Databricks did not finish the answer in time.")
            except ProxyError as exc:
                failure = exc
            group.cancel_scope.cancel()
    finally:
        services.limiter.release()
        record.upstream_latency = time.perf_counter() - started
    if failure is not None:
        raise failure
    if answer is None:
        return Response(status_code=CLIENT_CLOSED)
    record.endpoint = answer.endpoint
    record.upstream_request_id = answer.request_id
    out = normalize(answer.data)
    usage = out.get("usage")
    record.usage = usage if isinstance(usage, dict) else None
    record.ttfb = time.perf_counter() - record.started
    return json_response(out)


async def forward_stream(
    request: Request,
    services: Services,
    plan: UpstreamRequest,
    model: str,
    endpoint: str,
    normalizer: StreamNormalizer,
) -> Response:
    record = _prepare(request, services, plan, model, endpoint)
    authorization = upstream_authorization(request, services)
    services.limiter.acquire()
    started = time.perf_counter()
    try:
        upstream = await services.client.open_stream(endpoint, plan.body, authorization)
    except BaseException:
        services.limiter.release()
        record.upstream_latency = time.perf_counter() - started
        raise
    record.endpoint = upstream.extensions.get("endpoint", endpoint)
    record.upstream_request_id = upstream.headers.get("x-request-id")
    record.ttfb = time.perf_counter() - record.started
    services.metrics.open_streams.inc()

    def on_end(error: ProxyError | None, completed: bool) -> None:
        services.metrics.open_streams.dec()
        services.limiter.release()
        record.upstream_latency = time.perf_counter() - started
        record.usage = normalizer.usage
        if error is not None:
            record.error_type = error.type
            record.error_message = error.message
        elif not completed:
            record.error_type = "client_closed"

    return EventSourceResponse(
        relay(upstream, normalizer, services.streams, on_end),
        headers=STREAM_HEADERS,
        ping=services.settings.keepalive_seconds,
        ping_message_factory=_keepalive,
        sep="\n",
        shutdown_event=services.streams.event,
        # sse-starlette force-closes after its own grace; ours ends streams cleanly just before.
        shutdown_grace_period=services.settings.shutdown_grace_seconds + 1.5,
    )


def _prepare(request: Request, services: Services, plan: UpstreamRequest, model: str, endpoint: str) -> CallRecord:
    record = record_of(request)
    record.model = model
    record.endpoint = endpoint
    record.stream = plan.stream
    if services.settings.send_usage_context:
        add_attribution(plan.body, record.request_id, record.caller)
    return record
