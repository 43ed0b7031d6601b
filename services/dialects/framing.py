"""Named SSE events (``event: <type>`` + ``data: <json>``), the framing of the Responses and Anthropic doors.

Each event's name is its payload's ``type``; such streams end with their own last event, not ``[DONE]``.
"""

from __future__ import annotations

from typing import Any

import orjson


def named_event(payload: dict[str, Any]) -> bytes:
    return b"event: " + str(payload["type"]).encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"
