"""``reasoning.effort`` -> what each Databricks model family takes (the family comes from the serving endpoint's
name, decided as for the Anthropic door).

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

from typing import Any

from services.dialects.anthropic.family import MIN_BUDGET, Kind, family_of

_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 24576, "max": 32000}
_ANSWER_ROOM = 8192  # max_tokens beyond the thinking budget when the caller set no max_output_tokens
_ADAPTIVE = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}
_GPT_OSS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_GPT = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_EXPLICIT = ("thinking", "output_config", "reasoning_effort")


def effort_fields(endpoint: str, effort: str | None, max_tokens: int | None, extras: dict[str, Any]) -> dict[str, Any]:
    """The chat fields that ask ``endpoint`` for ``effort`` (may set ``max_tokens``)."""
    if effort is None or effort == "none" or any(key in extras for key in _EXPLICIT):
        return {}
    family = family_of(endpoint)
    if family.kind is Kind.CLAUDE:
        if family.adaptive:
            return {"thinking": {"type": "adaptive"}, "output_config": {"effort": _ADAPTIVE[effort]}}
        budget = _BUDGETS[effort]
        if max_tokens is None:
            return {"thinking": {"type": "enabled", "budget_tokens": budget}, "max_tokens": budget + _ANSWER_ROOM}
        budget = min(budget, max_tokens - 1)
        if budget < MIN_BUDGET:
            return {}  # no room to think within max_output_tokens
        return {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if family.kind is Kind.GPT_OSS:
        return {"reasoning_effort": _GPT_OSS[effort]}
    if "gpt" in endpoint.lower():
        return {"reasoning_effort": _GPT[effort]}
    return {}


def adaptive_claude(endpoint: str) -> bool:
    """Claude 4.6 and later take a JSON schema as ``output_config.format``, not ``response_format``."""
    return family_of(endpoint).adaptive
