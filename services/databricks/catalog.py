"""Which models a caller can name: aliases, the optional allow-list, and the cached endpoint list."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.databricks.client import DatabricksClient, check_endpoint_name
from services.databricks.families import Family, family_of
from services.errors import (
    AuthenticationError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ProxyError,
    UpstreamCredentialError,
)
from services.settings import Settings

ENDPOINT_PREFIX = "databricks-"  # Databricks' pay-per-token endpoints: databricks-<model id>
CHAT_TASK = "llm/v1/chat"
COMPLETIONS_TASK = "llm/v1/completions"
EMBEDDINGS_TASK = "llm/v1/embeddings"
LLM_TASKS = frozenset({CHAT_TASK, COMPLETIONS_TASK, EMBEDDINGS_TASK})
_CACHE_ENTRIES = 256
_SUGGEST_SECONDS = 5.0  # bound on listing the models to suggest a name, after Databricks said 404


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A request's model, resolved once before any door translates; every later step takes this value."""

    requested: str  # the name the client sent: answers and the log name it
    endpoint: str  # the serving endpoint that serves it (an alias's target, a provider id's endpoint)
    task: str  # the Databricks task the request is for (``llm/v1/chat``, ...)
    family: Family  # read from the endpoint, never from the requested name
    models_path: str  # the door's list of models, which errors about this model point to


class ProviderIds(Protocol):
    """A door's provider model ids (``claude-sonnet-4-5``) and the served endpoints they stand for."""

    def claims(self, model: str) -> bool: ...

    def endpoint_for(self, model: str, endpoints: Iterable[str]) -> str | None: ...

    def assumed(self, model: str) -> str:
        """The endpoint to try when the caller may not list the endpoints."""
        ...

    def not_served(self, model: str) -> ProxyError:
        """The error for an id no served endpoint stands for."""
        ...


class ProviderModelIds:
    """``ProviderIds`` from a door's rules: which names are its provider's ids, the endpoint one stands for, its
    normal form, and the message for an id nothing serves (given the id and the door's list of models)."""

    def __init__(
        self,
        models_path: str,
        *,
        is_id: Callable[[str], bool],
        endpoint_for: Callable[[str, Iterable[str]], str | None],
        normalise: Callable[[str], str],
        not_served_message: Callable[[str, str], str],
    ) -> None:
        self.models_path = models_path  # the door's list of models, under the prefix the request came through
        self._is_id = is_id
        self._endpoint_for = endpoint_for
        self._normalise = normalise
        self._message = not_served_message

    def claims(self, model: str) -> bool:
        return self._is_id(model)

    def endpoint_for(self, model: str, endpoints: Iterable[str]) -> str | None:
        return self._endpoint_for(model, endpoints)

    def assumed(self, model: str) -> str:
        return ENDPOINT_PREFIX + self._normalise(model)

    def not_served(self, model: str) -> ProxyError:
        return NotFoundError(self._message(model, self.models_path), param="model", code="model_not_found")


def provider_endpoint(
    name: str, served: list[str], tier: Callable[[str], str | None], rank: Callable[[str], Any]
) -> str | None:
    """The served endpoint a provider's normalised model id stands for: ``databricks-<id>`` or ``<id>`` when
    served, else the best-ranked served endpoint of the same tier, else the best-ranked of all (None if none)."""
    for candidate in (ENDPOINT_PREFIX + name, name):
        if candidate in served:
            return candidate
    wanted = tier(name)
    same_tier = [e for e in served if wanted is not None and tier(e) == wanted]
    pool = same_tier or served
    return max(pool, key=rank) if pool else None


def endpoint_task(endpoint: dict[str, Any]) -> str | None:
    task = endpoint.get("task")
    if isinstance(task, str):
        return task
    for entity in (endpoint.get("config") or {}).get("served_entities") or ():
        external = entity.get("external_model") if isinstance(entity, dict) else None
        if isinstance(external, dict) and isinstance(external.get("task"), str):
            return str(external["task"])
    return None


def model_object(endpoint: dict[str, Any]) -> dict[str, Any]:
    name = str(endpoint.get("name"))
    timestamp = endpoint.get("creation_timestamp")
    created = int(timestamp) // 1000 if isinstance(timestamp, int | float) and timestamp > 0 else 0
    creator = endpoint.get("creator")
    owned_by = "databricks" if name.startswith("databricks-") or not isinstance(creator, str) else creator
    # ``task`` is not an OpenAI field (SDKs keep unknown fields): it tells chat, completions and embeddings apart.
    return {"id": name, "object": "model", "created": created, "owned_by": owned_by, "task": endpoint_task(endpoint)}


