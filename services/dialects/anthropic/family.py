"""What each Databricks model family takes for Anthropic's reasoning controls.

Databricks serves Claude through its chat format with Anthropic's own ``thinking`` object (and, on
the newest models, only ``thinking: {"type": "adaptive"}`` with ``output_config.effort``); GPT-OSS
takes ``reasoning_effort``; other families reject both as unknown fields, so they are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from services.errors import InvalidRequestError


class Kind(Enum):
    CLAUDE = "claude"
    GPT_OSS = "gpt-oss"
    OTHER = "other"


# Claude 4.6 is the first generation with adaptive thinking; the newest accept nothing else.
ADAPTIVE_SINCE = (4, 6)
MIN_BUDGET = 1024
# Budgets used when an older Claude is asked for adaptive thinking (Anthropic's guidance: start at
# 1024 and raise; above 32K returns diminish and Databricks says results "may vary").
EFFORT_BUDGETS = {"low": 4096, "medium": 10240, "high": 24576, "xhigh": 32000, "max": 32000}
DEFAULT_EFFORT = "high"
_GPT_OSS_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_VERSION = re.compile(r"(?<![0-9])([0-9])(?:[-._]([0-9]{1,2}))?(?![0-9])")


@dataclass(frozen=True, slots=True)
class Family:
    kind: Kind
    version: tuple[int, int] = (0, 0)

    @property
    def adaptive(self) -> bool:
        return self.kind is Kind.CLAUDE and self.version >= ADAPTIVE_SINCE


def family_of(endpoint: str) -> Family:
    """The family from the endpoint name (``databricks-claude-sonnet-4-5``, ``databricks-gpt-oss-120b``)."""
    name = endpoint.lower()
    if "claude" in name:
        found = _VERSION.search(name[name.index("claude") :])
        version = (int(found.group(1)), int(found.group(2) or 0)) if found else (0, 0)
        return Family(Kind.CLAUDE, version)
    if "gpt-oss" in name or "gpt_oss" in name:
        return Family(Kind.GPT_OSS)
    return Family(Kind.OTHER)


def _budget_for(effort: str | None, max_tokens: int) -> int | None:
    budget = min(EFFORT_BUDGETS.get(effort or DEFAULT_EFFORT, EFFORT_BUDGETS[DEFAULT_EFFORT]), max_tokens - 1)
    return budget if budget >= MIN_BUDGET else None


def _gpt_oss_effort(kind: str | None, budget: Any, effort: str | None) -> str | None:
    if effort is not None:
        return _GPT_OSS_EFFORT.get(effort)
    if kind == "enabled" and isinstance(budget, int):
        return "low" if budget < 4096 else "medium" if budget < 16384 else "high"
    return None


def reasoning_fields(payload: dict[str, Any], family: Family) -> dict[str, Any]:
    """The chat fields carrying the request's ``thinking`` / ``output_config`` for this family."""
    thinking = payload.get("thinking") or {}
    config = payload.get("output_config") or {}
    kind = thinking.get("type")
    effort = config.get("effort")
    max_tokens: int = payload["max_tokens"]
    out: dict[str, Any] = {}
    if family.kind is Kind.CLAUDE:
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if isinstance(budget, int) and budget >= max_tokens:
                raise InvalidRequestError(
                    "`max_tokens` must be greater than `thinking.budget_tokens`.", param="thinking.budget_tokens"
                )
        if family.adaptive:
            if kind in ("enabled", "adaptive"):
                out["thinking"] = {"type": "adaptive"}
            kept = {k: v for k, v in config.items() if k in ("effort", "format") and v is not None}
            if kept:
                out["output_config"] = kept
        elif kind == "enabled":
            out["thinking"] = {"type": "enabled", "budget_tokens": thinking.get("budget_tokens")}
        elif kind == "adaptive":
            budget = _budget_for(effort, max_tokens)
            if budget is not None:
                out["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif family.kind is Kind.GPT_OSS:
        level = _gpt_oss_effort(kind, thinking.get("budget_tokens"), effort) if kind != "disabled" else None
        if level is not None:
            out["reasoning_effort"] = level
    if family.kind is not Kind.CLAUDE or not family.adaptive:
        schema_format = config.get("format")
        if isinstance(schema_format, dict) and isinstance(schema_format.get("schema"), dict):
            out["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema_format["schema"]},
            }
    return out


def wants_thinking(payload: dict[str, Any]) -> bool:
    """Reasoning goes back as thinking blocks only to a request that enabled thinking, as Anthropic does."""
    thinking = payload.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
