"""Reasoning without a store: a turn's thinking blocks travel to the client in ``thoughtSignature`` and back.

Claude on Databricks must see its own signed thinking blocks again on the next turn (with tool use it
refuses a turn without them); Gemini clients replay a model turn's ``thoughtSignature`` verbatim (Gemini 3
requires it with function calls: https://ai.google.dev/gemini-api/docs/thought-signatures). So the
signature the door writes is the turn's blocks (text and Anthropic signature) as JSON, base64-encoded:
``thoughtSignature`` is ``bytes`` in Google's SDKs, which may send it back URL-safe, so both alphabets are
read. A signature that is not one of these (a real Gemini model's) is ignored: only Gemini itself can use it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

_MARK = "dbx-thinking"
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def signed(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks Claude can be shown again: signed thinking and redacted thinking."""
    return [b for b in (_clean(x) for x in blocks) if b is not None]


def encode(blocks: list[dict[str, Any]]) -> str:
    return base64.b64encode(orjson.dumps({_MARK: signed(blocks)})).decode()


def _clean(block: Any) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        return None
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        return {"type": "redacted_thinking", "data": data} if isinstance(data, str) and data else None
    text, signature = block.get("thinking"), block.get("signature")
    if isinstance(text, str) and isinstance(signature, str) and signature:
        return {"type": "thinking", "thinking": text, "signature": signature}
    return None


def decode(signature: str) -> list[dict[str, Any]]:
    """The thinking blocks a signature carries; ``[]`` for one this door did not write."""
    raw = signature.strip().encode().translate(_URLSAFE)
    try:
        value = orjson.loads(base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True))
    except (binascii.Error, ValueError):
        return []
    blocks = value.get(_MARK) if isinstance(value, dict) else None
    if not isinstance(blocks, list):
        return []
    return [b for b in (_clean(x) for x in blocks) if b is not None]
