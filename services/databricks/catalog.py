"""Which models a caller can name: aliases, the optional allow-list, and the cached endpoint list."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from services.databricks.client import DatabricksClient, check_endpoint_name
from services.errors import ModelNotFoundError
from services.settings import Settings

LLM_TASKS = frozenset({"llm/v1/chat", "llm/v1/completions", "llm/v1/embeddings"})
_CACHE_ENTRIES = 256


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
    return {"id": name, "object": "model", "created": created, "owned_by": owned_by}


class ModelCatalog:
    def __init__(self, client: DatabricksClient, settings: Settings) -> None:
        self.client = client
        self.aliases = dict(settings.model_aliases)
        self.allowed = frozenset(settings.allowed_models)
        self.ttl = settings.models_cache_seconds
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def resolve(self, model: str) -> str:
        """The endpoint a requested model name stands for; refused before anything goes upstream."""
        endpoint = self.aliases.get(model, model)
        if self.allowed and endpoint not in self.allowed and model not in self.allowed:
            raise ModelNotFoundError(model)
        return check_endpoint_name(endpoint)

    async def models(self, authorization: str) -> list[dict[str, Any]]:
        key = hashlib.sha256(authorization.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        endpoints = await self.client.list_endpoints(authorization)
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

    async def model(self, model_id: str, authorization: str) -> dict[str, Any]:
        for entry in await self.models(authorization):
            if entry["id"] == model_id:
                return entry
        raise ModelNotFoundError(model_id)
