"""Relay of a native stream: the upstream bytes go to the client as they arrive, read on the way by a scan.

A failure after the first byte ends the stream with the door's own error event (after closing an event the
upstream left half-sent), as the translated relay does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx

from services.dialects import Dialect
from services.errors import ProxyError
from services.native.scan import SseScan
from services.relay import release, stream_failure
from services.shutdown import StreamRegistry


async def pass_through(
    upstream: httpx.Response,
    scan: SseScan,
    dialect: Dialect,
    registry: StreamRegistry,
    on_end: Callable[[ProxyError | None, bool], None],
) -> AsyncIterator[bytes]:
    """``on_end(error, completed)`` runs exactly once, also when the client goes away."""
    error: ProxyError | None = None
    completed = False
    registry.open.add(upstream)
    try:
        async for chunk in upstream.aiter_bytes():
            registry.check()
            if chunk:
                scan.feed(chunk)
                yield chunk
        scan.finish()
        completed = True
    except ProxyError as exc:
        error = exc
    except (httpx.HTTPError, httpx.StreamError) as exc:
        error = stream_failure(exc, registry)
    finally:
        await release(upstream, registry)
        on_end(error, completed)
    if error is not None:
        head = b"" if scan.at_boundary else b"\n\n"
        yield head + dialect.frame(dialect.error_body(error))
