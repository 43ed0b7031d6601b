"""The Responses door in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import INVOCATIONS, LLAMA, LLAMA_ANSWER, proxy


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


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "name": name}


def part(text: str = "x") -> dict[str, Any]:
    return {"type": "input_text", "text": text}


def too_long(param: str, limit: int, size: int) -> dict[str, Any]:
    message = (
        f"Invalid '{param}': array too long. Expected an array with maximum length {limit}, "
        f"but got an array with length {size} instead."
    )
    return invalid(param, message, "array_above_max_length")


LONG_LISTS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"input": [{"role": "user", "content": "x"}] * 2049}, too_long("input", 2048, 2049)),
    ({"input": [{"role": "user", "content": [part()] * 2049}]}, too_long("input[0].content", 2048, 2049)),
    (
        {"input": [{"type": "function_call_output", "call_id": "c", "output": [part()] * 2049}]},
        too_long("input[0].output", 2048, 2049),
    ),
    (
        {"input": [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "x"}] * 2049}]},
        too_long("input[0].summary", 2048, 2049),
    ),
    ({"input": "hi", "tools": [tool(f"f{i}") for i in range(2000)]}, too_long("tools", 128, 2000)),
    (
        {"input": "hi", "tools": [{"type": "namespace", "name": "ns", "tools": [tool("f")] * 129}]},
        too_long("tools[0].tools", 128, 129),
    ),
    (
        {
            "input": "hi",
            "tools": [{"type": "namespace", "name": f"n{i}", "tools": [tool("a"), tool("b")]} for i in range(65)],
        },
        invalid(
            "tools",
            "Invalid 'tools': more than 128 tools once namespaces are counted tool by tool.",
            "array_above_max_length",
        ),
    ),
    ({"input": "hi", "include": ["reasoning.encrypted_content"] * 65}, too_long("include", 64, 65)),
    (
        {"input": "hi", "metadata": {f"k{i}": "v" for i in range(17)}},
        invalid(
            "metadata",
            "Invalid value for 'metadata': Dictionary should have at most 16 items after validation, not more",
        ),
    ),
    (
        {"input": "hi", "metadata": {"k" * 65: "v"}},
        invalid(
            f"metadata.{'k' * 65}", f"Invalid value for 'metadata.{'k' * 65}': String should have at most 64 characters"
        ),
    ),
    (
        {"input": "hi", "metadata": {"k": "v" * 513}},
        invalid("metadata.k", "Invalid value for 'metadata.k': String should have at most 512 characters"),
    ),
]


@pytest.mark.anyio
@respx.mock
async def test_lists_longer_than_the_chat_door_allows_are_refused_naming_them() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(500))
    async with proxy() as client:
        for extra, error in LONG_LISTS:
            response = await client.post("/v1/responses", json={"model": LLAMA, **extra})
            assert (response.status_code, response.json()) == (400, error)
    assert route.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_lists_at_their_limit_are_forwarded() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    tools = [tool(f"f{i}") for i in range(126)]
    namespace = {"type": "namespace", "name": "ns", "tools": [tool("a"), tool("b")]}
    async with proxy() as client:
        response = await client.post(
            "/v1/responses",
            json={
                "model": LLAMA,
                "input": [{"role": "user", "content": [part("y")] * 2048}] + [{"role": "user", "content": "z"}] * 2047,
                "tools": [*tools, namespace],
                "metadata": {f"{i:064d}": "v" * 512 for i in range(16)},
            },
        )
    assert response.status_code == 200
    sent = orjson.loads(route.calls.last.request.content)
    assert len(sent["messages"]) == 2048 and sent["messages"][0]["content"] == "y\n" * 2047 + "y"
    assert [t["function"]["name"] for t in sent["tools"]] == [f"f{i}" for i in range(126)] + ["ns__a", "ns__b"]
