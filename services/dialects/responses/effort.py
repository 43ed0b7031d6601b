"""``reasoning.effort`` -> what each Databricks model family takes (decided on the serving endpoint name).

- Claude before 4.6: ``thinking: {type: enabled, budget_tokens}`` (budget at least 1024 and below
  ``max_tokens``, which then has to be set).
- Claude 4.6 and later: ``thinking: {type: adaptive}`` + ``output_config: {effort}``.
- GPT-OSS: ``reasoning_effort`` low/medium/high; other GPT models: minimal/low/medium/high.
- Everything else (Llama, Gemini, which refuses ``reasoning_effort``, Qwen, custom models): nothing is
  sent; those models reason, or not, on their own.
``none`` turns reasoning off (nothing is sent). A caller's explicit ``thinking``,
``output_config`` or ``reasoning_effort`` extra wins over the mapping.
"""

from __future__ import annotations

import re
from typing import Any

_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 24576, "max": 32000}
_MIN_BUDGET = 1024
_ANSWER_ROOM = 8192  # max_tokens beyond the thinking budget when the caller set no max_output_tokens
_ADAPTIVE = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}
_GPT_OSS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_GPT = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_CLAUDE_VERSION = re.compile(r"claude\D*?(\d{1,2})(?:[-._](\d))?(?!\d)")
_EXPLICIT = ("thinking", "output_config", "reasoning_effort")


def _claude_version(name: str) -> tuple[int, int] | None:
    found = _CLAUDE_VERSION.search(name)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


def effort_fields(endpoint: str, effort: str | None, max_tokens: int | None, extras: dict[str, Any]) -> dict[str, Any]:
    """The chat fields that ask ``endpoint`` for ``effort`` (may set ``max_tokens``)."""
    if effort is None or effort == "none" or any(key in extras for key in _EXPLICIT):
        return {}
    name = endpoint.lower()
    if "claude" in name:
        version = _claude_version(name)
        if version is not None and version >= (4, 6):
            return {"thinking": {"type": "adaptive"}, "output_config": {"effort": _ADAPTIVE[effort]}}
        budget = _BUDGETS[effort]
        if max_tokens is None:
            return {"thinking": {"type": "enabled", "budget_tokens": budget}, "max_tokens": budget + _ANSWER_ROOM}
        budget = min(budget, max_tokens - 1)
        if budget < _MIN_BUDGET:
            return {}  # no room to think within max_output_tokens
        return {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if "gpt-oss" in name or "gpt_oss" in name:
        return {"reasoning_effort": _GPT_OSS[effort]}
    if "gpt" in name:
        return {"reasoning_effort": _GPT[effort]}
    return {}
