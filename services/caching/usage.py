"""Prompt-cache counts in a usage object, whichever shape Databricks sent them in.

Databricks' chat answer for Claude reports them at the top of ``usage`` as Anthropic names them,
``cache_read_input_tokens`` and ``cache_creation_input_tokens`` (read by Databricks' own client,
databricks-langchain ``ChatDatabricks._convert_completion_usage_to_usage_metadata``), and possibly in
OpenAI's ``prompt_tokens_details.cached_tokens`` (with ``cache_creation_tokens`` beside it). Whether
``prompt_tokens`` includes the cached tokens is not documented: databricks-ai-bridge issue #446 reports
that adding them to it double-counts (so it includes them, as OpenAI's does); a ``prompt_tokens`` smaller
than the cache counts can only be Anthropic's meaning (the uncached rest), and is made whole.

The pivot's usage (what every door reads) is OpenAI's shape: ``prompt_tokens`` counts every input
token, ``prompt_tokens_details.cached_tokens`` those read from the cache, and the top-level
``cache_read_input_tokens`` / ``cache_creation_input_tokens`` the reads and the writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CacheCounts:
    prompt: int  # every input token, cached or not
    read: int  # read from the cache (billed at about a tenth)
    written: int  # written to the cache (billed at about 1.25x)

    @property
    def uncached(self) -> int:
        """Input tokens neither read nor written: Anthropic's ``input_tokens``."""
        return max(self.prompt - self.read - self.written, 0)


def token_count(value: Any) -> int:
    """A usage count as sent, or 0 for anything that is not a non-negative integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def cache_counts(usage: Any) -> CacheCounts:
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    read = token_count(usage.get("cache_read_input_tokens")) or token_count(details.get("cached_tokens"))
    written = token_count(usage.get("cache_creation_input_tokens")) or token_count(details.get("cache_creation_tokens"))
    prompt = token_count(usage.get("prompt_tokens"))
    if prompt < read + written:  # Anthropic's meaning: the uncached rest only
        prompt += read + written
    return CacheCounts(prompt, read, written)


def with_cache_counts(usage: dict[str, Any]) -> dict[str, Any]:
    """``usage`` with the pivot's cache fields (unchanged when Databricks reported no cache use)."""
    counts = cache_counts(usage)
    if not counts.read and not counts.written:
        return usage
    out = dict(usage)
    out["prompt_tokens"] = counts.prompt
    details = usage.get("prompt_tokens_details")
    out["prompt_tokens_details"] = {**(details if isinstance(details, dict) else {}), "cached_tokens": counts.read}
    out["cache_read_input_tokens"] = counts.read
    out["cache_creation_input_tokens"] = counts.written
    return out