def nearest_names(name: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """Known names a mistyped one probably meant: those containing it, then the closest spellings."""
    known = sorted(set(names))
    wanted = name.lower()
    containing = [n for n in known if wanted and wanted in n.lower()]
    close = difflib.get_close_matches(name, known, n=limit, cutoff=0.6)
    return list(dict.fromkeys([*containing, *close]))[:limit]


class ModelCatalog:
    def __init__(
        self,
        client: DatabricksClient,
        settings: Settings,
        on_listed: Callable[[Iterable[str]], None] | None = None,
    ) -> None:
        """``on_listed`` is told the names of the endpoints Databricks lists (real ones, unlike a client's guess)."""
        self.client = client
        self.on_listed = on_listed
        self.aliases = dict(settings.model_aliases)
        self.allowed = frozenset(settings.allowed_models)
        self.ttl = settings.models_cache_seconds
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def endpoint_of(self, model: str, models_path: str) -> str:
        """The endpoint a requested model name stands for (aliases, the allow-list); refused before anything goes
        upstream (the refusal points to ``models_path``)."""
        endpoint = self.aliases.get(model, model)
        if self.allowed and endpoint not in self.allowed and model not in self.allowed:
            offered = [*self.allowed, *(a for a, target in self.aliases.items() if target in self.allowed)]
            raise ModelNotFoundError(model, models_path, nearest_names(model, offered))
        return check_endpoint_name(endpoint)

    async def resolve(
        self, model: str, task: str, authorization: str, models_path: str, ids: ProviderIds | None = None
    ) -> ResolvedModel:
        """The one resolution of a request's model: an alias to its endpoint, a door's provider id (``ids``) to
        the served endpoint it stands for, else the name as the endpoint. ``models_path`` is the door's list of
        models, named by any error about the model."""
        endpoint = model
        if ids is not None and model not in self.aliases and ids.claims(model):
            endpoint = await self._provider_endpoint(model, authorization, ids)
        endpoint = self.endpoint_of(endpoint, models_path)
        return ResolvedModel(model, endpoint, task, family_of(endpoint), models_path)

    async def _provider_endpoint(self, model: str, authorization: str, ids: ProviderIds) -> str:
        try:
            names = [m["id"] for m in await self.chat_models(authorization)]
        except (PermissionDeniedError, AuthenticationError, UpstreamCredentialError):
            # A caller may query endpoints without the right to list them: the id's own endpoint name, then.
            return ids.assumed(model)
        if model in names:
            return model
        endpoint = ids.endpoint_for(model, names)
        if endpoint is None:
            raise ids.not_served(model)
        return endpoint

    async def check_served(self, model: ResolvedModel, authorization: str) -> None:
        """A 404 for a model an invocation would not find, without invoking it: the endpoint list stands for
        Databricks' answer when the caller may read it (when not, the model is let be, as an invocation would)."""
        try:
            listed = {m["id"] for m in await self.models(authorization)}
        except (PermissionDeniedError, AuthenticationError, UpstreamCredentialError):
            return
        if model.endpoint not in listed and model.requested not in listed:
            raise await self.not_found(model.requested, authorization, model.models_path)

    async def models(self, authorization: str) -> list[dict[str, Any]]:
        key = hashlib.sha256(authorization.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        endpoints = await self.client.list_endpoints(authorization)
        if self.on_listed is not None:
            self.on_listed(e["name"] for e in endpoints if isinstance(e.get("name"), str))
        listed = [
            model_object(e)
            for e in endpoints
            if isinstance(e.get("name"), str)
            and endpoint_task(e) in LLM_TASKS
            and (not self.allowed or e["name"] in self.allowed)
        ]
        by_name = {m["id"]: m for m in listed}
        for alias, target in self.aliases.items():
            if target in by_name and alias not in by_name:
                listed.append({**by_name[target], "id": alias})
        if len(self._cache) >= _CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = (now, listed)
        return listed

    async def chat_models(self, authorization: str) -> list[dict[str, Any]]:
        """The listed models (endpoints and aliases) that serve chat."""
        return [m for m in await self.models(authorization) if m["task"] == CHAT_TASK]

    async def model(self, model_id: str, authorization: str, models_path: str) -> dict[str, Any]:
        listed = await self.models(authorization)
        for entry in listed:
            if entry["id"] == model_id:
                return entry
        raise ModelNotFoundError(model_id, models_path, nearest_names(model_id, (str(m["id"]) for m in listed)))

    async def task_of(self, endpoint: str, authorization: str) -> str | None:
        """The endpoint's Databricks task from the (cached) list, or None when it cannot be told."""
        try:
            listed = await asyncio.wait_for(self.models(authorization), _SUGGEST_SECONDS)
        except (ProxyError, TimeoutError):
            return None
        found = next((m.get("task") for m in listed if m["id"] == endpoint), None)
        return found if isinstance(found, str) else None

    async def not_found(self, model: str, authorization: str, models_path: str) -> ModelNotFoundError:
        """The error for a model Databricks does not serve, naming the caller's nearest models if any."""
        try:
            listed = await asyncio.wait_for(self.models(authorization), _SUGGEST_SECONDS)
        except (ProxyError, TimeoutError):
            listed = []
        return ModelNotFoundError(model, models_path, nearest_names(model, (str(m["id"]) for m in listed)))
