"""Each provider's usage in the pivot's shape (``services/caching/usage.py``), for the log and the metrics."""

from __future__ import annotations

from typing import Any

from services.caching.usage import token_count

Usage = dict[str, Any]


def _pivot(prompt: int, completion: int, read: int = 0, written: int = 0) -> Usage:
    usage: Usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if read or written:
        usage["cache_read_input_tokens"] = read
        usage["cache_creation_input_tokens"] = written
        usage["prompt_tokens_details"] = {"cached_tokens": read}
    return usage


def anthropic_usage(usage: Any) -> Usage | None:
    """Anthropic's ``input_tokens`` is the uncached rest; the pivot's prompt counts every input token."""
    if not isinstance(usage, dict):
        return None
    read = token_count(usage.get("cache_read_input_tokens"))
    written = token_count(usage.get("cache_creation_input_tokens"))
    prompt = token_count(usage.get("input_tokens")) + read + written
    return _pivot(prompt, token_count(usage.get("output_tokens")), read, written)


def responses_usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    details = usage.get("input_tokens_details")
    read = token_count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    return _pivot(token_count(usage.get("input_tokens")), token_count(usage.get("output_tokens")), read)


def gemini_usage(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    completion = token_count(usage.get("candidatesTokenCount")) + token_count(usage.get("thoughtsTokenCount"))
    return _pivot(
        token_count(usage.get("promptTokenCount")), completion, token_count(usage.get("cachedContentTokenCount"))
    )
