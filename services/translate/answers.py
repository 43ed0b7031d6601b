"""Databricks answers -> exact OpenAI answers (pure functions, dictionary level).

The ``model`` field of every answer is the served model Databricks reports (as OpenAI reports the
snapshot that served a request), or the requested name when Databricks reports none.
"""

from __future__ import annotations

import base64
import math
import sys
import time
import uuid
from array import array
from typing import Any

import orjson

from services.translate.content import as_dict, as_list, message_reasoning, split_content, thinking_blocks

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority"})
_FINISH_ALIASES = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def response_id(value: Any, prefix: str) -> str:
    return value if isinstance(value, str) and value else new_id(prefix)


def created_of(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return int(time.time())
    return int(value)


def model_of(value: Any, requested: str) -> str:
    return value if isinstance(value, str) and value else requested


def finish_reason(value: Any, default: str = "stop") -> str:
    if isinstance(value, str):
        if value in FINISH_REASONS:
            return value
        return _FINISH_ALIASES.get(value, default)
    return default


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_of(usage: Any, *, completion: bool = True) -> dict[str, Any] | None:
    """OpenAI usage with integer counts; Databricks extras (details, cache counts) are kept."""
    if not isinstance(usage, dict):
        return None
    out = dict(usage)
    prompt = _int(usage.get("prompt_tokens"))
    out["prompt_tokens"] = prompt
    if completion:
        done = _int(usage.get("completion_tokens"))
        out["completion_tokens"] = done
        out["total_tokens"] = max(_int(usage.get("total_tokens")), prompt + done)
    else:
        out.pop("completion_tokens", None)
        out["total_tokens"] = max(_int(usage.get("total_tokens")), prompt)
    return out


def normalize_tool_calls(calls: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(calls, list):
        return out
    for call in calls:
        if not isinstance(call, dict):
            continue
        function = as_dict(call.get("function"))
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = orjson.dumps(arguments).decode() if arguments is not None else ""
        out.append(
            {
                "id": response_id(call.get("id"), "call"),
                "type": "function",
                "function": {"name": str(function.get("name") or ""), "arguments": arguments},
            }
        )
    return out


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
    calls = normalize_tool_calls(raw.get("tool_calls"))
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
        reason = finish_reason(raw.get("finish_reason"))
        if message.get("tool_calls") and reason == "stop":
            reason = "tool_calls"
        if legacy_functions and message.get("function_call") and reason in ("stop", "tool_calls"):
            reason = "function_call"
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
        reason = finish_reason(raw.get("finish_reason"))
        choices.append(
            {
                "index": position,
                "text": text if isinstance(text, str) else "",
                "logprobs": raw.get("logprobs") if isinstance(raw.get("logprobs"), dict) else None,
                "finish_reason": reason if reason in ("stop", "length", "content_filter") else "stop",
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
