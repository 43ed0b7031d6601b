"""The Responses door in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import INVOCATIONS, LLAMA, LLAMA_ANSWER, proxy


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
    (
        "tools[0].tools[0].type",
        lambda v: {"input": "hi", "tools": [{"type": "namespace", "name": "ns", "tools": [{"type": v, "name": "f"}]}]},
    ),
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
async def test_tool_choice_and_namespaced_tools_of_the_wrong_shape_are_a_400_naming_the_field() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(500))
    offered = {"type": "function", "name": "f"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"tool_choice": {"type": "function", "name": "f", "namespace": {}}}, "tool_choice.namespace", "string"),
        ({"tool_choice": {"type": "function", "name": ["f"]}}, "tool_choice.name", "string"),
        (
            {"tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"name": "f", "namespace": []}]}},
            "tool_choice.tools[0].namespace",
            "string",
        ),
        ({"tool_choice": {"type": "allowed_tools", "mode": []}}, "tool_choice.mode", "string"),
        (
            {"tools": [{"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": {}}]}]},
            "tools[0].tools[0].name",
            "string",
        ),
        (
            {
                "tools": [
                    {"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": "g", "parameters": []}]}
                ]
            },
            "tools[0].tools[0].parameters",
            "dictionary",
        ),
    ]
    async with proxy() as client:
        for extra, param, kind in cases:
            response = await client.post(
                "/v1/responses", json={"model": LLAMA, "input": "hi", "tools": [offered], **extra}
            )
            assert (response.status_code, response.json()) == (
                400,
                invalid(param, f"Invalid value for '{param}': Input should be a valid {kind}"),
            )
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


SERVED = "meta-llama-3.3-70b-instruct-121024"
CREATED = 1731283200
ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def response(response_id: str, status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A Response object as the door renders it: defaults for a request with no settings, ``extra`` replaced."""
    body = {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": SERVED,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": None,
        "metadata": {},
        "max_tool_calls": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "safety_identifier": None,
        "service_tier": "default",
        "top_logprobs": None,
        "user": None,
    }
    return body | extra


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [text_part(text)]
    return {"type": "message", "id": item_id, "role": "assistant", "status": status, "content": content}


def sse(*chunks: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + orjson.dumps(chunk) + b"\n\n" for chunk in chunks)


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": SERVED,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def frames(events: list[dict[str, Any]]) -> str:
    """The exact wire of a Responses stream: named events, sequence numbers in order, no [DONE]."""
    out = ""
    for number, event in enumerate(events):
        payload = {**event, "sequence_number": number} if "sequence_number" not in event else event
        out += f"event: {event['type']}\ndata: {orjson.dumps(payload).decode()}\n\n"
    return out


def opening(response_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "response.created", "response": response(response_id, "in_progress", [])},
        {"type": "response.in_progress", "response": response(response_id, "in_progress", [])},
    ]


def text_start(item_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "response.output_item.added", "output_index": 0, "item": message(item_id, None, "in_progress")},
        {
            "type": "response.content_part.added",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "part": text_part(""),
        },
    ]


def text_delta(item_id: str, delta: str, number: int) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "sequence_number": number,
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "delta": delta,
        "logprobs": [],
    }


def ids_of(body: str) -> tuple[str, str]:
    """The response id and its first item id (random per response; everything else is asserted exactly)."""
    created = orjson.loads(body.split("\n")[1].removeprefix("data: "))
    response_id = created["response"]["id"]
    return response_id, "msg_" + response_id.removeprefix("resp_") + "1"


