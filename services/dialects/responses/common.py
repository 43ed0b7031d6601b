"""What the answer and the stream of one Responses call share: ids, the Response object, usage, failures."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from services.caching.usage import cache_counts, token_count
from services.errors import ProxyError


@dataclass(frozen=True, slots=True)
class ToolName:
    """What a chat function name stands for in the Responses request."""

    kind: str  # "function" or "custom"
    name: str
    namespace: str | None = None


@dataclass(slots=True)
class ChatTranslation:
    """A Responses request translated: the chat pivot request and what rendering the answer needs."""

    chat: dict[str, Any]
    echo: dict[str, Any]  # the request settings every Response object repeats
    names: dict[str, ToolName] = field(default_factory=dict)
    dropped_tools: tuple[str, ...] = ()
    stream: bool = False


class Ids:
    """The response id and its item ids: one random part, then a counter (cheap, unique, stable)."""

    __slots__ = ("_count", "_hex", "response")

    def __init__(self, hex_part: str | None = None) -> None:
        self._hex = hex_part or uuid.uuid4().hex
        self._count = 0
        self.response = "resp_" + self._hex

    def item(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._hex}{self._count}"


def response_object(
    call: ChatTranslation,
    response_id: str,
    created_at: int,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    *,
    error: dict[str, str] | None = None,
    incomplete_reason: str | None = None,
) -> dict[str, Any]:
    echo = call.echo
    stored = {"conversation": echo["conversation"]} if "conversation" in echo else {}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": echo["instructions"],
        "max_output_tokens": echo["max_output_tokens"],
        "model": model,
        "output": output,
        "parallel_tool_calls": echo["parallel_tool_calls"],
        "previous_response_id": echo.get("previous_response_id"),
        "reasoning": echo["reasoning"],
        "store": echo.get("store", False),  # the store step says so (services/store/history.py)
        "temperature": echo["temperature"],
        "text": echo["text"],
        "tool_choice": echo["tool_choice"],
        "tools": echo["tools"],
        "top_p": echo["top_p"],
        "truncation": "disabled",  # the proxy never drops input: a too-long one is Databricks' 400
        "usage": usage,
        "metadata": echo["metadata"],
        "max_tool_calls": echo["max_tool_calls"],
        "prompt_cache_key": echo["prompt_cache_key"],
        "prompt_cache_retention": echo["prompt_cache_retention"],
        "safety_identifier": echo["safety_identifier"],
        "service_tier": "default",  # Databricks serves every request at one tier
        "top_logprobs": echo["top_logprobs"],
        "user": echo["user"],
        **stored,
    }


def _detail(usage: dict[str, Any], key: str, name: str) -> int:
    details = usage.get(key)
    return token_count(details.get(name)) if isinstance(details, dict) else 0


def usage_of(usage: Any) -> dict[str, Any]:
    """Responses usage from the pivot's chat usage (zeros when Databricks sent none: clients need integers)."""
    usage = usage if isinstance(usage, dict) else {}
    counts = cache_counts(usage)
    prompt, cached, written = counts.prompt, counts.read, counts.written
    completion = token_count(usage.get("completion_tokens"))
    reasoning = _detail(usage, "completion_tokens_details", "reasoning_tokens") or token_count(
        usage.get("reasoning_tokens")
    )
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": max(token_count(usage.get("total_tokens")), prompt + completion),
    }


def status_of(finish_reason: Any) -> tuple[str, str | None]:
    """(status, incomplete reason) for a chat finish reason."""
    if finish_reason == "length":
        return "incomplete", "max_output_tokens"
    if finish_reason == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


_CONTEXT_LENGTH = re.compile(
    r"context.length|context.window|maximum context|too many tokens|prompt is too long|input is too long", re.I
)


def failure_of(error: ProxyError) -> dict[str, str]:
    """``response.error`` for a failure after the first byte, with a code Codex acts on.

    Codex retries ``rate_limit_exceeded`` (after the "try again in Ns" it reads from the message) and
    ``server_is_overloaded``, stops on ``context_length_exceeded`` and ``invalid_prompt``, and retries
    anything else as a transient server error.
    """
    message = error.message
    if _CONTEXT_LENGTH.search(message):
        code = "context_length_exceeded"
    elif error.status == 429:
        code = "rate_limit_exceeded"
        retry_after = error.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            message = f"{message} Please try again in {retry_after}s."
    elif error.status in (503, 529):
        code = "server_is_overloaded"
    elif 400 <= error.status < 500:
        code = "invalid_prompt"
    else:
        code = "server_error"
    return {"code": code, "message": message}
