"""Gemini model ids -> Databricks endpoints, and the Gemini model list (pure).

``{model}`` in a Gemini path is an endpoint name or a Gemini id, with or without ``models/``. A Gemini id
(``gemini-2.5-pro``, ``gemini-3-pro-preview``, ``gemini-2.5-flash-lite``) is mapped onto the workspace's
Gemini endpoints as the Anthropic door maps Claude ids:

1. ``databricks-<id>`` with dots as dashes, after removing ``-preview``/``-latest``/``-exp`` and date
   suffixes: ``gemini-2.5-pro`` -> ``databricks-gemini-2-5-pro``;
2. else the newest served Gemini endpoint of the same tier (pro, flash): ``gemini-3.5-flash`` ->
   ``databricks-gemini-2-5-flash`` when that is the newest flash;
3. else the newest served Gemini endpoint.

The list shows each Gemini endpoint under its Gemini id (``models/gemini-2.5-pro``), then every chat
endpoint by its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from services.databricks.catalog import ENDPOINT_PREFIX, ProviderModelIds, provider_endpoint
from services.databricks.families import Kind, family_of

PREFIX = ENDPOINT_PREFIX
TIERS = ("pro", "flash")
METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
_SUFFIX = re.compile(r"(?:-(?:preview|latest|exp|\d{2}-\d{4}|\d{4}-\d{2}-\d{2}|\d{3,8}))+$")
_VERSION = re.compile(r"gemini-(\d+)(?:[-.](\d+))?")
_DOTTED = re.compile(r"(?<=\d)-(?=\d)")
# Limits Google publishes for the 2.5 and 3 models (https://ai.google.dev/gemini-api/docs/models).
INPUT_LIMIT = 1_048_576
OUTPUT_LIMIT = 65_536


def strip_prefix(model: str) -> str:
    return model.removeprefix("models/")


def normalise(model: str) -> str:
    name = strip_prefix(model.strip().lower()).removeprefix("google/")
    return _SUFFIX.sub("", name).replace(".", "-")


def is_gemini_id(model: str) -> bool:
    return normalise(model).startswith("gemini")


def is_gemini_endpoint(name: str) -> bool:
    return family_of(name).kind is Kind.GEMINI


def _version(name: str) -> tuple[int, int]:
    found = _VERSION.search(name.lower().replace(".", "-"))
    return (int(found.group(1)), int(found.group(2) or 0)) if found else (0, 0)


def _tier(name: str) -> str | None:
    return next((tier for tier in TIERS if tier in name.lower()), None)


def _rank(name: str) -> tuple[tuple[int, int], int, int]:
    tier = _tier(name)
    # pro before flash at equal version; a "lite" after its full model
    return _version(name), -(TIERS.index(tier) if tier else len(TIERS)), -("lite" in name.lower())


def endpoint_for(model: str, endpoints: Iterable[str]) -> str | None:
    """The served Gemini endpoint a Gemini id stands for, or None."""
    gemini = [e for e in endpoints if is_gemini_endpoint(e)]
    return provider_endpoint(normalise(model), gemini, _tier, _rank)


def gemini_ids(models_path: str) -> ProviderModelIds:
    """The Gemini door's model ids, for the one model resolution (``ModelCatalog.resolve``)."""
    return ProviderModelIds(
        models_path,
        is_id=is_gemini_id,
        endpoint_for=endpoint_for,
        normalise=normalise,
        not_served_message=lambda model, listed: (
            f"models/{model} is not found: it is a Gemini model id, and no Gemini serving endpoint is there to map "
            f"it to. Name a serving endpoint (GET {listed} lists them)."
        ),
    )


def gemini_id(endpoint: str) -> str | None:
    """``databricks-gemini-2-5-pro`` -> ``gemini-2.5-pro``; None for a non-Gemini endpoint."""
    if not endpoint.startswith(PREFIX) or not is_gemini_endpoint(endpoint):
        return None
    return _DOTTED.sub(".", endpoint.removeprefix(PREFIX))


def model_entry(model_id: str, display: str, description: str) -> dict[str, Any]:
    return {
        "name": f"models/{model_id}",
        "baseModelId": model_id,
        "version": "001",
        "displayName": display,
        "description": description,
        "inputTokenLimit": INPUT_LIMIT,
        "outputTokenLimit": OUTPUT_LIMIT,
        "supportedGenerationMethods": METHODS,
    }


def model_list(chat_models: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gemini ``Model`` entries: Gemini endpoints under their Gemini ids, then every chat endpoint."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for model in chat_models:
        alias = gemini_id(model["id"])
        if alias is not None and alias not in seen:
            seen.add(alias)
            out.append(model_entry(alias, model["id"], f"Served by the endpoint {model['id']}."))
    for model in chat_models:
        if model["id"] not in seen:
            seen.add(model["id"])
            out.append(model_entry(model["id"], model["id"], f"The serving endpoint {model['id']}."))
    return out
