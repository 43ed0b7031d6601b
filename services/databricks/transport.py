"""An httpx transport backed by aiohttp's connection pool and C HTTP parser.

httpx's own pool (httpcore on anyio) costs about 1-2 ms of CPU per request at high concurrency, most of
the proxy's budget; aiohttp does the same work for a fraction of that (see bench/). The proxy keeps
httpx's API (requests, responses, timeouts, exceptions, respx in tests) and swaps only what is
underneath. Exceptions are mapped so that only a failure to connect (nothing sent) looks like
``httpx.ConnectError``, which is what the client retries.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx

_RESPONSE_TIMEOUT_EXTENSION = "timeout"


def _map(exc: BaseException) -> Exception | None:
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientConnectorDNSError):
        return httpx.ConnectError(str(exc) or type(exc).__name__)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc) or "connect timeout")
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(str(exc) or "read timeout")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(exc) or "server disconnected")
    if isinstance(exc, aiohttp.ClientError):
        return httpx.ReadError(str(exc) or type(exc).__name__)
    return None


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as exc:
            mapped = _map(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One ``aiohttp.ClientSession`` per transport; create it inside the running event loop."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | bool = True) -> None:
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=limits.keepalive_expiry or 30.0,
            ssl=ssl_context,
            enable_cleanup_closed=True,
        )
        # auto_decompress off: httpx decodes content-encoding itself, exactly as with its own transport.
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get(_RESPONSE_TIMEOUT_EXTENSION, {})
        try:
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=request.content or None,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except Exception as exc:
            mapped = _map(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        await self._session.close()
