"""The Responses door in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from tests.unit.test_app import INVOCATIONS, LLAMA, proxy


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def invalid(param: str, message: str, code: str | None = "invalid_value") -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


# Every field whose ``type`` picks a model, a body that puts ``value`` there, and the parameter named.
TAGGED: list[tuple[str, Any]] = [
    ("input[0].type", lambda v: {"input": [{"type": v, "call_id": "c", "output": "r"}]}),
    ("input[0].content[0].type", lambda v: {"input": [{"role": "user", "content": [{"type": v, "text": "x"}]}]}),
    (
        "input[0].output[0].type",
        lambda v: {"input": [{"type": "function_call_output", "call_id": "c", "output": [{"type": v, "text": "x"}]}]},
    ),
    ("tools[0].type", lambda v: {"input": "hi", "tools": [{"type": v, "name": "f"}]}),
    ("tool_choice.type", lambda v: {"input": "hi", "tool_choice": {"type": v, "name": "f"}}),
]
BAD_TYPES: list[tuple[Any, str]] = [
    ([], "Input should be a valid string"),
    ({}, "Input should be a valid string"),
    ({"a": [1]}, "Input should be a valid string"),
    ("", "String should have at least 1 character"),
    (None, "Input should be a valid string"),
    (7, "Input should be a valid string"),
    (1.5, "Input should be a valid string"),
    (True, "Input should be a valid string"),
]


@pytest.mark.anyio
@respx.mock
async def test_every_tagged_type_that_is_no_string_is_a_400_naming_it() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(500))
    async with proxy() as client:
        for param, body in TAGGED:
            for value, message in BAD_TYPES:
                if param == "input[0].type" and value is None:
                    continue  # an item whose type is null is the "easy" message form (tested below)
                response = await client.post("/v1/responses", json={"model": LLAMA, **body(value)})
                assert (param, value, response.status_code) == (param, value, 400)
                assert response.json() == invalid(param, f"Invalid value for '{param}': {message}")
    assert route.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_an_item_with_a_null_type_is_a_message() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(500))
    async with proxy() as client:
        missing = await client.post("/v1/responses", json={"model": LLAMA, "input": [{"type": None, "content": "x"}]})
    assert missing.status_code == 400
    assert missing.json() == invalid("input[0].role", "Missing required parameter: 'input[0].role'.", None)
    assert route.call_count == 0


@pytest.mark.anyio
@respx.mock
@pytest.mark.parametrize(
    "extra",
    [
        {"input": ""},
        {"input": "", "instructions": "Be brief."},
        {"input": []},
        {"input": [{"role": "user", "content": ""}]},
        {"input": [{"role": "user", "content": [{"type": "input_text", "text": ""}]}]},
        {"input": [{"type": "reasoning", "summary": []}]},
        {"input": [{"role": "developer", "content": "only instructions"}]},
        {},
    ],
)
async def test_an_input_with_nothing_to_answer_is_refused_before_any_upstream_call(extra: dict[str, Any]) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(400, json={"error_code": "BAD", "message": "x"}))
    async with proxy() as client:
        response = await client.post("/v1/responses", json={"model": LLAMA, **extra})
    assert response.status_code == 400
    assert response.json() == invalid("input", "'input' has no message to answer.", None)
    assert route.call_count == 0
