"""Chat pivot answer -> Gemini ``GenerateContentResponse`` (pure).

Shape: https://ai.google.dev/api/generate-content#generatecontentresponse (``candidates[].content`` with
``role: "model"``, ``finishReason`` from the ``FinishReason`` enum, ``index``; ``usageMetadata`` with
``promptTokenCount``, ``candidatesTokenCount``, ``totalTokenCount``, ``thoughtsTokenCount``,
``cachedContentTokenCount``; ``modelVersion``; ``responseId``). A function call ends with ``STOP``, as
Gemini's do. The turn's thinking blocks ride on the first function call's (else the first text's)
``thoughtSignature`` (``signatures.py``); thought text is shown only when ``includeThoughts`` asked.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from services.caching.usage import cache_counts, token_count
from services.dialects.gemini import signatures
from services.pivot.fields import arguments_object

FINISH_REASONS = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}
_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def finish_reason(finish: Any) -> str:
    return FINISH_REASONS.get(finish, "OTHER") if isinstance(finish, str) else "STOP"


def response_id(pivot_id: Any) -> str:
    return pivot_id if isinstance(pivot_id, str) and _SAFE_ID.fullmatch(pivot_id) else uuid.uuid4().hex


def usage_metadata(pivot_usage: Any) -> dict[str, int]:
    raw = pivot_usage if isinstance(pivot_usage, dict) else {}
    counts = cache_counts(raw)
    prompt = counts.prompt or token_count(raw.get("prompt_tokens"))
    completion = token_count(raw.get("completion_tokens"))
    details = raw.get("completion_tokens_details")
    thoughts = token_count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - thoughts,
        "totalTokenCount": prompt + completion,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if counts.read:
        usage["cachedContentTokenCount"] = counts.read
    return usage


def function_call_part(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    return {
        "functionCall": {
            "id": call.get("id") or f"call_{uuid.uuid4().hex[:24]}",
            "name": function.get("name") or "",
            "args": arguments_object(function.get("arguments")),
        }
    }


def thinking_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message.get("thinking_blocks")
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def thought_text(blocks: list[dict[str, Any]], message: dict[str, Any]) -> str:
    text = "".join(b["thinking"] for b in blocks if isinstance(b.get("thinking"), str))
    if text:
        return text
    reasoning = message.get("reasoning_content")
    return reasoning if isinstance(reasoning, str) else ""


def sign(parts: list[dict[str, Any]], blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts with the thinking blocks on the first function call, else the first part, else a part of its own."""
    if not signatures.signed(blocks):
        return parts
    signature = signatures.encode(blocks)
    target = next((i for i, p in enumerate(parts) if "functionCall" in p), 0 if parts else None)
    if target is None:
        return [{"text": "", "thoughtSignature": signature}]
    return [{**p, "thoughtSignature": signature} if i == target else p for i, p in enumerate(parts)]


def _parts(message: dict[str, Any], thoughts: bool) -> list[dict[str, Any]]:
    blocks = thinking_of(message)
    parts: list[dict[str, Any]] = []
    if thoughts:
        text = thought_text(blocks, message)
        if text:
            parts.append({"text": text, "thought": True})
    answer: list[dict[str, Any]] = []
    content = message.get("content")
    if isinstance(content, str) and content:
        answer.append({"text": content})
    answer += [function_call_part(c) for c in message.get("tool_calls") or () if isinstance(c, dict)]
    return parts + sign(answer, blocks)


def generate_content_response(answer: dict[str, Any], *, model: str, thoughts: bool) -> dict[str, Any]:
    """The ``GenerateContentResponse`` for a pivot chat answer (every choice a candidate)."""
    candidates = []
    for position, choice in enumerate(answer.get("choices") or ()):
        if not isinstance(choice, dict):
            continue
        raw = choice.get("message")
        parts = _parts(raw if isinstance(raw, dict) else {}, thoughts)
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": finish_reason(choice.get("finish_reason")),
                "index": choice.get("index", position) if isinstance(choice.get("index"), int) else position,
            }
        )
    return {
        "candidates": candidates,
        "usageMetadata": usage_metadata(answer.get("usage")),
        "modelVersion": model,
        "responseId": response_id(answer.get("id")),
    }