class CutStream(httpx.AsyncByteStream):
    """Databricks sends ``body``, then the connection drops mid-answer."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> Any:
        yield self.body
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


@pytest.mark.anyio
@respx.mock
async def test_a_stream_cut_mid_answer_fails_with_the_items_it_announced() -> None:
    respx.post(INVOCATIONS).mock(
        return_value=httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=CutStream(sse(chunk({"role": "assistant", "content": "Echo:"}))),
        )
    )
    async with proxy() as client:
        reply = await client.post("/v1/responses", json={"model": LLAMA, "input": "hi there friend", "stream": True})
    assert reply.status_code == 200
    response_id, item_id = ids_of(reply.text)
    error = {"code": "server_error", "message": "Databricks closed the connection before the answer was complete."}
    cut = message(item_id, "Echo:", "incomplete")  # same id and index as announced, with its text so far
    failed = response(response_id, "failed", [cut], error=error, usage=ZERO_USAGE)
    assert reply.text == frames(
        [
            *opening(response_id),
            *text_start(item_id),
            text_delta(item_id, "Echo:", 4),
            {"type": "response.failed", "response": failed},
        ]
    )


LENGTH_USAGE = {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}
RESPONSES_LENGTH_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 1,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 13,
}


@pytest.mark.anyio
@respx.mock
async def test_a_length_finish_leaves_the_message_incomplete_in_json() -> None:
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": SERVED,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Echo"}, "finish_reason": "length"}],
        "usage": LENGTH_USAGE,
    }
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer))
    async with proxy() as client:
        reply = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "hello there", "max_output_tokens": 1}
        )
    assert reply.status_code == 200
    body = reply.json()
    response_id = body["id"]
    assert body == response(
        response_id,
        "incomplete",
        [message("msg_" + response_id.removeprefix("resp_") + "1", "Echo", "incomplete")],
        incomplete_details={"reason": "max_output_tokens"},
        max_output_tokens=1,
        usage=RESPONSES_LENGTH_USAGE,
    )
    assert orjson.loads(route.calls.last.request.content)["max_tokens"] == 1


@pytest.mark.anyio
@respx.mock
async def test_a_length_finish_streams_an_incomplete_message_and_ends_with_response_incomplete() -> None:
    body = sse(chunk({"role": "assistant", "content": "Echo"}), chunk({}, "length", usage=LENGTH_USAGE))
    respx.post(INVOCATIONS).mock(
        return_value=httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    async with proxy() as client:
        reply = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "hello there", "max_output_tokens": 1, "stream": True}
        )
    assert reply.status_code == 200
    response_id, item_id = ids_of(reply.text)
    final = message(item_id, "Echo", "incomplete")
    base = {"item_id": item_id, "output_index": 0, "content_index": 0}
    assert reply.text == frames(
        [
            *(
                {**event, "response": response(response_id, "in_progress", [], max_output_tokens=1)}
                for event in opening(response_id)
            ),
            *text_start(item_id),
            text_delta(item_id, "Echo", 4),
            {"type": "response.output_text.done", **base, "text": "Echo", "logprobs": []},
            {"type": "response.content_part.done", **base, "part": text_part("Echo")},
            {"type": "response.output_item.done", "output_index": 0, "item": final},
            {
                "type": "response.incomplete",
                "response": response(
                    response_id,
                    "incomplete",
                    [final],
                    incomplete_details={"reason": "max_output_tokens"},
                    max_output_tokens=1,
                    usage=RESPONSES_LENGTH_USAGE,
                ),
            },
        ]
    )


@pytest.mark.anyio
@respx.mock
async def test_every_echoed_setting_is_what_the_client_sent_or_the_documented_effective_value() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    sent = {
        "instructions": "Be brief.",
        "max_output_tokens": 100,
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low", "summary": "auto"},
        "temperature": 0.2,
        "top_p": 0.9,
        "text": {"format": {"type": "json_object"}, "verbosity": "low"},
        "tool_choice": "required",
        "tools": [tool("f"), {"type": "web_search"}],
        "metadata": {"run": "7"},
        "user": "user-1",
        "safety_identifier": "hashed-1",
        "prompt_cache_key": "thread-1",
        "prompt_cache_retention": "24h",
        "top_logprobs": 2,
        "max_tool_calls": 3,
        "truncation": "auto",
        "service_tier": "flex",
        "store": True,
    }
    async with proxy() as client:
        reply = await client.post("/v1/responses", json={"model": LLAMA, "input": "Hi", **sent})
    assert reply.status_code == 200
    body = reply.json()
    response_id = body["id"]
    assert body == response(
        response_id,
        "completed",
        [message("msg_" + response_id.removeprefix("resp_") + "1", "Hello!", "completed")],
        usage={
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 13,
        },
        created_at=LLAMA_ANSWER["created"],
        instructions="Be brief.",
        max_output_tokens=100,
        parallel_tool_calls=False,
        reasoning={"effort": "low", "summary": "auto"},
        temperature=0.2,
        top_p=0.9,
        text={"format": {"type": "json_object"}, "verbosity": "low"},
        tool_choice="required",
        tools=[tool("f")],  # hosted tools are dropped (README)
        metadata={"run": "7"},
        user="user-1",
        safety_identifier="hashed-1",
        prompt_cache_key="thread-1",
        prompt_cache_retention="24h",
        top_logprobs=2,
        max_tool_calls=3,
        truncation="disabled",  # effective: the proxy never drops input (README)
        service_tier="default",  # effective: one Databricks tier (README)
        store=False,  # effective: nothing is stored (README)
    )
    assert not {"user", "safety_identifier", "prompt_cache_key", "truncation", "service_tier", "top_logprobs"} & set(
        orjson.loads(route.calls.last.request.content)
    )
