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
from services.pivot.content import thinking_block_of

PREFIX = "dbxr1."


def encode(blocks: list[dict[str, Any]]) -> str:
    return PREFIX + base64.urlsafe_b64encode(orjson.dumps(blocks)).decode("ascii")


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
    rebuilt = [thinking_block_of(block) for block in blocks] if isinstance(blocks, list) else [None]
    if not isinstance(blocks, list) or not all(
        block is not None and _signed_as_sent(block, sent) for block, sent in zip(rebuilt, blocks, strict=True)
    ):
        raise InvalidRequestError(
            "The reasoning item's encrypted_content was altered; send it back exactly as it was returned.",
            param=param,
            code="invalid_encrypted_content",
        )
    return [block for block in rebuilt if block is not None]


def _signed_as_sent(block: dict[str, Any], sent: dict[str, Any]) -> bool:
    """What we encoded had its type and, on thinking, a string signature (none is ``""``, never missing)."""
    return block["type"] == sent.get("type") and (block["type"] != "thinking" or isinstance(sent.get("signature"), str))


def too_many_blocks(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid '{param}': reasoning replays at most {MAX_CONTENT_PARTS} thinking blocks into one assistant turn.",
        param=param,
        code="array_above_max_length",
    )
