"""The Anthropic door in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import HOST, TOKEN, proxy

HAIKU = "databricks-claude-haiku-4-5"
SONNET = "databricks-claude-sonnet-4-5"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
ENDPOINTS = {
    "endpoints": [
        {"name": name, "task": "llm/v1/chat", "creation_timestamp": 1718236800000} for name in (SONNET, HAIKU, LLAMA)
    ]
    + [{"name": "databricks-bge-large-en", "task": "llm/v1/embeddings", "creation_timestamp": 1718236800000}]
}
CLAUDE_ANSWER = {
    "model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Hmm.", "signature": "Sig+/="}]},
                    {"type": "text", "text": "Hi!"},
                ],
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    "object": "chat.completion",
    "id": "msg_bdrk_01abc",
    "created": 1731283200,
}


def messages(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5-20251001",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Hi"}],
        **extra,
    }


@pytest.mark.anyio
@respx.mock
async def test_anthropic_id_is_mapped_and_the_answer_is_a_message() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    route = respx.post(f"{HOST}/serving-endpoints/{HAIKU}/invocations").mock(
        return_value=httpx.Response(200, json=CLAUDE_ANSWER)
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post(
            "/api/anthropic/v1/messages?beta=true",
            json=messages(thinking={"type": "enabled", "budget_tokens": 1024}, metadata={"user_id": "u"}),
            headers={"anthropic-version": "2023-06-01", "anthropic-beta": "interleaved-thinking-2025-05-14"},
        )
    assert response.status_code == 200
    assert response.headers["request-id"] == response.headers["x-request-id"]
    assert response.json() == {
        "id": "msg_bdrk_01abc",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [
            {"type": "thinking", "thinking": "Hmm.", "signature": "Sig+/="},
            {"type": "text", "text": "Hi!"},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 12,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    sent = route.calls.last.request
    assert orjson.loads(sent.content) == {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}
        ],
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert "anthropic-version" not in sent.headers and "anthropic-beta" not in sent.headers


@pytest.mark.anyio
@respx.mock
async def test_models_list_in_anthropic_shape() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    async with proxy() as client:
        page = (await client.get("/anthropic/v1/models?limit=2")).json()
        bad = await client.get("/anthropic/v1/models?limit=0")
        one = await client.get("/api/anthropic/v1/models/claude-haiku-4-5")
        none = await client.get("/api/anthropic/v1/models/claude-nothing")
    created = "2024-06-13T00:00:00Z"
    assert page == {
        "data": [
            {
                "type": "model",
                "id": "claude-sonnet-4-5",
                "display_name": SONNET,
                "created_at": created,
                "lifecycle": "active",
            },
            {
                "type": "model",
                "id": "claude-haiku-4-5",
                "display_name": HAIKU,
                "created_at": created,
                "lifecycle": "active",
            },
        ],
        "has_more": True,
        "first_id": "claude-sonnet-4-5",
        "last_id": "claude-haiku-4-5",
    }
    assert (bad.status_code, bad.json()["error"]["type"]) == (400, "invalid_request_error")
    assert one.json() == {
        "type": "model",
        "id": "claude-haiku-4-5",
        "display_name": HAIKU,
        "created_at": created,
        "lifecycle": "active",
    }
    assert (none.status_code, none.json()["error"]["type"]) == (404, "not_found_error")


@pytest.mark.anyio
@respx.mock
async def test_no_claude_endpoint_is_a_404_and_count_tokens_estimates() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json={"endpoints": ENDPOINTS["endpoints"][2:]})
    )
    async with proxy() as client:
        missing = await client.post("/anthropic/v1/messages", json=messages())
        counted = await client.post(
            "/anthropic/v1/messages/count_tokens",
            json={"model": LLAMA, "messages": [{"role": "user", "content": "x" * 70}]},
        )
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "error",
        "error": {
            "type": "not_found_error",
            "message": "The model 'claude-haiku-4-5-20251001' is an Anthropic model id, and no Claude serving endpoint"
            " is there to map it to: name a serving endpoint (GET /anthropic/v1/models lists them).",
        },
    }
    assert (counted.status_code, counted.json()) == (200, {"input_tokens": 23})


@pytest.mark.anyio
async def test_keys_as_x_api_key_or_bearer_and_errors_in_anthropic_envelope() -> None:
    async with proxy(api_keys="ci:k-1", max_body_bytes=2000) as client:
        denied = await client.post("/api/anthropic/v1/messages", json=messages())
        unknown = await client.get("/api/anthropic/v1/nothing", headers={"x-api-key": "k-1"})
        wrong_method = await client.get("/anthropic/v1/messages", headers={"Authorization": "Bearer k-1"})
        invalid = await client.post(
            "/anthropic/v1/messages",
            json={"model": LLAMA, "messages": [{"role": "user", "content": "Hi"}]},
            headers={"x-api-key": "k-1"},
        )
        too_large = await client.post(
            "/anthropic/v1/messages", json=messages(system="x" * 3000), headers={"x-api-key": "k-1"}
        )
    assert denied.status_code == 401 and denied.json()["error"]["type"] == "authentication_error"
    assert denied.headers["request-id"]
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"
    assert wrong_method.status_code == 405 and wrong_method.json()["type"] == "error"
    assert invalid.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }
    assert too_large.status_code == 413 and too_large.json()["error"]["type"] == "request_too_large"


@pytest.mark.anyio
@respx.mock
@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (503, "overloaded_error"), (500, "api_error")])
async def test_upstream_errors_keep_their_status_and_retry_after(status: int, kind: str) -> None:
    respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(
            status, json={"error_code": "X", "message": "upstream says no"}, headers={"Retry-After": "3"}
        )
    )
    async with proxy() as client:
        response = await client.post("/anthropic/v1/messages", json=messages(model=LLAMA, stream=True))
    assert response.status_code == status
    assert response.json() == {"type": "error", "error": {"type": kind, "message": "upstream says no"}}
    if status in (429, 503):
        assert response.headers["retry-after"] == "3"


@pytest.mark.anyio
@respx.mock
async def test_a_caller_who_may_not_list_endpoints_gets_the_ids_own_endpoint() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(403, json={"error_code": "PERMISSION_DENIED", "message": "no"})
    )
    route = respx.post(f"{HOST}/serving-endpoints/{HAIKU}/invocations").mock(
        return_value=httpx.Response(200, json=CLAUDE_ANSWER)
    )
    async with proxy() as client:
        response = await client.post("/anthropic/v1/messages", json=messages())
    assert response.status_code == 200 and route.call_count == 1
