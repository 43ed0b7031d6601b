"""Fields that expand into upstream content are bounded like the rest; the upstream body is never larger than
what a client may send."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson
import pytest
import respx

from models.limits import MAX_CONTENT_PARTS
from tests.unit.test_app import HOST, INVOCATIONS, LLAMA, LLAMA_ANSWER, proxy

SONNET = "databricks-claude-sonnet-4-5"
SONNET_INVOCATIONS = f"{HOST}/serving-endpoints/{SONNET}/invocations"


def encrypted(blocks: int) -> str:
    payload = [{"type": "redacted_thinking", "data": "e"}] * blocks
    return "dbxr1." + base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


def replay(*block_counts: int) -> dict[str, Any]:
    reasoning = [{"type": "reasoning", "summary": [], "encrypted_content": encrypted(n)} for n in block_counts]
    return {
        "model": SONNET,
        "input": [
            {"role": "user", "content": "Hi"},
            *reasoning,
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
        ],
    }


@pytest.mark.anyio
@pytest.mark.parametrize("blocks", [(MAX_CONTENT_PARTS + 1,), (300_000,), (1_500, 1_500)])
@respx.mock
async def test_an_encrypted_content_flood_is_refused_at_the_bound_before_databricks(blocks: tuple[int, ...]) -> None:
    route = respx.post(SONNET_INVOCATIONS).mock(return_value=httpx.Response(500))
    async with proxy() as client:
        answer = await client.post("/v1/responses", json=replay(*blocks))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "array_above_max_length"
    assert error["param"].endswith(".encrypted_content")
    assert route.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_encrypted_content_at_the_bound_is_replayed_whole() -> None:
    answer = {**LLAMA_ANSWER, "model": SONNET}
    route = respx.post(SONNET_INVOCATIONS).mock(return_value=httpx.Response(200, json=answer))
    async with proxy() as client:
        reply = await client.post("/v1/responses", json=replay(MAX_CONTENT_PARTS))
    assert reply.status_code == 200
    sent = orjson.loads(route.calls.last.request.content)
    assistant = next(m for m in sent["messages"] if m["role"] == "assistant")
    redacted = [p for p in assistant["content"] if p["type"] == "reasoning"]  # Databricks' redacted thinking part
    assert [p["summary"] for p in redacted] == [[{"type": "summary_encrypted_text", "data": "e"}]] * MAX_CONTENT_PARTS


@pytest.mark.anyio
@respx.mock
async def test_the_upstream_body_is_never_larger_than_a_client_may_send() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    limit = 4096
    async with proxy(max_body_bytes=limit) as client:
        small = await client.post("/v1/responses", json={"model": LLAMA, "input": "x" * 1000})
        assert small.status_code == 200
        body = orjson.dumps({"model": LLAMA, "input": "x" * (limit - 90)})
        assert len(body) <= limit
        big = await client.post("/v1/responses", content=body, headers={"content-type": "application/json"})
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "request_too_large"
    assert route.call_count == 1
    assert all(len(call.request.content) <= limit for call in route.calls)
