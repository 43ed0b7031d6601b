"""The HTTP side of a front-door call: hand the chat pivot to the pipeline, answer with JSON or SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import orjson
from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response, StreamingResponse

from routes.deps import dialect_of, record_of, services_of, upstream_authorization
from services.answer_depth import too_deep_answer
from services.call import CLIENT_CLOSED
from services.databricks.catalog import ResolvedModel
from services.databricks.routing import NotServedNatively
from services.databricks.surfaces import NativeSurface
from services.dialects import Dialect, StreamTranslator
from services.dialects.openai import ChunkPassThrough
from services.native import NativeRequest, SseScan
from services.pipeline import Call
from services.pivot.requests import UpstreamRequest
from services.relay import StreamNormalizer

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

Render = Callable[[dict[str, Any]], dict[str, Any]]


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive")


def _keepalive_of(dialect: Dialect) -> Callable[[], ServerSentEvent]:
    if dialect.ping is None:
        return _keepalive
    event = ServerSentEvent(data=orjson.dumps(dialect.ping).decode(), event=str(dialect.ping["type"]), sep="\n")
    return lambda: event


def json_response(payload: dict[str, Any]) -> Response:
    try:
        body = orjson.dumps(payload)
    except orjson.JSONEncodeError as exc:  # a value from Databricks too deep for the encoder: its fault, not ours
        raise too_deep_answer("a value") from exc
    return Response(body, media_type="application/json")


def _call(request: Request) -> Call:
    return Call(record_of(request), request.receive, upstream_authorization(request, services_of(request)))


async def respond_json(
    request: Request,
    model: ResolvedModel,
    plan: UpstreamRequest,
    normalize: Render,
    render: Render | None = None,
) -> Response:
    """``normalize`` turns Databricks' answer into the pivot; ``render`` (the door's) the pivot into its answer."""
    answer = await services_of(request).pipeline.answer(_call(request), model, plan, normalize)
    if answer is None:
        return Response(status_code=CLIENT_CLOSED)
    return json_response(answer if render is None else render(answer))


async def respond_openai(
    request: Request,
    model: ResolvedModel,
    plan: UpstreamRequest,
    *,
    stream: Callable[[], StreamNormalizer],
    normalize: Render,
) -> Response:
    """An OpenAI chat-family answer (the pivot as it is): streamed when asked, else whole."""
    if plan.stream:
        return await respond_stream(request, model, plan, stream(), ChunkPassThrough())
    return await respond_json(request, model, plan, normalize)


async def respond_stream(
    request: Request,
    model: ResolvedModel,
    plan: UpstreamRequest,
    normalizer: StreamNormalizer,
    translator: StreamTranslator,
    dialect: Dialect | None = None,
    wrap: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None,
) -> Response:
    """``dialect`` frames the events; by default the dialect of the route's path (its errors' dialect too).
    ``wrap`` sees the framed events on their way out (the Responses door stores a finished stream)."""
    services = services_of(request)
    dialect = dialect or dialect_of(request)
    events = await services.pipeline.stream(_call(request), model, plan, normalizer, translator, dialect)
    if wrap is not None:
        events = wrap(events)
    return EventSourceResponse(
        events,
        headers=STREAM_HEADERS,
        ping=services.settings.keepalive_seconds,
        ping_message_factory=_keepalive_of(dialect),
        sep="\n",
        shutdown_event=services.streams.event,
        # sse-starlette force-closes after its own grace; ours ends streams cleanly just before.
        shutdown_grace_period=services.settings.shutdown_grace_seconds + 1.5,
    )


Keep = Callable[[dict[str, Any]], Awaitable[None]]


async def respond_native(
    request: Request,
    door: str,
    model: ResolvedModel,
    build: Callable[[NativeSurface], NativeRequest],
    keep: Keep | None = None,
) -> Response | None:
    """The answer of the model's own API, as Databricks sent it, where the door speaks it and Databricks serves it
    for this endpoint; None when the door must translate instead (nothing was generated). ``keep`` sees the whole
    answer (the Responses door stores it), for a stream before its last event leaves."""
    services = services_of(request)
    surface = services.surfaces.native_for(door, model.family, model.endpoint)
    if surface is None:
        return None
    native = build(surface)
    pipeline = services.pipeline
    try:
        if native.stream:
            stream = await pipeline.native_stream(_call(request), model, native, dialect_of(request))
            events = stream.events if keep is None else _kept(stream.events, stream.scan, keep)
            return StreamingResponse(events, media_type=stream.media_type, headers=STREAM_HEADERS)
        answer = await pipeline.native_answer(_call(request), model, native)
    except NotServedNatively:
        record_of(request).note = "not served natively here: translated"
        return None
    if answer is None:
        return Response(status_code=CLIENT_CLOSED)
    if keep is not None:
        await keep(answer.data)
    return Response(answer.raw, media_type="application/json")


def _kept(events: AsyncIterator[bytes], scan: SseScan, keep: Keep) -> AsyncIterator[bytes]:
    async def wrap() -> AsyncIterator[bytes]:
        kept = False
        async for chunk in events:
            if not kept and scan.final is not None:
                kept = True
                with anyio.CancelScope(shield=True):
                    await keep(scan.final)
            yield chunk

    return wrap()
