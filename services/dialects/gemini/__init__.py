"""The Gemini API door: pure translation to and from the chat pivot.

- ``requests``: ``GenerateContentRequest`` -> chat request (``to_chat``)
- ``answers``: chat answer -> ``GenerateContentResponse``
- ``stream``: chat chunks -> ``streamGenerateContent`` chunks (``ContentStream``)
- ``signatures``: thinking blocks carried in ``thoughtSignature``
- ``errors``: Google's error envelope
- ``tokens``: the ``countTokens`` estimate
- ``model_ids``: Gemini model ids -> endpoints, and the Gemini model list
"""

from __future__ import annotations

import orjson

from services.dialects import Dialect
from services.dialects.gemini.errors import error_body


def sse_event(payload: dict[str, object]) -> bytes:
    """``data: <json>`` per chunk, as ``?alt=sse`` streams (no event names, no end marker)."""
    return b"data: " + orjson.dumps(payload) + b"\r\n\r\n"


GEMINI = Dialect("gemini", error_body, sse_event)
