"""One normalisation per answer field, shared by whole answers (``answers.py``) and stream chunks
(``chunks.py``): ids, timestamps, model, finish reasons, usage, tool calls."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import orjson

from services.answer_depth import check_answer_depth
from services.caching.usage import token_count, with_cache_counts
from services.pivot.content import as_dict

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
_COMPLETION_REASONS = frozenset({"stop", "length", "content_filter"})
_FINISH_ALIASES = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def arguments_object(arguments: Any) -> dict[str, Any]:
    """A tool call's arguments as the object Anthropic's ``input`` and Gemini's ``args`` are; arguments that are
    not a JSON object become ``{}``; one too deep to encode again is refused as an upstream error."""
    if isinstance(arguments, dict):
        value: Any = arguments
    elif not isinstance(arguments, str) or not arguments.strip():
        return {}
    else:
        try:
            value = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return {}
        if not isinstance(value, dict):
            return {}
    check_answer_depth(value, "a tool input")
    return dict(value)


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


def usage_of(usage: Any, *, completion: bool = True) -> dict[str, Any] | None:
    """OpenAI usage with integer counts; Databricks extras (details) are kept, cache counts in the pivot's shape
    (``services/caching/usage.py``)."""
    if not isinstance(usage, dict):
        return None
    out = with_cache_counts(dict(usage))
    prompt = token_count(out.get("prompt_tokens"))
    out["prompt_tokens"] = prompt
    if completion:
        done = token_count(usage.get("completion_tokens"))
        out["completion_tokens"] = done
        out["total_tokens"] = max(token_count(usage.get("total_tokens")), prompt + done)
    else:
        out.pop("completion_tokens", None)
        out["total_tokens"] = max(token_count(usage.get("total_tokens")), prompt)
    return out


def chat_finish_reason(value: Any, called_tools: bool, legacy_functions: bool = False) -> str:
    """A chat choice's reason; one that called tools and stopped finished with ``tool_calls``
    (``function_call`` for a request in the legacy ``functions`` form). ``None``: the stream just ended."""
    reason = finish_reason(value)
    if called_tools and reason == "stop":
        reason = "tool_calls"
    if legacy_functions and reason == "tool_calls":
        reason = "function_call"
    return reason


def completion_finish_reason(value: Any) -> str:
    """A text completion's reason: tool reasons have no meaning there."""
    reason = finish_reason(value)
    return reason if reason in _COMPLETION_REASONS else "stop"


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as the JSON text both dialects carry (Databricks may send an object)."""
    if isinstance(arguments, str):
        return arguments
    return orjson.dumps(arguments).decode() if arguments is not None else ""


def tool_function(function: Any) -> dict[str, str]:
    """A tool call's ``function``: its name and its arguments as text."""
    function = as_dict(function)
    return {"name": str(function.get("name") or ""), "arguments": arguments_text(function.get("arguments"))}


def tool_calls(calls: Any) -> list[dict[str, Any]]:
    """A whole answer's tool calls (streams track theirs per delta, see ``chunks.py``)."""
    if not isinstance(calls, list):
        return []
    return [
        {"id": response_id(call.get("id"), "call"), "type": "function", "function": tool_function(call.get("function"))}
        for call in calls
        if isinstance(call, dict)
    ]
