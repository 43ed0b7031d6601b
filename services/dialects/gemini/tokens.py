"""An honest estimate for ``countTokens`` (no tokenizer of the served model is available locally).

Every character the model would read (system instruction, text parts, function calls and responses,
the declarations as JSON) at 4 characters per token (Google: "a token is about 4 characters",
https://ai.google.dev/gemini-api/docs/tokens), plus 258 tokens per image (Gemini's count for an image
up to 384 pixels a side; the bytes are not decoded here). Cost is linear in the bounded body.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

CHARS_PER_TOKEN = 4
PER_IMAGE = 258


def _content_chars(content: Any) -> tuple[int, int]:
    if isinstance(content, str):
        return len(content), 0
    chars = images = 0
    for part in (content or {}).get("parts") or ():
        if isinstance(part.get("text"), str):
            chars += len(part["text"])
        elif part.get("inlineData") is not None or part.get("fileData") is not None:
            images += 1
        for key in ("functionCall", "functionResponse"):
            if part.get(key) is not None:
                chars += len(orjson.dumps(part[key]))
    return chars, images


def estimate_tokens(request: dict[str, Any]) -> int:
    """``request``: a ``GenerateContentRequest`` (or ``countTokens``' ``contents`` alone)."""
    chars, images = _content_chars(request.get("systemInstruction"))
    for content in request.get("contents") or ():
        c, i = _content_chars(content)
        chars += c
        images += i
    for tool in request.get("tools") or ():
        chars += len(orjson.dumps(tool))
    return math.ceil(chars / CHARS_PER_TOKEN) + PER_IMAGE * images
