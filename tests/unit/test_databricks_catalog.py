"""The model catalogue: aliases, the allow-list, the name rule, the cached endpoint list."""

from __future__ import annotations

from typing import Any

import pytest

from services.databricks.catalog import ModelCatalog, endpoint_task, model_object
from services.errors import InvalidRequestError, ModelNotFoundError
from services.settings import Settings

ENDPOINTS: list[dict[str, Any]] = [
    {"name": "databricks-llama", "task": "llm/v1/chat", "creation_timestamp": 1_718_236_800_000, "creator": "a@b.c"},
    {"name": "team-embed", "task": "llm/v1/embeddings", "creator": "a@b.c"},
    {"name": "external", "config": {"served_entities": [{"external_model": {"task": "llm/v1/chat"}}]}},
    {"name": "sklearn-model", "task": None},
    {"task": "llm/v1/chat"},
]


class Client:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def list_endpoints(self, authorization: str) -> list[dict[str, Any]]:
        self.calls.append(authorization)
        return ENDPOINTS


def catalog(**settings: Any) -> tuple[ModelCatalog, Client]:
    client = Client()
    return ModelCatalog(client, Settings(**settings)), client  # type: ignore[arg-type]


def test_resolve_applies_aliases_the_allow_list_and_the_name_rule() -> None:
    models, _ = catalog(model_aliases="fast=databricks-llama", allowed_models="databricks-llama")
    assert models.endpoint_of("fast", "/v1/models") == "databricks-llama"
    assert models.endpoint_of("databricks-llama", "/v1/models") == "databricks-llama"
    with pytest.raises(ModelNotFoundError):
        models.endpoint_of("team-embed", "/v1/models")
    open_models, _ = catalog()
    with pytest.raises(InvalidRequestError) as caught:
        open_models.endpoint_of("../../api/2.0/secrets", "/v1/models")
    assert (caught.value.param, caught.value.code) == ("model", "invalid_model")


def test_endpoint_task_and_model_object() -> None:
    assert endpoint_task(ENDPOINTS[2]) == "llm/v1/chat"
    assert endpoint_task(ENDPOINTS[3]) is None
    assert model_object(ENDPOINTS[0]) == {
        "id": "databricks-llama",
        "object": "model",
        "created": 1_718_236_800,
        "owned_by": "databricks",
        "task": "llm/v1/chat",
    }
    assert model_object(ENDPOINTS[1])["owned_by"] == "a@b.c"
    assert model_object(ENDPOINTS[2])["task"] == "llm/v1/chat"  # an external model's task
    assert model_object(ENDPOINTS[3])["task"] is None


@pytest.mark.anyio
async def test_models_lists_llm_endpoints_with_aliases_and_caches_per_caller() -> None:
    models, client = catalog(model_aliases="fast=databricks-llama,ghost=nowhere")
    listed = await models.models("Bearer one")
    assert [m["id"] for m in listed] == ["databricks-llama", "team-embed", "external", "fast"]
    assert await models.models("Bearer one") is listed
    await models.models("Bearer two")
    assert client.calls == ["Bearer one", "Bearer two"]
    assert (await models.model("fast", "Bearer one", "/v1/models"))["id"] == "fast"
    with pytest.raises(ModelNotFoundError):
        await models.model("sklearn-model", "Bearer one", "/v1/models")


@pytest.mark.anyio
async def test_a_zero_ttl_asks_every_time_and_the_allow_list_filters() -> None:
    models, client = catalog(models_cache_seconds=0, allowed_models="team-embed")
    assert [m["id"] for m in await models.models("Bearer x")] == ["team-embed"]
    await models.models("Bearer x")
    assert len(client.calls) == 2
