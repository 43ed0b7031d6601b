"""The HTTP side of a front-door call: hand the chat pivot to the pipeline, answer with JSON or SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response

from routes.deps import dialect_of, record_of, services_of, upstream_authorization
from services.answer_depth import too_deep_answer
from services.call import CLIENT_CLOSED
from services.databricks.catalog import ResolvedModel
from services.dialects import Dialect, StreamTranslator
from services.dialects.openai import ChunkPassThrough
from services.pipeline import Call
from services.relay import StreamNormalizer
from services.translate.requests import UpstreamRequest

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
