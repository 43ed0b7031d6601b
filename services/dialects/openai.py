"""The OpenAI dialect: its error envelope (the only place it is built) and its stream framing.

The chat pivot *is* OpenAI's chat dialect, so the chat/completions door renders the normalised answer and
chunks as they are. The Responses door uses this error envelope for errors before its first byte.
"""

from __future__ import annotations

from typing import Any

import orjson

from services.dialects import Dialect
from services.errors import ProxyError

# Kinds OpenAI names differently; every other kind is OpenAI's error type as it is.
_TYPES = {"model_not_found": "invalid_request_error", "request_too_large": "invalid_request_error"}

DONE = b"data: [DONE]\n\n"


def error_body(error: ProxyError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.message,
            "type": _TYPES.get(error.kind, error.kind),
            "param": error.param,
            "code": error.code,
        }
    }


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


class ChunkPassThrough:
    """The chat/completions door's stream translator: the pivot chunks are its events."""

    __slots__ = ()

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return [chunk]

    def finish(self) -> list[dict[str, Any]]:
        return []

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        return [error_body(error)]


OPENAI = Dialect("openai", error_body, sse_event, DONE)
