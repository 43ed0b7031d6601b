"""Front-door dialects: what each door says where the core is dialect-neutral.

A ``Dialect`` renders a ``ProxyError`` as the door's error envelope and frames the door's stream events
(``frame``: one event -> SSE bytes; ``end_of_stream``: what follows the last event of a stream that ended
well). A door's pure request/answer/chunk translation lives beside it, in ``services/dialects/<door>.py``.
``DialectMap`` tells which dialect a path speaks (the longest registered prefix wins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from services.errors import ProxyError


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    error_body: Callable[[ProxyError], dict[str, Any]]
    frame: Callable[[dict[str, Any]], bytes]
    end_of_stream: bytes = b""
    ping: dict[str, Any] | None = None  # the keep-alive event of quiet streams (None: an SSE comment)
    id_header: bytes | None = None  # a header naming the request id besides X-Request-Id

    def error_bytes(self, error: ProxyError) -> bytes:
        return orjson.dumps(self.error_body(error))


class StreamTranslator(Protocol):
    """One per stream: chat pivot chunks in, the door's events out.

    ``finish`` gives the closing events (the door's own last event included), ``fail`` the error event(s)
    of a stream that fails after its first byte.
    """

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...

    def fail(self, error: ProxyError) -> list[dict[str, Any]]: ...


class DialectMap:
    def __init__(self, default: Dialect) -> None:
        self.default = default
        self._prefixes: list[tuple[str, Dialect]] = []

    def register(self, prefix: str, dialect: Dialect) -> None:
        """Paths starting with ``prefix`` (e.g. ``/anthropic/``) speak ``dialect``."""
        self._prefixes = sorted([*self._prefixes, (prefix, dialect)], key=lambda entry: -len(entry[0]))

    def for_path(self, path: str) -> Dialect:
        for prefix, dialect in self._prefixes:
            if path.startswith(prefix):
                return dialect
        return self.default
