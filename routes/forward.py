"""The path every POST route shares: bound concurrency, call Databricks, relay JSON or SSE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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
T = TypeVar("T")


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive")


def json_response(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


async def _bounded(request: Request, record: CallRecord, seconds: float, call: Awaitable[T]) -> T | None:
    """Await ``call``; cancel it when the client goes away (None) or after ``seconds`` (504).

    Uvicorn does not cancel a handler whose client disconnected; this does, so that Databricks
    stops generating (and billing) for nobody. Plain asyncio: one small task and one timer.
    """
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    reason: list[str] = []

    def stop(why: str) -> None:
        if not reason:
            reason.append(why)
            task.cancel()

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        stop("disconnect")

    watcher = loop.create_task(watch())
    timer = loop.call_later(seconds, stop, "timeout")
    try:
        return await call
    except asyncio.CancelledError:
        if not reason:
            raise
        task.uncancel()
        if reason[0] == "timeout":
            raise UpstreamTimeoutError("Databricks did not finish the answer in time.") from None
        record.status = CLIENT_CLOSED
        record.error_type = "client_closed"
        return None
    finally:
        timer.cancel()
        watcher.cancel()


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
    try:
        call = services.client.invoke(endpoint, plan.body, authorization)
        answer = await _bounded(request, record, services.settings.request_timeout, call)
    finally:
        services.limiter.release()
        record.upstream_latency = time.perf_counter() - started
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
