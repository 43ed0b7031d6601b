"""What each Databricks model family takes: the one home of model-family knowledge, for every door.

The family is read from the serving endpoint's name (never from the name a client sent, which may be an alias):

- Claude before 4.6: ``thinking: {type: enabled, budget_tokens}`` (at least 1024 and below ``max_tokens``);
- Claude 4.6 and later: only ``thinking: {type: adaptive}`` with ``output_config: {effort}``, and a JSON schema
  as ``output_config.format`` (they refuse ``response_format``);
- GPT-OSS: ``reasoning_effort`` low/medium/high; other GPT models: minimal/low/medium/high;
- Gemini: refuses ``reasoning_effort`` (a nested Google 400); it thinks on its own;
- Llama and everything else (Qwen, custom models): nothing is sent; those models reason, or not, on their own.

Sources: Databricks' reasoning-models page (docs.databricks.com/machine-learning/model-serving/query-reason-models)
and Anthropic's extended-thinking guide (docs.anthropic.com/en/docs/build-with-claude/extended-thinking).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(Enum):
    CLAUDE = "claude"
    GPT = "gpt"
    GPT_OSS = "gpt-oss"
    GEMINI = "gemini"
    LLAMA = "llama"
    OTHER = "other"


# Claude 4.6 is the first generation with adaptive thinking; the newest accept nothing else.
ADAPTIVE_SINCE = (4, 6)
MIN_BUDGET = 1024
# One budget table for every door. Anthropic's guidance: start at 1024 and raise; above 32K returns diminish.
EFFORT_BUDGETS = {"minimal": 1024, "low": 4096, "medium": 10240, "high": 24576, "xhigh": 32000, "max": 32000}
DEFAULT_EFFORT = "high"
ANSWER_ROOM = 8192  # max_tokens beyond the thinking budget when the caller set none
_ADAPTIVE_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "max"}
_GPT_OSS_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_GPT_EFFORT = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_VERSION = re.compile(r"(?<![0-9])([0-9])(?:[-._]([0-9]{1,2}))?(?![0-9])")


@dataclass(frozen=True, slots=True)
class Family:
    kind: Kind
    version: tuple[int, int] = (0, 0)  # (major, minor) from the name: Claude 4.5, GPT 5.2, Gemini 2.5, Llama 3.3

    @property
    def claude(self) -> bool:
        return self.kind is Kind.CLAUDE

    @property
    def adaptive(self) -> bool:
        """Claude 4.6 and later: adaptive thinking only, structured output as ``output_config.format``."""
        return self.kind is Kind.CLAUDE and self.version >= ADAPTIVE_SINCE


def _version_after(name: str, marker: str) -> tuple[int, int]:
    found = _VERSION.search(name[name.index(marker) :])
    return (int(found.group(1)), int(found.group(2) or 0)) if found else (0, 0)


def family_of(endpoint: str) -> Family:
    """The family from the endpoint name (``databricks-claude-sonnet-4-5``, ``databricks-gpt-oss-120b``)."""
    name = endpoint.lower()
    if "gpt-oss" in name or "gpt_oss" in name:
        return Family(Kind.GPT_OSS)
    for kind in (Kind.CLAUDE, Kind.GEMINI, Kind.GPT, Kind.LLAMA):
        if kind.value in name:
            return Family(kind, _version_after(name, kind.value))
    return Family(Kind.OTHER)


def budget_for(effort: str | None, max_tokens: int | None) -> int | None:
    """The thinking budget for an effort, within ``max_tokens`` when set; None when no room is left to think."""
    budget = EFFORT_BUDGETS.get(effort or DEFAULT_EFFORT, EFFORT_BUDGETS[DEFAULT_EFFORT])
    if max_tokens is not None:
        budget = min(budget, max_tokens - 1)
    return budget if budget >= MIN_BUDGET else None


def effort_fields(family: Family, effort: str | None, max_tokens: int | None) -> dict[str, Any]:
    """The chat fields that ask a model of ``family`` for a reasoning ``effort`` (OpenAI's levels, plus
    ``xhigh`` and ``max``); may set ``max_tokens`` so that a thinking budget has room. ``none`` sends nothing."""
    if effort is None or effort == "none":
        return {}
    if family.kind is Kind.CLAUDE:
        if family.adaptive:
            return {"thinking": {"type": "adaptive"}, "output_config": {"effort": _ADAPTIVE_EFFORT.get(effort, "high")}}
        budget = budget_for(effort, max_tokens)
        if budget is None:
            return {}  # no room to think within max_tokens
        out: dict[str, Any] = {"thinking": {"type": "enabled", "budget_tokens": budget}}
        if max_tokens is None:
            out["max_tokens"] = budget + ANSWER_ROOM
        return out
    if family.kind is Kind.GPT_OSS:
        return {"reasoning_effort": _GPT_OSS_EFFORT.get(effort, "high")}
    if family.kind is Kind.GPT:
        return {"reasoning_effort": _GPT_EFFORT.get(effort, "high")}
    return {}


def effort_of_budget(budget: Any) -> str:
    """The effort level a thinking budget stands for (a budget for a family that takes levels)."""
    if not isinstance(budget, int):
        return DEFAULT_EFFORT
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


def schema_format_fields(family: Family, json_schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Structured output as the family takes it: ``json_schema`` (chat's object: ``name``, ``schema``, ...) as
    ``output_config.format`` for Claude 4.6 and later (merged into ``extra``'s ``output_config``), else as chat's
    ``response_format``."""
    if family.adaptive:
        config = dict(extra.get("output_config") or {})
        config["format"] = {"type": "json_schema", "schema": json_schema["schema"]}
        return {"output_config": config}
    return {"response_format": {"type": "json_schema", "json_schema": json_schema}}
