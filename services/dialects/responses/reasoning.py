"""Reasoning blocks carried through ``encrypted_content`` (the proxy keeps no responses).

Claude verifies the signature of every thinking block it gets back, so a reasoning item must reach
Databricks again exactly as it came: text and signature verbatim, redacted blocks as they were, in
order. Clients echo a reasoning item's ``encrypted_content`` unchanged (Codex always does; it is the
Responses API's way to replay reasoning with ``store: false``), so the blocks travel there, encoded
(not encrypted: they are the caller's own data) as ``dbxr1.`` + base64url(JSON list of the pivot's
``thinking_blocks``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from models.limits import MAX_CONTENT_PARTS
from services.errors import InvalidRequestError

PREFIX = "dbxr1."


def encode(blocks: list[dict[str, Any]]) -> str:
    return PREFIX + base64.urlsafe_b64encode(orjson.dumps(blocks)).decode("ascii")


def _valid(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    if block.get("type") == "thinking":
        return isinstance(block.get("thinking"), str) and isinstance(block.get("signature"), str)
    return block.get("type") == "redacted_thinking" and isinstance(block.get("data"), str)


def decode(value: str, param: str) -> list[dict[str, Any]] | None:
    """The blocks of ``value``; None when it is not ours (another service's reasoning, not replayable)."""
    if not value.startswith(PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    # Counted before parsing: each block is one content part upstream, bounded like the Anthropic door's.
    if raw.count(b'"type"') > MAX_CONTENT_PARTS:
        raise too_many_blocks(param)
    try:
        blocks = orjson.loads(raw) if raw else None
    except ValueError:
        blocks = None
    if not isinstance(blocks, list) or not all(_valid(block) for block in blocks):
        raise InvalidRequestError(
            "The reasoning item's encrypted_content was altered; send it back exactly as it was returned.",
            param=param,
            code="invalid_encrypted_content",
        )
    return [
        {"type": "thinking", "thinking": b["thinking"], "signature": b["signature"]}
        if b["type"] == "thinking"
        else {"type": "redacted_thinking", "data": b["data"]}
        for b in blocks
    ]


def too_many_blocks(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid '{param}': reasoning replays at most {MAX_CONTENT_PARTS} thinking blocks into one assistant turn.",
        param=param,
        code="array_above_max_length",
    )
