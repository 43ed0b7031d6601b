"""The app in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
import respx

from app import create_app
from services.databricks.credentials import UpstreamCredentials
from services.settings import Settings

HOST = "https://dbc-unit.cloud.databricks.com"
TOKEN = "dapi-unit-secret"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
INVOCATIONS = f"{HOST}/serving-endpoints/{LLAMA}/invocations"

LLAMA_ANSWER = {
    "id": "chatcmpl_4c3ae1bf-991d-4266-a12d-b1e97ecbb7a0",
    "object": "chat.completion",
    "created": 1731283200,
    "model": "meta-llama-3.3-70b-instruct-121024",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
}


@asynccontextmanager
async def proxy(base_url: str = "http://proxy", **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings.setdefault("store_url", "off")  # tests of stored responses name their own store
    # The serving-endpoint invocations; the tests of Unity Gateway and the native surfaces name theirs.
    settings.setdefault("unity_gateway", "off")
    settings.setdefault("native_surfaces", False)
    app = create_app(
        Settings(databricks_host=HOST, log_level="WARNING", upstream_transport="httpx", **settings),
        credentials=UpstreamCredentials.static(HOST, TOKEN),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": LLAMA, "messages": [{"role": "user", "content": "Hi"}], **extra}


@pytest.mark.anyio
@respx.mock
async def test_chat_forwards_exactly_and_answers_openai_shape() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        response = await client.post(
            "/v1/chat/completions",
            json=chat(seed=1, max_completion_tokens=20, stream_options={"include_usage": True}),
            headers={"Authorization": "Bearer sk-client", "Cookie": "a=b", "X-Request-Id": "rid-1"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    request_id = response.headers["x-request-id"]
    assert request_id != "rid-1"  # outside the Apps gateway a client's id is not trusted: the proxy's own
    assert response.json() == {
        "id": "chatcmpl_4c3ae1bf-991d-4266-a12d-b1e97ecbb7a0",
        "object": "chat.completion",
        "created": 1731283200,
        "model": "meta-llama-3.3-70b-instruct-121024",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert "cookie" not in sent.headers
    assert orjson.loads(sent.content) == {
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 20,
        "client_request_id": request_id,
    }


@pytest.mark.anyio
@respx.mock
async def test_stream_transcript() -> None:
    chunks = [
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "usage": {"prompt_tokens": 2},
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Yo"}, "finish_reason": None}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
         "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]},
    ]  # fmt: skip
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    respx.post(INVOCATIONS).mock(
        return_value=httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    async with proxy() as client:
        response = await client.post("/v1/chat/completions", json=chat(stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    head = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":'
    assert response.text == (
        f'data: {head}[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":null}}]}}\n\n'
        f'data: {head}[{{"index":0,"delta":{{"content":"Yo"}},"finish_reason":null}}]}}\n\n'
        f'data: {head}[{{"index":0,"delta":{{}},"finish_reason":"stop"}}]}}\n\n'
        "data: [DONE]\n\n"
    )


@pytest.mark.anyio
@respx.mock
async def test_upstream_429_keeps_retry_after_and_stream_errors_come_before_the_first_byte() -> None:
    respx.post(INVOCATIONS).mock(
        return_value=httpx.Response(
            429,
            json={"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "REQUEST_LIMIT_EXCEEDED: slow down\n"},
            headers={"Retry-After": "7"},
        )
    )
    async with proxy() as client:
        for stream in (False, True):
            response = await client.post("/v1/chat/completions", json=chat(stream=stream))
            assert response.status_code == 429
            assert response.headers["retry-after"] == "7"
            assert response.json() == {
                "error": {
                    "message": "slow down",
                    "type": "rate_limit_error",
                    "param": None,
                    "code": "REQUEST_LIMIT_EXCEEDED",
                }
            }


@pytest.mark.anyio
@respx.mock
async def test_invalid_requests_never_go_upstream() -> None:
    route = respx.post(url__regex=r".*").mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    cases: list[tuple[Any, int, str | None]] = [
        (chat(temperature=2.5), 400, "temperature"),
        (chat(model="a/../b"), 400, "model"),
        (chat(model="x%2e%2e"), 400, "model"),
        (chat(model="bad\nname"), 400, "model"),
        (chat(model="x" * 300), 400, "model"),
        (chat(messages=[{"role": "user", "content": 5}]), 400, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x"}]}, 400, "model"),
        (chat(n=3, stream=True), 400, "n"),
        (chat(logit_bias={"1": 5}), 400, "logit_bias"),
    ]
    async with proxy() as client:
        for body, status, param in cases:
            response = await client.post("/v1/chat/completions", json=body)
            assert response.status_code == status, body
            error = response.json()["error"]
            assert error["param"] == param, body
            assert error["type"] == "invalid_request_error"
    assert not route.called


@pytest.mark.anyio
@respx.mock
async def test_body_limit_is_413() -> None:
    async with proxy(max_body_bytes=2048) as client:
        response = await client.post(
            "/v1/chat/completions", content=b"{" + b" " * 4096 + b"}", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.anyio
@respx.mock
async def test_network_failures_are_502_and_504() -> None:
    route = respx.post(INVOCATIONS)
    async with proxy() as client:
        route.mock(side_effect=httpx.ConnectError("refused"))
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 502
        assert route.call_count == 3  # two immediate retries: nothing had been sent
        route.mock(side_effect=httpx.ReadTimeout("slow"))
        response = await client.post("/v1/chat/completions", json=chat())
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.anyio
@respx.mock
async def test_models_list_filters_tasks_caches_and_shows_aliases() -> None:
    listing = respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(
            200,
            json={
                "endpoints": [
                    {"name": LLAMA, "task": "llm/v1/chat", "creation_timestamp": 1718236800000},
                    {"name": "my-sklearn", "creator": "a@b.c"},
                    {
                        "name": "ext-embed",
                        "creator": "a@b.c",
                        "config": {"served_entities": [{"external_model": {"task": "llm/v1/embeddings"}}]},
                    },
                ]
            },
        )
    )
    async with proxy(model_aliases={"gpt-4o-mini": LLAMA}) as client:
        first = (await client.get("/v1/models")).json()
        await client.get("/api/v1/models")
        one = await client.get("/v1/models/gpt-4o-mini")
        missing = await client.get("/v1/models/nope")
    assert first == {
        "object": "list",
        "data": [
            {"id": LLAMA, "object": "model", "created": 1718236800, "owned_by": "databricks", "task": "llm/v1/chat"},
            {"id": "ext-embed", "object": "model", "created": 0, "owned_by": "a@b.c", "task": "llm/v1/embeddings"},
            {
                "id": "gpt-4o-mini",
                "object": "model",
                "created": 1718236800,
                "owned_by": "databricks",
                "task": "llm/v1/chat",
            },
        ],
    }
    assert listing.call_count == 1
    assert one.json()["id"] == "gpt-4o-mini"
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


@pytest.mark.anyio
@respx.mock
async def test_allow_list_refuses_before_upstream() -> None:
    route = respx.post(url__regex=r".*")
    async with proxy(allowed_models=(LLAMA,)) as client:
        response = await client.post("/v1/chat/completions", json=chat(model="databricks-other"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert not route.called


@pytest.mark.anyio
@respx.mock
async def test_acting_for_the_user_and_attribution() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    headers = {"X-Forwarded-Access-Token": "user-tok", "X-Forwarded-Email": "ada@example.com"}
    async with proxy(databricks_app_name="proxy", databricks_app_port=8000) as client:  # behind the Apps gateway
        await client.post("/api/v1/chat/completions", json=chat(), headers=headers)
        assert route.calls.last.request.headers["authorization"] == "Bearer user-tok"
        body = orjson.loads(route.calls.last.request.content)
        assert body["usage_context"] == {"end_user": "ada@example.com"}
    async with proxy(trust_forwarded_identity=True, forward_user_token=False, send_usage_context=False) as client:
        await client.post("/api/v1/chat/completions", json=chat(), headers=headers)
        assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
        body = orjson.loads(route.calls.last.request.content)
        assert "usage_context" not in body and "client_request_id" not in body


@pytest.mark.anyio
async def test_api_keys_guard_the_api_but_not_health() -> None:
    async with proxy(api_keys="ci:k-1") as client:
        denied = await client.get("/v1/models")
        assert denied.status_code == 401
        assert denied.json()["error"]["type"] == "authentication_error"
        assert denied.headers["x-request-id"]
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


@pytest.mark.anyio
@respx.mock
async def test_api_keys_are_accepted_as_bearer_or_x_api_key_and_never_forwarded() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy(api_keys="ci:k-1") as client:
        by_bearer = await client.post("/v1/chat/completions", json=chat(), headers={"Authorization": "Bearer k-1"})
        by_header = await client.post("/v1/chat/completions", json=chat(), headers={"x-api-key": "k-1"})
        wrong = await client.post(
            "/v1/chat/completions", json=chat(), headers={"x-api-key": "k-2", "Authorization": "Bearer k-3"}
        )
    assert (by_bearer.status_code, by_header.status_code, wrong.status_code) == (200, 200, 401)
    assert route.call_count == 2
    for call in route.calls:
        assert call.request.headers["authorization"] == f"Bearer {TOKEN}"
        assert "x-api-key" not in call.request.headers


@pytest.mark.anyio
async def test_unknown_route_and_method_are_openai_errors() -> None:
    async with proxy() as client:
        missing = await client.get("/v1/nothing")
        wrong = await client.get("/v1/chat/completions")
    assert missing.status_code == 404 and set(missing.json()["error"]) == {"message", "type", "param", "code"}
    assert wrong.status_code == 405 and wrong.json()["error"]["type"] == "invalid_request_error"
