"""Chat pivot answer -> Anthropic ``Message`` (pure).

``model`` echoes the model the client asked for (Claude Code compares it with its own id);
Databricks' served model is in the proxy's log line. Databricks' chat answer says ``stop`` for a
natural end and for a matched stop sequence alike, so ``stop_sequence`` cannot be told apart and is
reported as ``end_turn`` with ``stop_sequence: null``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from services.caching.usage import cache_counts, token_count
from services.pivot import content as pivot_content
from services.pivot.fields import arguments_object

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_ANTHROPIC_REASONS = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"})
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def stop_reason(finish: Any) -> str:
    if isinstance(finish, str):
        if finish in _ANTHROPIC_REASONS:
            return finish
        return STOP_REASONS.get(finish, "end_turn")
    return "end_turn"


def message_id(pivot_id: Any) -> str:
    """``msg_`` ids as Anthropic's; Databricks' own id is kept inside when it is safe to show."""
    if isinstance(pivot_id, str) and _SAFE_ID.fullmatch(pivot_id):
        return pivot_id if pivot_id.startswith("msg_") else f"msg_{pivot_id}"
    return f"msg_{uuid.uuid4().hex}"


def usage(pivot_usage: Any) -> dict[str, int]:
    """Anthropic usage from chat usage: ``input_tokens`` is the input neither read from nor written to the
    prompt cache, as Anthropic counts it (the three add up to the whole prompt)."""
    raw = pivot_usage if isinstance(pivot_usage, dict) else {}
    counts = cache_counts(raw)
    return {
        "input_tokens": counts.uncached,
        "output_tokens": token_count(raw.get("completion_tokens")),
        "cache_creation_input_tokens": counts.written,
        "cache_read_input_tokens": counts.read,
    }


thinking_block = pivot_content.thinking_block_of


def _content(message: dict[str, Any], thinking: bool) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if thinking:
        blocks = message.get("thinking_blocks")
        if isinstance(blocks, list) and blocks:
            content.extend(b for b in (thinking_block(x) for x in blocks if isinstance(x, dict)) if b is not None)
        elif isinstance(message.get("reasoning_content"), str) and message["reasoning_content"]:
            content.append(pivot_content.thinking(message["reasoning_content"]))
    text = message.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{uuid.uuid4().hex}",
                "name": function.get("name") or "",
                "input": arguments_object(function.get("arguments")),
            }
        )
    return content


def message(answer: dict[str, Any], *, model: str, thinking: bool) -> dict[str, Any]:
    """The Anthropic ``Message`` for a pivot chat answer (its first choice: Messages has one)."""
    choices = answer.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    raw = choice.get("message")
    content = _content(raw if isinstance(raw, dict) else {}, thinking)
    reason = stop_reason(choice.get("finish_reason"))
    if reason == "end_turn" and any(block["type"] == "tool_use" for block in content):
        reason = "tool_use"
    return {
        "id": message_id(answer.get("id")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": None,
        "usage": usage(answer.get("usage")),
    }
