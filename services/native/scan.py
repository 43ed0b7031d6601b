"""Reading a relayed stream without translating it: the bytes go on as they came, and only the few events that
carry usage (or the final object) are parsed, found by a cheap test of their ``data:`` line.
"""

from __future__ import annotations

from typing import Any

import orjson

# A longer line is not an event the scan needs (usage events are small): it is passed on, never held.
_MAX_LINE = 4 * 1024 * 1024


class SseScan:
    """A door's scan says which ``data:`` payloads to parse (``wanted``) and what to keep of each (``take``).
    With ``last`` only the last wanted payload is parsed, at the end (a stream that repeats its usage in every
    event)."""

    last = False

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None  # in the pivot's shape (``services/native/usage.py``)
        self.final: dict[str, Any] | None = None  # the whole answer a closing event carries, where one does
        self._pending: bytes | None = None
        self._tail = b""
        self.at_boundary = True  # whether what was relayed so far ends between events

    def wanted(self, payload: bytes) -> bool:
        return False

    def take(self, event: dict[str, Any]) -> None:
        return None

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk if self._tail else chunk
        lines = data.split(b"\n")
        tail = lines.pop()
        self._tail = tail if len(tail) <= _MAX_LINE else b""
        for line in lines:
            if line.startswith(b"data:"):
                payload = line[5:].strip()
                if payload and self.wanted(payload):
                    if self.last:
                        self._pending = payload
                    else:
                        self._parse(payload)
        self.at_boundary = not tail and data.endswith((b"\n\n", b"\r\n\r\n"))

    def finish(self) -> None:
        if self._pending is not None:
            self._parse(self._pending)
            self._pending = None

    def _parse(self, payload: bytes) -> None:
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if isinstance(event, dict):
            self.take(event)
