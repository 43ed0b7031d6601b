"""One model resolution for every door: an alias reaches its endpoint with the endpoint's family controls."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from services.databricks.families import Family, Kind, family_of
from tests.unit.test_app import HOST, proxy

SONNET = "databricks-claude-sonnet-4-5"
OPUS = "databricks-claude-opus-4-6"
GPT = "databricks-gpt-5-2"
GEMINI = "databricks-gemini-2-5-flash"
ALIASES = f"sonnet={SONNET},claude-opus={OPUS},fast-gpt={GPT},flash={GEMINI}"
ANSWER = {
    "id": "chatcmpl_1",
    "object": "chat.completion",
    "created": 1731283200,
    "model": "served",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def upstream(endpoint: str) -> respx.Route:
    return respx.post(f"{HOST}/serving-endpoints/{endpoint}/invocations").mock(
        return_value=httpx.Response(200, json=ANSWER)
    )


def sent(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(route.calls.last.request.content)
    return body


def test_the_family_is_read_from_the_endpoint_name() -> None:
    assert family_of(OPUS).adaptive and not family_of(SONNET).adaptive
    names = (SONNET, GPT, GEMINI, "databricks-gpt-oss-120b", "databricks-meta-llama-3-3-70b-instruct", "my-model")
    assert [family_of(name) for name in names] == [
        Family(Kind.CLAUDE, (4, 5)),
        Family(Kind.GPT, (5, 2)),
        Family(Kind.GEMINI, (2, 5)),
        Family(Kind.GPT_OSS),
        Family(Kind.LLAMA, (3, 3)),
        Family(Kind.OTHER),
    ]
    assert family_of("sonnet").kind is Kind.OTHER  # which is why an alias must resolve before any door translates


@pytest.mark.anyio
@respx.mock
async def test_anthropic_door_alias_keeps_thinking_and_takes_its_endpoints_control() -> None:
    sonnet, opus = upstream(SONNET), upstream(OPUS)
    async with proxy(model_aliases=ALIASES, prompt_caching=False) as client:
        thinking = {"type": "enabled", "budget_tokens": 2048}
        message = {"max_tokens": 4096, "messages": [{"role": "user", "content": "Hi"}], "thinking": thinking}
        first = await client.post("/anthropic/v1/messages", json={"model": "sonnet", **message})
        second = await client.post("/anthropic/v1/messages", json={"model": "claude-opus", **message})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["model"] == "sonnet" and second.json()["model"] == "claude-opus"
    assert sent(sonnet)["thinking"] == thinking
    assert sent(opus)["thinking"] == {"type": "adaptive"}  # Opus 4.6 takes only adaptive thinking


@pytest.mark.anyio
@respx.mock
async def test_responses_door_alias_maps_reasoning_effort_for_its_endpoints_family() -> None:
    opus, gpt, gemini = upstream(OPUS), upstream(GPT), upstream(GEMINI)
    async with proxy(model_aliases=ALIASES, prompt_caching=False) as client:
        for model in ("claude-opus", "fast-gpt", "flash"):
            reply = await client.post(
                "/v1/responses", json={"model": model, "input": "Hi", "reasoning": {"effort": "high"}, "store": False}
            )
            assert reply.status_code == 200, reply.text
    assert sent(opus)["thinking"] == {"type": "adaptive"}
    assert sent(opus)["output_config"] == {"effort": "high"}
    assert sent(gpt)["reasoning_effort"] == "high"
    assert not {"reasoning_effort", "thinking"} & set(sent(gemini))  # Gemini refuses reasoning_effort


@pytest.mark.anyio
@respx.mock
async def test_chat_door_alias_sends_reasoning_effort_as_its_endpoints_family_takes_it() -> None:
    sonnet, opus, gpt, gemini = upstream(SONNET), upstream(OPUS), upstream(GPT), upstream(GEMINI)
    async with proxy(model_aliases=ALIASES, prompt_caching=False) as client:
        for model in ("sonnet", "claude-opus", "fast-gpt", "flash"):
            reply = await client.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "low"},
            )
            assert reply.status_code == 200, reply.text
    assert sent(sonnet)["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert sent(sonnet)["max_tokens"] == 4096 + 8192 and "reasoning_effort" not in sent(sonnet)
    assert sent(opus)["thinking"] == {"type": "adaptive"} and sent(opus)["output_config"] == {"effort": "low"}
    assert sent(gpt)["reasoning_effort"] == "low"
    assert not {"reasoning_effort", "thinking"} & set(sent(gemini))


@pytest.mark.anyio
@respx.mock
async def test_a_callers_own_thinking_wins_over_the_chat_doors_mapping() -> None:
    sonnet = upstream(SONNET)
    async with proxy(model_aliases=ALIASES, prompt_caching=False) as client:
        thinking = {"type": "enabled", "budget_tokens": 1500}
        reply = await client.post(
            "/v1/chat/completions",
            json={
                "model": "sonnet",
                "messages": [{"role": "user", "content": "Hi"}],
                "reasoning_effort": "high",
                "thinking": thinking,
                "max_tokens": 3000,
            },
        )
    assert reply.status_code == 200, reply.text
    assert sent(sonnet)["thinking"] == thinking and "reasoning_effort" not in sent(sonnet)


NOT_SERVED = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Endpoint with name 'nothing' does not exist."}
DOORS = [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}, "/v1/models"),
    ("/api/v1/responses", {"input": "Hi", "store": False}, "/v1/models"),
    (
        "/api/anthropic/v1/messages",
        {"max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]},
        "/api/anthropic/v1/models",
    ),
    (
        "/gemini/v1beta/models/nothing:generateContent",
        {"contents": [{"parts": [{"text": "Hi"}]}]},
        "/gemini/v1beta/models",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "body", "listed_at"), DOORS)
@respx.mock
async def test_a_model_databricks_does_not_serve_is_a_404_naming_the_doors_own_list(
    path: str, body: dict[str, Any], listed_at: str
) -> None:
    respx.post(f"{HOST}/serving-endpoints/nothing/invocations").mock(return_value=httpx.Response(404, json=NOT_SERVED))
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json={"endpoints": [{"name": SONNET, "task": "llm/v1/chat"}]})
    )
    async with proxy(prompt_caching=False) as client:
        reply = await client.post(path, json={"model": "nothing", **body})
    assert reply.status_code == 404, reply.text
    assert f"GET {listed_at} lists the models you can use." in reply.text


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "body", "listed_at"), DOORS)
@respx.mock
async def test_a_model_outside_the_allow_list_is_refused_before_databricks_naming_the_doors_own_list(
    path: str, body: dict[str, Any], listed_at: str
) -> None:
    invocations = respx.post(f"{HOST}/serving-endpoints/nothing/invocations")
    async with proxy(allowed_models=SONNET, prompt_caching=False) as client:
        reply = await client.post(path, json={"model": "nothing", **body})
    assert reply.status_code == 404, reply.text
    assert f"GET {listed_at} lists the models you can use." in reply.text
    assert not invocations.called
