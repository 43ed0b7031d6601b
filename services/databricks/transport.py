"""An httpx transport backed by aiohttp's connection pool and C HTTP parser.

httpx's own pool (httpcore on anyio) costs about 1-2 ms of CPU per request at high concurrency, most of
the proxy's budget; aiohttp does the same work for a fraction of that (see bench/). The proxy keeps
httpx's API (requests, responses, timeouts, exceptions, respx in tests) and swaps only what is
underneath. Exceptions are mapped so that only a failure to connect (nothing sent) looks like
``httpx.ConnectError``, which is what the client retries.

Pooled connections expire after ``keepalive_expiry`` idle seconds (set below the 5 s after which
common servers such as uvicorn drop idle connections). A server may still drop one just as a request
goes out on it; a request whose *reused* connection was closed before any byte of the answer is sent
once more on a fresh connection. The server closed that connection as idle, without reading the
request (a server that read a request answers it), so nothing reached the model twice. A fresh
connection, or one that had begun to answer, is never retried.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import weakref
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any

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


_DROPPED_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE})


def _dropped_before_answer(exc: BaseException) -> bool:
    """The server closed or reset the connection and no byte of an answer had arrived."""
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return isinstance(exc.message, str)  # a partly received answer is carried as the parsed message
    return isinstance(exc, aiohttp.ClientOSError) and exc.errno in _DROPPED_ERRNOS


# Whether the connection of the current request came from the pool (set by the connector in the request's task).
_reused: ContextVar[bool] = ContextVar("upstream_connection_reused", default=False)


class _PoolAwareConnector(aiohttp.TCPConnector):
    """Tells each request whether its connection was handed out before (aiohttp's request traces would say so
    too, but they cost CPU on every request and every streamed chunk)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._handed_out: weakref.WeakSet[Any] = weakref.WeakSet()

    async def connect(self, req: Any, traces: Any, timeout: Any) -> aiohttp.connector.Connection:  # noqa: ASYNC109 (aiohttp's signature)
        connection = await super().connect(req, traces, timeout)
        protocol = connection.protocol
        _reused.set(protocol in self._handed_out)
        self._handed_out.add(protocol)
        return connection


def _session(connector: aiohttp.BaseConnector) -> aiohttp.ClientSession:
    # auto_decompress off: httpx decodes content-encoding itself, exactly as with its own transport.
    return aiohttp.ClientSession(connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",))


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One ``aiohttp.ClientSession`` per transport; create it inside the running event loop."""

    def __init__(
        self,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | bool = True,
        on_stale_retry: Callable[[], None] | None = None,
    ) -> None:
        connector = _PoolAwareConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=limits.keepalive_expiry or 30.0,
            ssl=ssl_context,
            enable_cleanup_closed=True,
        )
        self._session = _session(connector)
        # Retries go out on connections of their own, never on another pooled one the server may have dropped too.
        self._fresh = _session(aiohttp.TCPConnector(force_close=True, ssl=ssl_context))
        self._on_stale_retry = on_stale_retry

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _reused.set(False)
        try:
            try:
                response = await self._send(self._session, request)
            except aiohttp.ClientError as exc:
                if not (_reused.get() and _dropped_before_answer(exc)):
                    raise
                if self._on_stale_retry is not None:
                    self._on_stale_retry()
                response = await self._send(self._fresh, request)
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

    @staticmethod
    async def _send(session: aiohttp.ClientSession, request: httpx.Request) -> aiohttp.ClientResponse:
        timeout = request.extensions.get(_RESPONSE_TIMEOUT_EXTENSION, {})
        return await session.request(
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

    async def aclose(self) -> None:
        await self._session.close()
        await self._fresh.close()
