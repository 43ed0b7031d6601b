"""Databricks answers -> exact OpenAI answers (pure functions, dictionary level).

The ``model`` field of every answer is the served model Databricks reports (as OpenAI reports the
snapshot that served a request), or the requested name when Databricks reports none.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any

from services.pivot.content import as_list, message_reasoning, split_content, thinking_blocks
from services.pivot.fields import (
    chat_finish_reason,
    completion_finish_reason,
    created_of,
    model_of,
    response_id,
    tool_calls,
    usage_of,
)

_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority"})


def _message(raw: Any, legacy_functions: bool, with_thinking_blocks: bool) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    text, reasoning = split_content(raw.get("content"))
    reasoning = reasoning or message_reasoning(raw)
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": raw.get("refusal")}
    if not isinstance(message["refusal"], str):
        message["refusal"] = None
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    if with_thinking_blocks:
        blocks = thinking_blocks(raw.get("content"))
        if blocks:
            message["thinking_blocks"] = blocks
    calls = tool_calls(raw.get("tool_calls"))
    if calls:
        if legacy_functions:
            message["function_call"] = calls[0]["function"]
        else:
            message["tool_calls"] = calls
    return message


def chat_completion(
    data: dict[str, Any], *, requested_model: str, legacy_functions: bool = False, thinking_blocks: bool = False
) -> dict[str, Any]:
    """The chat pivot answer; ``thinking_blocks`` adds ``message.thinking_blocks`` (Databricks' reasoning parts)."""
    choices = []
    raw_choices = as_list(data.get("choices"))
    for position, raw in enumerate(raw_choices):
        raw = raw if isinstance(raw, dict) else {}
        message = _message(raw.get("message"), legacy_functions, thinking_blocks)
        called = "tool_calls" in message or "function_call" in message
        reason = chat_finish_reason(raw.get("finish_reason"), called, legacy_functions)
        choices.append(
            {
                "index": position,
                "message": message,
                "logprobs": raw.get("logprobs") if isinstance(raw.get("logprobs"), dict) else None,
                "finish_reason": reason,
            }
        )
    out = _envelope(data, "chat.completion", "chatcmpl", requested_model, choices)
    if isinstance(data.get("system_fingerprint"), str):
        out["system_fingerprint"] = data["system_fingerprint"]
    tier = data.get("service_tier")
    if isinstance(tier, str) and tier in _SERVICE_TIERS:  # OpenAI's enum; any other value breaks SDK parsing
        out["service_tier"] = tier
    return out


def completion(data: dict[str, Any], *, requested_model: str) -> dict[str, Any]:
    choices = []
    raw_choices = as_list(data.get("choices"))
    for position, raw in enumerate(raw_choices):
        raw = raw if isinstance(raw, dict) else {}
        text = raw.get("text")
        choices.append(
            {
                "index": position,
                "text": text if isinstance(text, str) else "",
                "logprobs": raw.get("logprobs") if isinstance(raw.get("logprobs"), dict) else None,
                "finish_reason": completion_finish_reason(raw.get("finish_reason")),
            }
        )
    return _envelope(data, "text_completion", "cmpl", requested_model, choices)


def _envelope(
    data: dict[str, Any], object_name: str, id_prefix: str, requested_model: str, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    """The fields every completion answer carries, in OpenAI's shape."""
    out: dict[str, Any] = {
        "id": response_id(data.get("id"), id_prefix),
        "object": object_name,
        "created": created_of(data.get("created")),
        "model": model_of(data.get("model"), requested_model),
        "choices": choices,
    }
    usage = usage_of(data.get("usage"))
    if usage is not None:
        out["usage"] = usage
    return out


def encode_base64(vector: list[float]) -> str:
    """Little-endian float32, what the OpenAI SDKs decode."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def embeddings(data: dict[str, Any], *, requested_model: str, encoding_format: str) -> dict[str, Any]:
    raw_items = as_list(data.get("data"))
    items = [item for item in raw_items if isinstance(item, dict)]
    if all(isinstance(item.get("index"), int) for item in items):
        items.sort(key=lambda item: item["index"])
    out_items = []
    for position, item in enumerate(items):
        vector = item.get("embedding")
        if not isinstance(vector, list):
            vector = []
        out_items.append(
            {
                "object": "embedding",
                "index": position,
                "embedding": encode_base64(vector) if encoding_format == "base64" else vector,
            }
        )
    usage = usage_of(data.get("usage"), completion=False) or {"prompt_tokens": 0, "total_tokens": 0}
    return {
        "object": "list",
        "data": out_items,
        "model": model_of(data.get("model"), requested_model),
        "usage": usage,
    }
