"""An honest estimate for ``count_tokens`` (no tokenizer of the served model is available locally).

Every character the model would read (system, message text, tool inputs and results, thinking, and
the tools' names, descriptions and schemas as JSON) at 3.5 characters per token (Claude's tokenizer
is close to that for English and code; rounding to the cautious side keeps clients that compact
their context on this number safe), plus 3 tokens per message and 1,600 per image (Anthropic's size
for a ~1.15 megapixel image; the bytes are not decoded here). Cost is linear in the bounded body.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

CHARS_PER_TOKEN = 3.5
PER_MESSAGE = 3
PER_IMAGE = 1600


def _block_chars(block: dict[str, Any]) -> tuple[int, int]:
    """(characters, images) of one content block."""
    kind = block.get("type")
    if kind == "text":
        return len(block.get("text") or ""), 0
    if kind == "image":
        return 0, 1
    if kind == "thinking":
        return len(block.get("thinking") or ""), 0
    if kind == "tool_use":
        return len(str(block.get("name") or "")) + len(orjson.dumps(block.get("input") or {})), 0
    if kind == "tool_result":
        return _content_chars(block.get("content"))
    if kind == "document":
        source = block.get("source") or {}
        return (len(source["data"]) if source.get("type") == "text" and isinstance(source.get("data"), str) else 0), 0
    return 0, 0


def _content_chars(content: Any) -> tuple[int, int]:
    if isinstance(content, str):
        return len(content), 0
    chars = images = 0
    for block in content or ():
        if isinstance(block, dict):
            c, i = _block_chars(block)
            chars += c
            images += i
    return chars, images


def estimate_input_tokens(payload: dict[str, Any]) -> int:
    chars, images = _content_chars(payload.get("system"))
    messages = payload.get("messages") or []
    for message in messages:
        c, i = _content_chars(message.get("content"))
        chars += c
        images += i
    for tool in payload.get("tools") or ():
        chars += len(str(tool.get("name") or "")) + len(str(tool.get("description") or ""))
        chars += len(orjson.dumps(tool.get("input_schema") or {}))
    return math.ceil(chars / CHARS_PER_TOKEN) + PER_MESSAGE * len(messages) + PER_IMAGE * images
