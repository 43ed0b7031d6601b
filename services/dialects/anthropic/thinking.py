"""Anthropic's reasoning controls (``thinking``, ``output_config``) as the endpoint's family takes them
(``services/databricks/families.py``)."""

from __future__ import annotations

from typing import Any

from services.databricks.families import (
    Family,
    Kind,
    budget_for,
    effort_fields,
    effort_of_budget,
    schema_format_fields,
)
from services.errors import InvalidRequestError


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
            budget = budget_for(effort, max_tokens)
            if budget is not None:
                out["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif family.kind in (Kind.GPT_OSS, Kind.GPT) and kind != "disabled":
        level = effort
        if level is None and kind == "enabled":
            level = effort_of_budget(thinking.get("budget_tokens"))
        out.update(effort_fields(family, level, max_tokens))
    schema_format = config.get("format")
    # Claude 4.6 and later keep the format in ``output_config`` above, as sent.
    if not family.adaptive and isinstance(schema_format, dict) and isinstance(schema_format.get("schema"), dict):
        out.update(schema_format_fields(family, {"name": "output", "schema": schema_format["schema"]}, out))
    return out


def wants_thinking(payload: dict[str, Any]) -> bool:
    """Reasoning goes back as thinking blocks only to a request that enabled thinking, as Anthropic does."""
    thinking = payload.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
