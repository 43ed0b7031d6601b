"""A model's answer nested too deep to encode is a 502 in the door's envelope, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from routes.delivery import json_response
from services.answer_depth import MAX_ANSWER_DEPTH, deeper_than
from services.errors import UpstreamInvalidResponseError
from tests.unit.test_app import HOST, proxy

HAIKU = "databricks-claude-haiku-4-5"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"


def nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def tool_call_answer(arguments: str) -> dict[str, Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1731283200,
        "model": HAIKU,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }


def anthropic_request() -> dict[str, Any]:
    return {"model": HAIKU, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}


def test_depth_is_measured_without_recursion() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert deeper_than(deep, MAX_ANSWER_DEPTH)
    assert not deeper_than(orjson.loads(nested(MAX_ANSWER_DEPTH - 1)), MAX_ANSWER_DEPTH)


@pytest.mark.anyio
@pytest.mark.parametrize("levels", [252, 300, 1000])
@respx.mock
async def test_a_too_deep_tool_input_is_a_502_in_the_anthropic_envelope(levels: int) -> None:
    respx.post(f"{HOST}/serving-endpoints/{HAIKU}/invocations").mock(
        return_value=httpx.Response(200, json=tool_call_answer(nested(levels)))
    )
    async with proxy() as client:
        answer = await client.post("/anthropic/v1/messages", json=anthropic_request())
    assert answer.status_code == 502
    body = answer.json()
    assert body["type"] == "error"
    assert "nested more than" in body["error"]["message"]


@pytest.mark.anyio
@respx.mock
async def test_a_deep_but_encodable_tool_input_passes_whole() -> None:
    arguments = nested(MAX_ANSWER_DEPTH - 10)
    respx.post(f"{HOST}/serving-endpoints/{HAIKU}/invocations").mock(
        return_value=httpx.Response(200, json=tool_call_answer(arguments))
    )
    async with proxy() as client:
        answer = await client.post("/anthropic/v1/messages", json=anthropic_request())
    assert answer.status_code == 200
    tool_use = next(block for block in answer.json()["content"] if block["type"] == "tool_use")
    assert tool_use["input"] == orjson.loads(arguments)


def test_any_payload_too_deep_to_encode_is_an_upstream_error_not_a_type_error() -> None:
    with pytest.raises(UpstreamInvalidResponseError, match="nested more than"):
        json_response({"answer": orjson.loads(nested(300))})
