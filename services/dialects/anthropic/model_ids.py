"""Anthropic model ids -> Databricks chat endpoints, and the Anthropic model list.

Claude Code asks for Anthropic ids on its own (``claude-opus-4-8``, a haiku id for background work,
``[1m]`` context variants, dated snapshots) unless every model variable is set. An id that is not an
alias or an endpoint is mapped onto the workspace's Claude endpoints:

1. ``databricks-<id>`` (or ``<id>``) when served, after removing a ``[...]`` suffix, a date suffix
   (``-20250929``), ``-latest`` and an ``anthropic.`` prefix: ``claude-sonnet-4-5-20250929`` ->
   ``databricks-claude-sonnet-4-5``;
2. else the newest served endpoint of the same tier (opus, sonnet, haiku): ``claude-opus-4-8`` ->
   ``databricks-claude-opus-4-6`` when that is the newest opus;
3. else the newest served Claude endpoint (sonnet before opus before haiku at equal version).

The Anthropic model list shows each Claude endpoint under its Anthropic id (the endpoint name
without ``databricks-``), with the endpoint as ``display_name``, then every chat endpoint by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.databricks.catalog import ENDPOINT_PREFIX, ProviderModelIds, provider_endpoint
from services.databricks.families import Kind, family_of

TIERS = ("sonnet", "opus", "haiku")
PREFIX = ENDPOINT_PREFIX
_SUFFIXES = (re.compile(r"\[[^\]]*\]$"), re.compile(r"-(?:\d{8}|latest)$"))
MAX_PAGE = 1000
DEFAULT_PAGE = 20


def normalise(model: str) -> str:
    name = model.strip().lower().removeprefix("anthropic.").removeprefix("anthropic/")
    for pattern in _SUFFIXES:
        name = pattern.sub("", name)
    return name


def _tier(name: str) -> str | None:
    return next((tier for tier in TIERS if tier in name), None)


def _rank(name: str) -> tuple[tuple[int, int], int]:
    tier = _tier(name)
    return family_of(name).version, -(TIERS.index(tier) if tier else len(TIERS))


def is_anthropic_id(model: str) -> bool:
    return normalise(model).startswith("claude")


def endpoint_for(model: str, endpoints: Iterable[str]) -> str | None:
    """The served Claude endpoint an Anthropic model id stands for, or None."""
    claude = [e for e in endpoints if family_of(e).kind is Kind.CLAUDE]
    return provider_endpoint(normalise(model), claude, _tier, _rank)


def anthropic_ids(models_path: str) -> ProviderModelIds:
    """The Anthropic door's model ids, for the one model resolution (``ModelCatalog.resolve``)."""
    return ProviderModelIds(
        models_path,
        is_id=is_anthropic_id,
        endpoint_for=endpoint_for,
        normalise=normalise,
        not_served_message=lambda model, listed: (
            f"The model '{model}' is an Anthropic model id, and no Claude serving endpoint is there to map it to: "
            f"name a serving endpoint (GET {listed} lists them)."
        ),
    )


def _created_at(created: Any) -> str:
    seconds = created if isinstance(created, int | float) and created > 0 else 0
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def model_infos(chat_models: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anthropic ``ModelInfo`` entries for the chat models of the catalogue (``id``, ``created``)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(model_id: str, display: str, created: Any) -> None:
        if model_id not in seen:
            seen.add(model_id)
            out.append(
                {
                    "type": "model",
                    "id": model_id,
                    "display_name": display,
                    "created_at": _created_at(created),
                    "lifecycle": "active",  # a listed endpoint serves; the SDK's ModelInfo requires the field
                }
            )

    for model in chat_models:
        name = model["id"]
        if name.startswith(PREFIX) and family_of(name).kind is Kind.CLAUDE:
            add(name.removeprefix(PREFIX), name, model.get("created"))
    for model in chat_models:
        add(model["id"], model["id"], model.get("created"))
    return out


def model_page(
    infos: list[dict[str, Any]], *, limit: int = DEFAULT_PAGE, after_id: str | None = None, before_id: str | None = None
) -> dict[str, Any]:
    """Anthropic's list page: ``data``, ``has_more``, ``first_id``, ``last_id``."""
    ids = [info["id"] for info in infos]
    limit = max(1, min(limit, MAX_PAGE))
    if before_id is not None and before_id in ids:
        end = ids.index(before_id)
        page = infos[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        start = ids.index(after_id) + 1 if after_id is not None and after_id in ids else 0
        page = infos[start : start + limit]
        has_more = start + limit < len(infos)
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
