"""A small HTTP/1.1 client on asyncio + httptools, used for every target alike.

One ``Connection`` is one persistent TCP connection carrying one request at a time. Requests are
prebuilt bytes so the client adds as little as possible to what is measured. Response bodies are
either collected or fed to a ``sink`` (for SSE streams, where the body is only counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import httptools

# A sink gets each decoded body piece; returning True stops reading and drops the connection.
Sink = Callable[[bytes], bool]


def build_request(
    method: str,
    host: str,
    port: int,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    t_start: float
    t_headers: float
    t_first_body: float  # 0.0 when there was no body
    t_end: float
    stopped: bool = False  # the sink asked to stop (client-side disconnect)

    @property
    def elapsed(self) -> float:
        return self.t_end - self.t_start

    @property
    def ttfb(self) -> float:
        """Time to the first body byte (falls back to the headers for empty bodies)."""
        return (self.t_first_body or self.t_headers) - self.t_start


class ConnectionClosedError(ConnectionError):
    pass


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._waiter: asyncio.Future[Response] | None = None
        self._sink: Sink | None = None
        self._chunks: list[bytes] = []
        self._t_start = 0.0
        self._t_headers = 0.0
        self._t_first = 0.0
        self._status = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, hence the cast.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        w = self._waiter
        if w is not None and not w.done():
            w.set_exception(ConnectionClosedError(f"connection closed: {exc or 'EOF'}"))
        self._waiter = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            w = self._waiter
            if w is not None and not w.done():
                w.set_exception(ConnectionClosedError(f"bad response: {exc}"))
            self._drop()

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self._t_headers = time.perf_counter()
        self._status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if not self._t_first:
            self._t_first = time.perf_counter()
        sink = self._sink
        if sink is None:
            self._chunks.append(body)
        elif sink(body):
            self._finish(stopped=True)
            self._drop()

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.closed = True
        self._finish(stopped=False)
        if self.closed:
            self._drop()

    # helpers
    def _finish(self, stopped: bool) -> None:
        w = self._waiter
        self._waiter = None
        if w is not None and not w.done():
            w.set_result(
                Response(
                    self._status,
                    b"".join(self._chunks),
                    self._t_start,
                    self._t_headers,
                    self._t_first,
                    time.perf_counter(),
                    stopped,
                )
            )

    def _drop(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def send(self, raw: bytes, sink: Sink | None) -> asyncio.Future[Response]:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ConnectionClosedError("connection is closed")
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._sink = sink
        self._chunks = []
        self._t_headers = self._t_first = 0.0
        self._status = 0
        self._t_start = time.perf_counter()
        self.transport.write(raw)
        return self._waiter


class Connection:
    """A persistent connection that reconnects transparently when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._proto: _Protocol | None = None

    async def _ensure(self) -> _Protocol:
        p = self._proto
        if p is None or p.closed:
            loop = asyncio.get_running_loop()
            _, proto = await loop.create_connection(_Protocol, self.host, self.port)
            p = self._proto = proto
        return p

    async def request(self, raw: bytes, sink: Sink | None = None, timeout_s: float | None = None) -> Response:
        proto = await self._ensure()
        fut = proto.send(raw, sink)
        try:
            if timeout_s is None:
                return await fut
            return await asyncio.wait_for(fut, timeout_s)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        p = self._proto
        self._proto = None
        if p is not None and p.transport is not None:
            p.closed = True
            p.transport.abort()


class SSECounter:
    """Counts SSE ``data:`` events and whether the stream's end arrived, across arbitrary splits.

    The end is ``[DONE]`` (OpenAI chat), Anthropic's ``message_stop``, the Responses API's last event
    (``response.completed``, or ``response.incomplete`` after a ``length`` finish, which is how the bench
    upstream ends its streams; counted as an event of the answer), or a Gemini chunk with ``finishReason``.
    """

    __slots__ = ("_tail_data", "_tail_done", "done", "events", "first_event_at", "sentinel", "stop_after")

    def __init__(self, stop_after: int | None = None) -> None:
        self.events = 0
        self.done = False
        self.sentinel = False  # the end was ``[DONE]`` or ``message_stop`` (not counted as a content event)
        self.first_event_at = 0.0
        self.stop_after = stop_after
        self._tail_data = b""
        self._tail_done = b""

    def __call__(self, piece: bytes) -> bool:
        buf = self._tail_data + piece
        n = buf.count(b"data:")
        if n:
            if not self.events:
                self.first_event_at = time.perf_counter()
            self.events += n
        self._tail_data = buf[-4:]
        if not self.done:
            buf2 = self._tail_done + piece
            if b"[DONE]" in buf2 or b"message_stop" in buf2:
                self.done = self.sentinel = True
            elif (
                b"event: response.completed" in buf2
                or b"event: response.incomplete" in buf2
                or b'"finishReason"' in buf2  # a Gemini stream's last chunk
            ):
                self.done = True
            self._tail_done = buf2[-24:]
        return self.stop_after is not None and self.events >= self.stop_after

    @property
    def content_events(self) -> int:
        """Events other than the final ``data: [DONE]`` (or ``message_stop``)."""
        return self.events - (1 if self.sentinel else 0)


async def wait_http_ok(
    host: str,
    port: int,
    path: str,
    timeout_s: float,
    interval: float = 0.02,
    alive: Callable[[], bool] | None = None,
) -> float:
    """Poll ``GET path`` on fresh connections until it answers 200; return the perf_counter then.

    Raises TimeoutError when ``timeout_s`` seconds pass first, RuntimeError when ``alive()`` turns False.
    """
    raw = build_request("GET", host, port, path, headers={"Connection": "close"})
    deadline = time.perf_counter() + timeout_s
    while True:
        if alive is not None and not alive():
            raise RuntimeError("the process exited before it answered")
        conn = Connection(host, port)
        try:
            resp = await conn.request(raw, timeout_s=max(0.1, min(2.0, deadline - time.perf_counter())))
            if resp.status == 200:
                return time.perf_counter()
        except (OSError, TimeoutError):
            pass
        finally:
            conn.close()
        if time.perf_counter() >= deadline:
            raise TimeoutError(f"GET http://{host}:{port}{path} did not answer 200 within {timeout_s:.0f}s")
        await asyncio.sleep(interval)
