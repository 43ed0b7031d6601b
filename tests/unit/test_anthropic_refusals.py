"""The Anthropic door refuses what it cannot serve, in Anthropic's envelope, before anything goes upstream.

In-process (ASGI transport), Databricks mocked with respx: exact statuses and bodies, and no upstream call
where the request is refused locally.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import httpx
import orjson
import pytest
import respx
from anthropic.pagination import SyncPage
from pydantic import TypeAdapter

from tests.unit.test_anthropic_routes import ENDPOINTS, LLAMA
from tests.unit.test_app import HOST, proxy

INVOCATIONS = f"{HOST}/serving-endpoints/{LLAMA}/invocations"
LIST = f"{HOST}/api/2.0/serving-endpoints"
LLAMA_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1731283200,
    "model": LLAMA,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
}


def request(content: Any, **extra: Any) -> dict[str, Any]:
    return {"model": LLAMA, "max_tokens": 10, "messages": [{"role": "user", "content": content}], **extra}


def invalid(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}


async def post_both(client: httpx.AsyncClient, body: dict[str, Any]) -> list[tuple[int, Any]]:
    """The answers of ``messages`` and ``count_tokens`` to the same body (status, JSON)."""
    answers = []
    for path in ("/anthropic/v1/messages", "/anthropic/v1/messages/count_tokens"):
        response = await client.post(path, json=body)
        answers.append((response.status_code, response.json()))
    return answers


@pytest.mark.anyio
@pytest.mark.parametrize("source", ["x", 5, [{}], [[]], None])
@respx.mock
async def test_a_document_source_that_is_not_an_object_is_a_400_naming_it(source: Any) -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    upstream = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    document = {"type": "document", "source": source}
    nested = [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [document]}]},
    ]
    async with proxy() as client:
        top = await post_both(client, request([document]))
        inside = await post_both(client, {**request("Hi"), "messages": [{"role": "user", "content": "Hi"}, *nested]})
    top_error = (400, invalid("messages.0.content.0.source: Input should be an object"))
    inside_error = (400, invalid("messages.2.content.0.content.0.source: Input should be an object"))
    assert top == [top_error, top_error]
    assert inside == [inside_error, inside_error]
    assert not upstream.called


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            [{"type": "bogus"}],
            "messages.0.content: the message has no content to send (bogus cannot be sent to this model); "
            "send at least one non-empty text, image or tool_result block.",
        ),
        (
            "",
            "messages.0.content: the message has no content to send; "
            "send at least one non-empty text, image or tool_result block.",
        ),
        (
            [{"type": "text", "text": ""}, {"type": "document", "source": {"type": "base64", "data": "JVBE"}}],
            "messages.0.content: the message has no content to send (document source base64 cannot be sent to "
            "this model); send at least one non-empty text, image or tool_result block.",
        ),
    ],
)
@respx.mock
async def test_a_message_left_empty_is_refused_without_an_upstream_call(content: Any, message: str) -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    upstream = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        response = await client.post("/api/anthropic/v1/messages", json=request(content))
    assert (response.status_code, response.json()) == (400, invalid(message))
    assert not upstream.called


@contextmanager
def access_lines() -> Iterator[list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []

    class Fields(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.fields)  # type: ignore[attr-defined]

    access = logging.getLogger("proxy.access")
    handler, level = Fields(), access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        access.removeHandler(handler)
        access.setLevel(level)


@pytest.mark.anyio
@respx.mock
async def test_a_tool_result_whose_blocks_are_dropped_says_so_to_the_model_and_in_the_log() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    upstream = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    pdf = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}
    body = {
        **request("Read it"),
        "messages": [
            {"role": "user", "content": "Read it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [pdf]}]},
        ],
    }
    async with proxy(send_usage_context=False) as client:
        with access_lines() as lines:
            response = await client.post("/anthropic/v1/messages", json=body)
    assert response.status_code == 200
    assert orjson.loads(upstream.calls.last.request.content)["messages"][2] == {
        "role": "tool",
        "tool_call_id": "t1",
        "content": "(the tool's output could not be passed on: document source base64)",
    }
    [line] = lines
    assert line["note"] == "dropped: document source base64 in tool_result"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"tools": [{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(2000)]},
            "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an array with "
            "length 2000 instead.",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}] * 2049},
            "Invalid 'messages': array too long. Expected an array with maximum length 2048, but got an array "
            "with length 2049 instead.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}] * 2049}]},
            "Invalid 'messages.0.content': array too long. Expected an array with maximum length 2048, but got an "
            "array with length 2049 instead.",
        ),
        (
            {"system": [{"type": "text", "text": "x"}] * 2049},
            "Invalid 'system': array too long. Expected an array with maximum length 2048, but got an array with "
            "length 2049 instead.",
        ),
        (
            {"stop_sequences": ["x"] * 17},
            "Invalid 'stop_sequences': array too long. Expected an array with maximum length 16, but got an "
            "array with length 17 instead.",
        ),
    ],
)
@respx.mock
async def test_the_chat_doors_bounds_apply(extra: dict[str, Any], message: str) -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    upstream = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        response = await client.post("/anthropic/v1/messages", json={**request("Hi"), **extra})
    assert (response.status_code, response.json()) == (400, invalid(message))
    assert not upstream.called


@pytest.mark.anyio
@respx.mock
async def test_an_unknown_model_is_a_404_pointing_to_this_doors_list() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    respx.post(f"{HOST}/serving-endpoints/databricks-meta-llama-3-3-70b-instructt/invocations").mock(
        return_value=httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"})
    )
    body = {**request("Hi"), "model": LLAMA + "t"}
    async with proxy() as client:
        answers = await post_both(client, body)
        api = await client.post("/api/anthropic/v1/messages/count_tokens", json=body)
        known = await client.post("/api/anthropic/v1/messages/count_tokens", json=request("Hi"))

    def not_found(path: str) -> dict[str, Any]:
        message = (
            f"The model '{LLAMA}t' does not exist or you do not have access to it. GET {path} lists the models "
            f"you can use. Did you mean '{LLAMA}'?"
        )
        return {"type": "error", "error": {"type": "not_found_error", "message": message}}

    assert answers == [(404, not_found("/anthropic/v1/models"))] * 2
    assert (api.status_code, api.json()) == (404, not_found("/api/anthropic/v1/models"))
    assert (known.status_code, known.json()) == (200, {"input_tokens": 4})


@pytest.mark.anyio
@respx.mock
async def test_the_model_list_is_what_the_sdk_reads() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json=ENDPOINTS))
    async with proxy() as client:
        page = (await client.get("/anthropic/v1/models")).json()
        one = (await client.get("/anthropic/v1/models/claude-haiku-4-5")).json()
    listed = TypeAdapter(SyncPage[anthropic.types.ModelInfo]).validate_python(page)
    assert [(m.id, m.lifecycle) for m in listed.data] == [
        ("claude-sonnet-4-5", "active"),
        ("claude-haiku-4-5", "active"),
        ("databricks-claude-sonnet-4-5", "active"),
        ("databricks-claude-haiku-4-5", "active"),
        (LLAMA, "active"),
    ]
    for item in page["data"]:
        TypeAdapter(anthropic.types.ModelInfo).validate_python(item)
    assert TypeAdapter(anthropic.types.ModelInfo).validate_python(one).id == "claude-haiku-4-5"


@pytest.mark.anyio
@respx.mock
async def test_other_404s_point_to_the_list_under_the_requests_prefix() -> None:
    respx.get(LIST).mock(return_value=httpx.Response(200, json={"endpoints": ENDPOINTS["endpoints"][2:]}))
    async with proxy() as client:
        unmapped = await client.post("/api/anthropic/v1/messages", json={**request("Hi"), "model": "claude-opus-4-1"})
        retrieved = await client.get("/api/anthropic/v1/models/claude-nothing")
    assert (unmapped.status_code, unmapped.json()) == (
        404,
        {
            "type": "error",
            "error": {
                "type": "not_found_error",
                "message": "The model 'claude-opus-4-1' is an Anthropic model id, and no Claude serving endpoint is "
                "there to map it to: name a serving endpoint (GET /api/anthropic/v1/models lists them).",
            },
        },
    )
    assert (retrieved.status_code, retrieved.json()) == (
        404,
        {
            "type": "error",
            "error": {
                "type": "not_found_error",
                "message": "The model 'claude-nothing' is not served here (GET /api/anthropic/v1/models lists them).",
            },
        },
    )
