"""uvicorn's httptools protocol with bounded request heads (`--http routes.protocol:BoundedHttpProtocol`).

uvicorn bounds neither the size nor the reading time of a request head, and a connection that never
sends a byte stays open until the client closes it: slow or idle sockets pile up until the process
runs out of file descriptors, and an unterminated header grows in memory. This subclass adds three
limits (settings ``PROXY_HEADER_TIMEOUT``, ``PROXY_MAX_HEADER_BYTES``, ``PROXY_MAX_HEADERS``):

- a request head (request line and headers) must arrive whole within the header timeout of its
  first byte, and a new connection must send one within that time; otherwise the connection is
  closed (408 when part of a head had arrived);
- a head larger than the byte limit, or with more header fields than the field limit, is refused
  with 431 and the connection closed. Both are counted in the parser's callbacks as each field is
  parsed, so a head that arrives whole in one read is held to them exactly as one that trickles in;
  the bytes of a head still being read are counted per read, so an unterminated field cannot grow
  past the limit either.

File descriptors are the one resource slow clients can still exhaust by reconnecting as fast as they
are closed. So connections that hold a descriptor without a request in progress (a new connection still
sending its head, or a keep-alive one waiting for its next request) are capped below the process's open
file limit; past the cap the one waiting longest is closed to make room, and a caller that sends its
request at once is always served.

Everything else (keep-alive timeout, flow control, pipelining) is uvicorn's own.
"""

from __future__ import annotations

import asyncio
import resource
from functools import cache
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from services.settings import Settings


@cache
def _limits() -> tuple[float, int, int]:
    settings = Settings()
    return settings.header_timeout, settings.max_header_bytes, settings.max_headers


# Descriptors kept back from waiting connections: upstream connections, the store, logs.
_RESERVED_DESCRIPTORS = 256


def _waiting_cap() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)  # read each time: the limit may change while running
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(16, soft - _RESERVED_DESCRIPTORS, soft // 2)


# Connections without a request in progress, oldest first (a dict keeps insertion order).
_waiting: dict[BoundedHttpProtocol, None] = {}


def _wait(protocol: BoundedHttpProtocol) -> None:
    _waiting.pop(protocol, None)
    _waiting[protocol] = None
    while len(_waiting) > _waiting_cap():
        oldest = next(iter(_waiting))
        del _waiting[oldest]
        oldest.transport.close()


class _HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing; the refusal itself is already recorded."""


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timeout, self._max_head_bytes, self._max_headers = _limits()
        self._in_head = True
        self._head_bytes = 0
        self._parsed_bytes = 0
        self._fields = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()
        _wait(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        _waiting.pop(self, None)
        super().connection_lost(exc)
        # A slow head's fields go with its connection, not with the protocol object's last reference.
        self.headers = []
        self.url = b""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._parsed_bytes = 0
        self._fields = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        if self._fields > self._max_headers:
            self._refusal = (431, "Too many request header fields.")
            raise _HeadRefused
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._parsed_bytes += size
        if self._parsed_bytes > self._max_head_bytes:
            self._refusal = (431, "Request header fields too large.")
            raise _HeadRefused

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._arm()
        super().data_received(data)
        if self._in_head and self._head_bytes > self._max_head_bytes and not self.transport.is_closing():
            self._refuse(431, "Request header fields too large.")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        _waiting.pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            _wait(self)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser failure with 400; a failure raised by our own limit says so.
        status, text = self._refusal or (400, msg)
        self._refuse(status, text)

    def _refuse(self, status: int, text: str) -> None:
        self._disarm()
        body = text.encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse(408, "The request head was not received in time.")
        else:
            self.transport.close()
