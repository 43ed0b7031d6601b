"""Relay of an upstream SSE stream, normalised chunk by chunk, as OpenAI SSE bytes.

The upstream status was checked before this starts, so anything that goes wrong here happens after
the first byte: the client gets one ``data: {"error": ...}`` event and the end of the stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import anyio
import httpx
import orjson

from services.errors import ProxyError
from services.fmapi_client import sse_batches, transport_error
from services.shutdown import ShuttingDownError, StreamRegistry
from services.translate.streams import UpstreamStreamError

logger = logging.getLogger("proxy.stream")

DONE = b"data: [DONE]\n\n"
_MAX_EVENTS_PER_WRITE = 32


class StreamNormalizer(Protocol):
    usage: dict[str, Any] | None

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


async def relay(
    upstream: httpx.Response,
    normalizer: StreamNormalizer,
    registry: StreamRegistry,
    on_end: Callable[[ProxyError | None, bool], None],
) -> AsyncIterator[bytes]:
    """``on_end(error, completed)`` runs exactly once, also when the client goes away."""
    error: ProxyError | None = None
    completed = False
    registry.open.add(upstream)
    try:
        first = True
        async for batch in sse_batches(upstream):
            registry.check()
            events: list[bytes] = []
            try:
                for payload in batch:
                    try:
                        chunk = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        raise UpstreamStreamError("Databricks sent a malformed stream event.") from None
                    if isinstance(chunk, dict):
                        events.extend(sse_event(out) for out in normalizer.feed(chunk))
                    if events and (first or len(events) >= _MAX_EVENTS_PER_WRITE):
                        # the first event leaves at once (time to first token), bursts in bounded writes
                        first = False
                        yield b"".join(events)
                        events = []
            except ProxyError:
                if events:  # what was good before a failure in the same burst still reaches the client
                    yield b"".join(events)
                raise
            if events:
                yield b"".join(events)
        yield b"".join([*(sse_event(out) for out in normalizer.finish()), DONE])
        completed = True
    except ProxyError as exc:
        error = exc
    except (httpx.HTTPError, httpx.StreamError) as exc:
        # The shutdown watcher closes quiet upstreams, which surfaces here as a read error.
        if registry.deadline is not None:
            error = ShuttingDownError()
        elif isinstance(exc, httpx.HTTPError):
            error = transport_error(exc)
        else:
            error = UpstreamStreamError("The upstream stream was closed.")
    finally:
        registry.open.discard(upstream)
        with anyio.CancelScope(shield=True):
            await upstream.aclose()
        on_end(error, completed)
    if error is not None:
        yield sse_event(error.body())
