"""Relay of an upstream SSE stream: Databricks chunks -> chat pivot chunks -> the door's events -> SSE bytes.

The upstream status was checked before this starts, so anything that goes wrong here happens after the
first byte: the door's translator gives its error event(s) and the stream ends. Framing (event names,
what follows the last event) comes from the door's dialect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import anyio
import httpx
import orjson

from services.databricks.errors import transport_error
from services.databricks.sse import sse_batches
from services.dialects import Dialect, StreamTranslator
from services.errors import ProxyError, ShuttingDownError, UpstreamStreamError
from services.shutdown import StreamRegistry

_MAX_EVENTS_PER_WRITE = 32


class StreamNormalizer(Protocol):
    """Databricks chunks -> chat pivot chunks (``services/pivot/chunks.py``)."""

    usage: dict[str, Any] | None

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


async def relay(
    upstream: httpx.Response,
    normalizer: StreamNormalizer,
    translator: StreamTranslator,
    dialect: Dialect,
    registry: StreamRegistry,
    on_end: Callable[[ProxyError | None, bool], None],
) -> AsyncIterator[bytes]:
    """``on_end(error, completed)`` runs exactly once, also when the client goes away."""
    error: ProxyError | None = None
    completed = False
    frame = dialect.frame
    translate = translator.feed
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
                        for pivot in normalizer.feed(chunk):
                            for event in translate(pivot):
                                events.append(frame(event))
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
        closing = [event for pivot in normalizer.finish() for event in translate(pivot)]
        closing += translator.finish()
        yield b"".join([*(frame(event) for event in closing), dialect.end_of_stream])
        completed = True
    except ProxyError as exc:
        error = exc
    except (httpx.HTTPError, httpx.StreamError) as exc:
        error = stream_failure(exc, registry)
    finally:
        await release(upstream, registry)
        on_end(error, completed)
    if error is not None:
        yield b"".join(frame(event) for event in translator.fail(error))


def stream_failure(exc: httpx.HTTPError | httpx.StreamError, registry: StreamRegistry) -> ProxyError:
    """What a read error in the middle of a relayed stream means for the client."""
    # The shutdown watcher closes quiet upstreams, which surfaces here as a read error.
    if registry.deadline is not None:
        return ShuttingDownError()
    if isinstance(exc, httpx.HTTPError):
        return transport_error(exc)
    return UpstreamStreamError("The upstream stream was closed.")


async def release(upstream: httpx.Response, registry: StreamRegistry) -> None:
    """Close the upstream stream, also when the client's going away cancels the relay."""
    registry.open.discard(upstream)
    with anyio.CancelScope(shield=True):
        await upstream.aclose()
