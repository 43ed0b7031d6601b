"""Prompt caching through each door in-process (ASGI transport), Databricks mocked with respx: where the
breakpoints land in what Databricks receives, and the cached tokens in each door's own usage fields."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import HOST, proxy

SONNET = "databricks-claude-sonnet-4-5"
GPT = "databricks-gpt-5-2"
MARK = {"cache_control": {"type": "ephemeral"}}
ENDPOINTS = {"endpoints": [{"name": name, "task": "llm/v1/chat"} for name in (SONNET, GPT)]}
# Databricks' chat answer for Claude with its cache counts at the top of usage.
CACHED_USAGE = {
    "prompt_tokens": 2000,
    "completion_tokens": 3,
    "total_tokens": 2003,
    "cache_read_input_tokens": 1800,
    "cache_creation_input_tokens": 150,
}


def answer(usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done."}, "finish_reason": "stop"}],
        "usage": usage or CACHED_USAGE,
        "object": "chat.completion",
        "id": "msg_bdrk_01abc",
        "created": 1731283200,
    }


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def invocations(endpoint: str) -> str:
    return f"{HOST}/serving-endpoints/{endpoint}/invocations"


def sent(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(route.calls[call].request.content)
    return body


CONVERSATION = [
    {"role": "system", "content": "You are a coding agent."},
    {"role": "user", "content": "Fix it."},
    {"role": "assistant", "content": "Reading."},
    {"role": "user", "content": "Go on."},
]


# --------------------------------------------------------------------------------------------- chat door


@pytest.mark.anyio
@respx.mock
async def test_chat_door_marks_system_previous_turn_and_final_message_and_reports_cached_tokens() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION})
    assert response.status_code == 200
    assert sent(route)["messages"] == [
        {"role": "system", "content": [text("You are a coding agent.", **MARK)]},
        {"role": "user", "content": [text("Fix it.", **MARK)]},
        {"role": "assistant", "content": "Reading."},
        {"role": "user", "content": [text("Go on.", **MARK)]},
    ]
    assert response.json()["usage"] == {
        "prompt_tokens": 2000,
        "completion_tokens": 3,
        "total_tokens": 2003,
        "prompt_tokens_details": {"cached_tokens": 1800},
        "cache_read_input_tokens": 1800,
        "cache_creation_input_tokens": 150,
    }


@pytest.mark.anyio
@respx.mock
async def test_chat_door_streams_cached_tokens_in_the_usage_chunk() -> None:
    chunks = [
        {
            "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
            "usage": CACHED_USAGE,
            "object": "chat.completion.chunk",
            "id": "msg_bdrk_01abc",
            "created": 1731283200,
        }
    ]
    stream = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    respx.post(invocations(SONNET)).mock(
        return_value=httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})
    )
    body = {"model": SONNET, "messages": CONVERSATION, "stream": True, "stream_options": {"include_usage": True}}
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/chat/completions", json=body)
    events = [orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    assert events[-1]["usage"]["prompt_tokens_details"] == {"cached_tokens": 1800}
    assert events[-1]["usage"]["prompt_tokens"] == 2000


@pytest.mark.anyio
@respx.mock
async def test_chat_door_keeps_a_clients_own_breakpoints_as_sent() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    own = {"type": "ephemeral", "ttl": "1h"}
    messages = [
        {"role": "system", "content": [text("Rules", cache_control=own)]},
        {"role": "user", "content": "Fix it."},
        {"role": "assistant", "content": "Reading."},
        {"role": "user", "content": "Go on."},
    ]
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": messages})
    assert response.status_code == 200
    assert sent(route)["messages"] == [
        {"role": "system", "content": [text("Rules", cache_control=own)]},
        {"role": "user", "content": "Fix it."},
        {"role": "assistant", "content": "Reading."},
        {"role": "user", "content": "Go on."},
    ]


@pytest.mark.anyio
@respx.mock
async def test_no_breakpoints_on_other_families_or_when_turned_off() -> None:
    gpt = respx.post(invocations(GPT)).mock(return_value=httpx.Response(200, json=answer({"prompt_tokens": 5})))
    claude = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    async with proxy(send_usage_context=False) as client:
        await client.post("/v1/chat/completions", json={"model": GPT, "messages": CONVERSATION})
    async with proxy(send_usage_context=False, prompt_caching=False) as client:
        await client.post("/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION})
    assert sent(gpt)["messages"] == CONVERSATION
    assert sent(claude)["messages"] == CONVERSATION


@pytest.mark.anyio
@respx.mock
async def test_an_alias_of_a_claude_endpoint_gets_breakpoints_from_the_resolved_endpoint() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    async with proxy(send_usage_context=False, model_aliases={"team-model": SONNET}) as client:
        response = await client.post("/v1/chat/completions", json={"model": "team-model", "messages": CONVERSATION})
    assert response.status_code == 200
    assert sent(route)["messages"][-1] == {"role": "user", "content": [text("Go on.", **MARK)]}


@pytest.mark.anyio
@respx.mock
async def test_an_endpoint_refusing_breakpoints_gets_the_request_again_without_and_is_remembered() -> None:
    refusal = httpx.Response(
        400, json={"error_code": "BAD_REQUEST", "message": 'Bad request: json: unknown field "cache_control"\n'}
    )
    route = respx.post(invocations(SONNET)).mock(
        side_effect=[refusal, httpx.Response(200, json=answer()), httpx.Response(200, json=answer())]
    )
    async with proxy(send_usage_context=False) as client:
        first = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION})
        second = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION})
        metrics = (await client.get("/metrics")).text
    assert first.status_code == 200 and second.status_code == 200
    assert route.call_count == 3
    assert "cache_control" in route.calls[0].request.content.decode()
    assert sent(route, 1)["messages"] == CONVERSATION  # the same request, without breakpoints
    assert sent(route, 2)["messages"] == CONVERSATION  # remembered: none tried again
    assert f'proxy_cache_breakpoints_refused_total{{model="{SONNET}"}} 1.0' in metrics


@pytest.mark.anyio
@respx.mock
async def test_a_stream_refused_for_its_breakpoints_is_opened_again_without() -> None:
    refusal = httpx.Response(
        400,
        json={
            "error_code": "BAD_REQUEST",
            "message": "messages.0.content.0.cache_control: Extra inputs are not permitted",
        },
    )
    chunk = {
        "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        "object": "chat.completion.chunk",
        "id": "msg_bdrk_01abc",
        "created": 1731283200,
    }
    stream = httpx.Response(
        200,
        content=b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n",
        headers={"content-type": "text/event-stream"},
    )
    route = respx.post(invocations(SONNET)).mock(side_effect=[refusal, stream])
    async with proxy(send_usage_context=False) as client:
        response = await client.post(
            "/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION, "stream": True}
        )
    assert response.status_code == 200 and '"content":"Hi"' in response.text
    assert route.call_count == 2 and sent(route, 1)["messages"] == CONVERSATION


@pytest.mark.anyio
@respx.mock
async def test_a_clients_own_breakpoints_refused_are_left_out_once_and_then_up_front() -> None:
    refusal = httpx.Response(400, json={"error_code": "BAD_REQUEST", "message": 'json: unknown field "cache_control"'})
    route = respx.post(invocations(SONNET)).mock(
        side_effect=[refusal, httpx.Response(200, json=answer()), httpx.Response(200, json=answer())]
    )
    messages = [{"role": "system", "content": [text("Rules", **MARK)]}, {"role": "user", "content": "Go."}]
    async with proxy(send_usage_context=False) as client:
        for _ in range(2):
            response = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": messages})
            assert response.status_code == 200
    assert sent(route, 0)["messages"] == messages  # as the client sent it
    unmarked = [{"role": "system", "content": [text("Rules")]}, {"role": "user", "content": "Go."}]
    assert sent(route, 1)["messages"] == unmarked and sent(route, 2)["messages"] == unmarked
    assert route.call_count == 3


@pytest.mark.anyio
@respx.mock
async def test_other_400s_are_not_retried() -> None:
    error = httpx.Response(400, json={"error_code": "BAD_REQUEST", "message": "max_tokens is too large"})
    route = respx.post(invocations(SONNET)).mock(return_value=error)
    respx.get(url__startswith=f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json=ENDPOINTS)
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/chat/completions", json={"model": SONNET, "messages": CONVERSATION})
    assert response.status_code == 400 and route.call_count == 1


# --------------------------------------------------------------------------------------------- Responses door


@pytest.mark.anyio
@respx.mock
async def test_responses_door_marks_breakpoints_and_reports_input_tokens_details() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    body = {
        "model": SONNET,
        "instructions": "You are a coding agent.",
        "input": [
            {"role": "user", "content": "Fix it."},
            {"role": "assistant", "content": "Reading."},
            {"role": "user", "content": "Go on."},
        ],
        "store": False,
    }
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/responses", json=body)
    assert response.status_code == 200
    marked = [m for m in sent(route)["messages"] if isinstance(m["content"], list)]
    assert [m["role"] for m in marked] == ["system", "user", "user"]
    assert all(m["content"][-1]["cache_control"] == {"type": "ephemeral"} for m in marked)
    assert sent(route)["messages"][-1]["content"][-1]["text"] == "Go on."
    usage = response.json()["usage"]
    assert usage["input_tokens"] == 2000
    assert usage["input_tokens_details"] == {"cached_tokens": 1800, "cache_write_tokens": 150}


@pytest.mark.anyio
@respx.mock
async def test_responses_door_sends_no_breakpoints_to_gpt() -> None:
    route = respx.post(invocations(GPT)).mock(return_value=httpx.Response(200, json=answer({"prompt_tokens": 5})))
    body = {"model": GPT, "input": "Hi", "store": False, "prompt_cache_key": "thread-1"}
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/v1/responses", json=body)
    assert response.status_code == 200
    assert "cache_control" not in route.calls.last.request.content.decode()
    assert response.json()["prompt_cache_key"] == "thread-1"


# --------------------------------------------------------------------------------------------- Anthropic door


def anthropic(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": SONNET, "max_tokens": 100, "messages": messages, **extra}


@pytest.mark.anyio
@respx.mock
async def test_anthropic_door_keeps_a_clients_breakpoints_on_text_and_tool_results() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    own = {"type": "ephemeral"}
    body = anthropic(
        [
            {"role": "user", "content": "Read it."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {}}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "data", "cache_control": own}],
            },
        ],
        system=[{"type": "text", "text": "Rules", "cache_control": own}],
        tools=[{"name": "read", "input_schema": {"type": "object"}}],
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/anthropic/v1/messages", json=body)
    assert response.status_code == 200
    messages = sent(route)["messages"]
    assert messages[0] == {"role": "system", "content": [text("Rules", cache_control=own)]}
    assert messages[1] == {"role": "user", "content": "Read it."}  # the client's choice: no more are added
    assert messages[-1] == {"role": "tool", "tool_call_id": "t1", "content": [text("data", cache_control=own)]}
    assert response.json()["usage"] == {
        "input_tokens": 50,
        "output_tokens": 3,
        "cache_creation_input_tokens": 150,
        "cache_read_input_tokens": 1800,
    }


@pytest.mark.anyio
@respx.mock
async def test_anthropic_door_without_breakpoints_gets_the_automatic_ones() -> None:
    route = respx.post(invocations(SONNET)).mock(return_value=httpx.Response(200, json=answer()))
    body = anthropic(
        [
            {"role": "user", "content": "Fix it."},
            {"role": "assistant", "content": "Reading."},
            {"role": "user", "content": [{"type": "text", "text": "Go on."}]},
        ],
        system="Rules",
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post("/anthropic/v1/messages", json=body)
    assert response.status_code == 200
    assert sent(route)["messages"] == [
        {"role": "system", "content": [text("Rules", **MARK)]},
        {"role": "user", "content": [text("Fix it.", **MARK)]},
        {"role": "assistant", "content": "Reading."},
        {"role": "user", "content": [text("Go on.", **MARK)]},
    ]


@pytest.mark.anyio
@respx.mock
async def test_anthropic_door_streams_cache_counts_in_message_start_and_message_delta() -> None:
    chunk = {
        "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": CACHED_USAGE,
        "object": "chat.completion.chunk",
        "id": "msg_bdrk_01abc",
        "created": 1731283200,
    }
    stream = b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"
    respx.post(invocations(SONNET)).mock(
        return_value=httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post(
            "/anthropic/v1/messages", json=anthropic([{"role": "user", "content": "Hi"}], stream=True)
        )
    events = [orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    start = next(e for e in events if e["type"] == "message_start")["message"]["usage"]
    delta = next(e for e in events if e["type"] == "message_delta")["usage"]
    for usage in (start, delta):
        assert usage["cache_read_input_tokens"] == 1800
        assert usage["cache_creation_input_tokens"] == 150
        assert usage["input_tokens"] == 50
