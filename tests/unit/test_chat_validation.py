"""The OpenAI chat door refuses what Databricks would refuse, locally, naming the parameter (never a 500, never a
wasted upstream call)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import HOST, INVOCATIONS, LLAMA, LLAMA_ANSWER, chat, proxy

CLAUDE = "databricks-claude-3-7-sonnet"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
CLOCK = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
BLOCK_SHAPE = (
    "a thinking block is {'type': 'thinking', 'thinking': str, 'signature': str} "
    "or {'type': 'redacted_thinking', 'data': str}"
)


def openai_error(message: str, param: str | None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def replay(blocks: Any) -> dict[str, Any]:
    return {
        "model": CLAUDE,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "a", "thinking_blocks": blocks},
            {"role": "user", "content": "x"},
        ],
    }


async def refused(path: str, body: dict[str, Any]) -> httpx.Response:
    """The proxy's answer to ``body``, which must never reach Databricks."""
    with respx.mock(assert_all_called=False) as mock:
        upstream = mock.post(url__regex=r".*").mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
        async with proxy() as client:
            response = await client.post(path, json=body)
    assert not upstream.called
    return response


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("blocks", "param", "message"),
    [
        (5, "messages[1].thinking_blocks", "Input should be a valid list"),
        (1.5, "messages[1].thinking_blocks", "Input should be a valid list"),
        (True, "messages[1].thinking_blocks", "Input should be a valid list"),
        ("x", "messages[1].thinking_blocks", "Input should be a valid list"),
        ({}, "messages[1].thinking_blocks", "Input should be a valid list"),
        ([5], "messages[1].thinking_blocks[0]", BLOCK_SHAPE),
        ([{"type": "bogus"}], "messages[1].thinking_blocks[0]", BLOCK_SHAPE),
        (
            [{"type": "thinking", "thinking": 5}],
            "messages[1].thinking_blocks[0].thinking",
            "Input should be a valid string",
        ),
        (
            [{"type": "thinking", "thinking": "t", "signature": 5}],
            "messages[1].thinking_blocks[0].signature",
            "Input should be a valid string",
        ),
        ([{"type": "redacted_thinking"}], "messages[1].thinking_blocks[0].data", None),
        (
            [{"type": "redacted_thinking", "data": 5}],
            "messages[1].thinking_blocks[0].data",
            "Input should be a valid string",
        ),
    ],
)
async def test_malformed_thinking_blocks_are_refused_naming_the_field(
    blocks: Any, param: str, message: str | None
) -> None:
    response = await refused("/v1/chat/completions", replay(blocks))
    assert response.status_code == 400
    if message is None:
        assert response.json() == openai_error(f"Missing required parameter: '{param}'.", param)
    else:
        assert response.json() == openai_error(f"Invalid value for '{param}': {message}", param, "invalid_value")


@pytest.mark.anyio
@respx.mock
async def test_well_formed_thinking_blocks_reach_databricks_as_reasoning_parts() -> None:
    route = respx.post(f"{HOST}/serving-endpoints/{CLAUDE}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    blocks = [{"type": "thinking", "thinking": "t", "signature": "S1"}, {"type": "redacted_thinking", "data": "ENC"}]
    async with proxy() as client:
        response = await client.post("/v1/chat/completions", json=replay(blocks))
    assert response.status_code == 200
    assert orjson.loads(route.calls.last.request.content)["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t", "signature": "S1"}]},
            {"type": "reasoning", "summary": [{"type": "summary_encrypted_text", "data": "ENC"}]},
            {"type": "text", "text": "a"},
        ],
    }


TOOL_CHOICE_MODES = "tool_choice must be 'none', 'auto', 'required' or an object naming a function"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"tool_choice": "sometimes"},
            openai_error(f"Invalid value for 'tool_choice': {TOOL_CHOICE_MODES}", "tool_choice", "invalid_value"),
        ),
        (
            {"tool_choice": 5},
            openai_error(f"Invalid value for 'tool_choice': {TOOL_CHOICE_MODES}", "tool_choice", "invalid_value"),
        ),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_time"}}},
            openai_error(
                "tool_choice names 'get_time', which is not among the request's tools.", "tool_choice.function.name"
            ),
        ),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            openai_error(
                "tool_choice names 'get_weather', which is not among the request's tools.",
                "tool_choice.function.name",
            ),
        ),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "custom", "custom": {"name": "get_weather"}}},
            openai_error(
                "Unsupported tool_choice type 'custom': use 'function' or 'allowed_tools'.", "tool_choice.type"
            ),
        ),
        (
            {"response_format": {"type": "yaml"}},
            openai_error(
                "Invalid value for 'response_format.type': Input should be 'text', 'json_object' or 'json_schema'",
                "response_format.type",
                "invalid_value",
            ),
        ),
    ],
)
async def test_invalid_choices_and_formats_are_refused_before_databricks(
    extra: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = await refused("/v1/chat/completions", chat(**extra))
    assert (response.status_code, response.json()) == (400, expected)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "part",
    [
        {"type": "bogus"},
        {"type": "file", "file": {"file_id": "file-1"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
    ],
)
async def test_content_parts_databricks_does_not_take_are_refused(part: dict[str, Any]) -> None:
    content = [{"type": "text", "text": "listen"}, part]
    body = chat(messages=[{"role": "system", "content": "s"}, {"role": "user", "content": content}])
    response = await refused("/v1/chat/completions", body)
    assert response.status_code == 400
    assert response.json() == openai_error(
        f"Content parts of type '{part['type']}' are not supported: Databricks Model Serving takes text and images"
        " only; send text or image_url.",
        "messages[1].content[1].type",
    )


@pytest.mark.anyio
async def test_the_responses_door_refuses_the_same_parts_in_its_own_words() -> None:
    body = {"model": LLAMA, "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]}
    response = await refused("/v1/responses", body)
    assert response.status_code == 400
    assert response.json() == openai_error(
        "Content parts of type 'input_file' are not supported: Databricks Model Serving takes text and images"
        " only; send input_text or input_image.",
        "input[0].content[0].type",
    )


@pytest.mark.anyio
@respx.mock
async def test_allowed_tools_offers_only_the_allowed_tools_with_the_mode() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
    }
    async with proxy() as client:
        response = await client.post("/v1/chat/completions", json=chat(tools=[WEATHER, CLOCK], tool_choice=choice))
    assert response.status_code == 200
    sent = orjson.loads(route.calls.last.request.content)
    assert (sent["tools"], sent["tool_choice"]) == ([CLOCK], "required")


@pytest.mark.anyio
async def test_an_empty_embeddings_input_is_refused_as_empty() -> None:
    response = await refused("/v1/embeddings", {"model": "databricks-gte-large-en", "input": []})
    assert response.status_code == 400
    assert response.json() == openai_error(
        "Invalid value for 'input': the list must not be empty: send a string or 1 to 2048 strings",
        "input",
        "invalid_value",
    )
