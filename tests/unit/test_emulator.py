"""Unit tests of the built-in Databricks emulator (emulator)."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from emulator import answers, catalog
from emulator.app import EmulatorOptions, create_emulator_app
from emulator.server import EmulatorServer

LLAMA = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-3-7-sonnet"
GPT_OSS = "databricks-gpt-oss-120b"
BGE = "databricks-bge-large-en"
GTE = "databricks-gte-large-en"
MPT = "databricks-mpt-7b-instruct"
NULL_ID = "emulator-null-id-chat"
AUTH = {"Authorization": "Bearer test-token"}
UNAUTHORIZED = b'{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}'
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object"}},
    },
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]
USER = [{"role": "user", "content": "hello big world"}]


@asynccontextmanager
async def emulator(options: EmulatorOptions | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_emulator_app(options or EmulatorOptions())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emu") as client:
        yield client


async def invoke(
    client: httpx.AsyncClient, endpoint: str, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    url = f"/serving-endpoints/{endpoint}/invocations"
    if isinstance(body, bytes):
        return await client.post(url, content=body, headers=headers if headers is not None else AUTH)
    return await client.post(url, json=body, headers=headers if headers is not None else AUTH)


def sse(text: str) -> list[Any]:
    """Parse an SSE body into JSON payloads; the ``[DONE]`` sentinel is kept as the string "[DONE]"."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def assert_cumulative(chunks: list[dict[str, Any]], prompt: int, completion: int) -> None:
    seen = -1
    for chunk in chunks:
        usage = chunk["usage"]
        assert usage["prompt_tokens"] == prompt
        if usage["completion_tokens"] is None:
            continue
        assert usage["completion_tokens"] >= seen
        assert usage["total_tokens"] == prompt + usage["completion_tokens"]
        seen = usage["completion_tokens"]
    assert seen == completion


# ------------------------------------------------------------------------------------------ management API


@pytest.mark.anyio
async def test_list_endpoints_shape() -> None:
    async with emulator() as c:
        r = await c.get("/api/2.0/serving-endpoints", headers=AUTH)
    assert r.status_code == 200
    endpoints = {e["name"]: e for e in r.json()["endpoints"]}
    current = {
        "databricks-claude-sonnet-4-5",
        "databricks-claude-opus-4-6",
        "databricks-claude-haiku-4-5",
        "databricks-gpt-5-2",
        "databricks-gpt-5-mini",
        "databricks-gemini-2-5-pro",
        "databricks-gemini-2-5-flash",
        "databricks-gemini-3-pro",
        "databricks-gpt-oss-20b",
        "databricks-qwen3-next-80b-a3b-instruct",
    }
    assert set(endpoints) == {LLAMA, CLAUDE, GPT_OSS, BGE, GTE, MPT, NULL_ID, "custom-sklearn-model"} | current
    llama = endpoints[LLAMA]
    assert llama["task"] == "llm/v1/chat"
    assert re.fullmatch(r"[0-9a-f]{32}", llama["id"])
    assert llama["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert llama["endpoint_type"] == "FOUNDATION_MODEL_API"
    assert llama["creator"] == "system@databricks.com"
    assert isinstance(llama["creation_timestamp"], int) and llama["creation_timestamp"] > 10**12
    entity = llama["config"]["served_entities"][0]
    assert entity["entity_name"] == f"system.ai.{LLAMA}"
    assert entity["entity_version"] == "1"
    assert set(entity["foundation_model"]) == {"name", "display_name", "description", "docs"}
    assert endpoints[BGE]["task"] == "llm/v1/embeddings"
    assert endpoints[MPT]["task"] == "llm/v1/completions"
    assert "task" not in endpoints["custom-sklearn-model"]
    assert endpoints["custom-sklearn-model"]["endpoint_type"] == "CUSTOM_MODEL"
    assert not any(name.startswith("fault-") for name in endpoints)


@pytest.mark.anyio
async def test_get_endpoint_and_404() -> None:
    async with emulator() as c:
        ok = await c.get(f"/api/2.0/serving-endpoints/{CLAUDE}", headers=AUTH)
        missing = await c.get("/api/2.0/serving-endpoints/nope", headers=AUTH)
        fault = await c.get("/api/2.0/serving-endpoints/fault-status-500", headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["permission_level"] == "CAN_QUERY"
    assert ok.json()["id"] == catalog.endpoint_id(CLAUDE)
    assert missing.status_code == 404
    body = missing.json()
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert body["message"] == "Endpoint with name 'nope' does not exist."
    assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.RequestInfo"
    uuid.UUID(body["details"][0]["request_id"])
    assert body["details"][0]["serving_data"] == ""
    # fault endpoints are not listed but can be described (their task is chat)
    assert fault.status_code == 200 and fault.json()["task"] == "llm/v1/chat"


# ------------------------------------------------------------------------------------------ chat: Llama


@pytest.mark.anyio
async def test_llama_nonstream_exact_shape() -> None:
    async with emulator() as c:
        r = await invoke(c, LLAMA, {"messages": [{"role": "system", "content": "be nice"}, *USER]})
    assert r.status_code == 200
    uuid.UUID(r.headers["x-request-id"])
    assert r.headers["served-model-name"] == "meta-llama-3.3-70b-instruct-121024"
    body = r.json()
    assert re.fullmatch(r"chatcmpl_[0-9a-f-]{36}", body["id"])
    assert isinstance(body["created"], int)
    assert list(body) == ["id", "object", "created", "model", "choices", "usage"]
    assert body["object"] == "chat.completion"
    assert body["model"] == "meta-llama-3.3-70b-instruct-121024"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Echo: hello big world"},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 4,
        "total_tokens": 9,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


@pytest.mark.anyio
async def test_llama_max_tokens_n_and_list_content() -> None:
    content = [
        {"type": "text", "text": "one two"},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "3"},
    ]
    async with emulator() as c:
        r = await invoke(c, LLAMA, {"messages": [{"role": "user", "content": content}], "max_tokens": 2, "n": 2})
    body = r.json()
    assert [ch["index"] for ch in body["choices"]] == [0, 1]
    for choice in body["choices"]:
        assert choice["message"]["content"] == "Echo: one"
        assert choice["finish_reason"] == "length"
    assert body["usage"]["prompt_tokens"] == 3
    assert body["usage"]["completion_tokens"] == 4  # 2 words x 2 choices


@pytest.mark.anyio
async def test_llama_stream_shape() -> None:
    async with emulator() as c:
        r = await invoke(c, LLAMA, {"messages": USER, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["served-model-name"] == "meta-llama-3.3-70b-instruct-121024"
    events = sse(r.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert len(chunks) == 1 + 4 + 1
    assert len({(ch["id"], ch["created"], ch["model"]) for ch in chunks}) == 1
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    deltas = [ch["choices"][0]["delta"] for ch in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"role": "assistant", "content": "Echo:"}
    assert deltas[2] == {"role": "assistant", "content": " hello"}
    assert deltas[-1] == {"content": ""}
    assert "".join(d["content"] for d in deltas) == "Echo: hello big world"
    assert [ch["choices"][0]["finish_reason"] for ch in chunks] == [None] * 5 + ["stop"]
    assert [ch["usage"]["completion_tokens"] for ch in chunks] == [0, 1, 2, 3, 4, 4]
    assert_cumulative(chunks, prompt=3, completion=4)


@pytest.mark.anyio
async def test_llama_tool_call_nonstream_and_stream() -> None:
    async with emulator() as c:
        r = await invoke(c, LLAMA, {"messages": USER, "tools": TOOLS})
        s = await invoke(c, LLAMA, {"messages": USER, "tools": TOOLS, "stream": True})
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    (call,) = message["tool_calls"]
    assert re.fullmatch(r"call_[0-9a-f-]{36}", call["id"])
    assert call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{ "input": "hello big world" }'}
    assert json.loads(call["function"]["arguments"]) == {"input": "hello big world"}

    events = sse(s.text)
    assert events[-1] == "[DONE]"
    first, second, last = events[:-1]
    head = first["choices"][0]["delta"]["tool_calls"][0]
    assert first["choices"][0]["delta"]["content"] is None
    assert head == {
        "index": 0,
        "id": head["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert second["choices"][0]["delta"] == {
        "tool_calls": [{"index": 0, "function": {"arguments": '{ "input": "hello big world" }'}}]
    }
    assert last["choices"][0]["delta"]["tool_calls"] == [head]
    assert last["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.anyio
async def test_tool_choice_and_tool_result() -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    tool_turn = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "It is noon"},
    ]
    async with emulator() as c:
        by_name = await invoke(c, LLAMA, {"messages": USER, "tools": TOOLS, "tool_choice": named})
        none = await invoke(c, LLAMA, {"messages": USER, "tools": TOOLS, "tool_choice": "none"})
        result = await invoke(c, LLAMA, {"messages": tool_turn, "tools": TOOLS})
    assert by_name.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_time"
    assert none.json()["choices"][0]["message"]["content"] == "Echo: hello big world"
    assert result.json()["choices"][0]["message"] == {"role": "assistant", "content": "Echo: It is noon"}
    assert result.json()["choices"][0]["finish_reason"] == "stop"


# ------------------------------------------------------------------------------------------ chat: reasoning


@pytest.mark.anyio
async def test_claude_nonstream_and_tool_call() -> None:
    async with emulator() as c:
        r = await invoke(c, CLAUDE, {"messages": USER})
        t = await invoke(c, CLAUDE, {"messages": USER, "tools": TOOLS})
    assert r.headers["served-model-name"] == "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    body = r.json()
    assert re.fullmatch(r"msg_bdrk_01[A-Za-z0-9]{22}", body["id"])
    assert list(body) == ["model", "choices", "usage", "object", "id", "created"]
    reasoning, text = body["choices"][0]["message"]["content"]
    summary = reasoning["summary"][0]
    assert reasoning["type"] == "reasoning" and summary["type"] == "summary_text"
    assert summary["text"] == "Thinking about: hello big world"
    assert summary["signature"].startswith("ErcB")
    assert text == {"type": "text", "text": "Echo: hello big world"}
    assert body["usage"]["completion_tokens"] == 5 + 4  # reasoning words count as completion tokens

    message = t.json()["choices"][0]["message"]
    assert [p["type"] for p in message["content"]] == ["reasoning", "text"]
    assert message["content"][1]["text"] == "I'll call the tool."
    assert re.fullmatch(r"toolu_bdrk_01[A-Za-z0-9]{22}", message["tool_calls"][0]["id"])
    assert t.json()["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.anyio
async def test_claude_stream_shape() -> None:
    async with emulator() as c:
        r = await invoke(c, CLAUDE, {"messages": USER, "stream": True})
    events = sse(r.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(list(ch) == ["model", "choices", "usage", "object", "id", "created"] for ch in chunks)
    first = chunks[0]
    assert first["choices"][0]["delta"] == {
        "role": "assistant",
        "content": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thinking about: ", "signature": ""}]}
        ],
    }
    assert first["usage"] == {"prompt_tokens": 3, "completion_tokens": None, "total_tokens": None}
    rest = chunks[1]["choices"][0]["delta"]["content"][0]["summary"][0]
    assert rest == {"type": "summary_text", "text": "hello big world", "signature": ""}
    sig = chunks[2]["choices"][0]["delta"]["content"][0]["summary"][0]
    assert sig["text"] == "" and sig["signature"].startswith("ErcB")
    texts = [ch["choices"][0]["delta"]["content"] for ch in chunks[3:-1]]
    assert all(len(t) == 1 and t[0]["type"] == "text" for t in texts)
    assert "".join(t[0]["text"] for t in texts) == "Echo: hello big world"
    assert chunks[-1]["choices"][0]["delta"]["content"] == ""
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert_cumulative(chunks, prompt=3, completion=9)


@pytest.mark.anyio
async def test_gpt_oss_shapes_and_length() -> None:
    async with emulator() as c:
        r = await invoke(c, GPT_OSS, {"messages": USER})
        short = await invoke(c, GPT_OSS, {"messages": USER, "max_tokens": 3})
        mid = await invoke(c, GPT_OSS, {"messages": USER, "max_tokens": 7})
        s = await invoke(c, GPT_OSS, {"messages": USER, "stream": True, "max_tokens": 3})
    body = r.json()
    assert re.fullmatch(r"chatcmpl_[0-9a-f-]{36}", body["id"])
    assert body["model"] == "gpt-oss-120b-080525"
    reasoning, text = body["choices"][0]["message"]["content"]
    assert reasoning == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Thinking about: hello big world"}],
    }
    assert text == {"type": "text", "text": "Echo: hello big world"}
    # max_tokens smaller than the reasoning: only the (truncated) reasoning part, finish_reason "length"
    choice = short.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Thinking about: hello"}]}
    ]
    assert short.json()["usage"]["completion_tokens"] == 3
    choice = mid.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"][1] == {"type": "text", "text": "Echo: hello"}
    assert mid.json()["usage"]["completion_tokens"] == 7
    chunks = sse(s.text)[:-1]
    assert all("signature" not in str(ch) for ch in chunks)
    assert not any(
        part["type"] == "text"
        for ch in chunks
        if isinstance(ch["choices"][0]["delta"]["content"], list)
        for part in ch["choices"][0]["delta"]["content"]
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


@pytest.mark.anyio
async def test_null_id_chat_both_modes() -> None:
    async with emulator() as c:
        r = await invoke(c, NULL_ID, {"messages": USER})
        s = await invoke(c, NULL_ID, {"messages": USER, "stream": True})
    body = r.json()
    assert body["id"] is None
    assert body["object"] == "chat.completions"
    assert body["created"] == 1731283200.0 and '"created":1731283200.0' in r.text
    assert body["choices"][0]["finish_reason"] is None
    assert body["choices"][0]["message"]["content"] == "Echo: hello big world"
    chunks = sse(s.text)[:-1]
    assert all(ch["id"] is None and ch["object"] == "chat.completion.chunk" for ch in chunks)
    assert all(ch["choices"][0]["finish_reason"] is None for ch in chunks)


# ------------------------------------------------------------------------------------------ completions / embeddings


@pytest.mark.anyio
async def test_completions_nonstream_and_stream() -> None:
    async with emulator() as c:
        r = await invoke(c, MPT, {"prompt": ["say hi", "a b c d"], "max_tokens": 3})
        s = await invoke(c, MPT, {"prompt": "say hi", "stream": True})
    body = r.json()
    assert re.fullmatch(r"cmpl-[0-9a-f]{32}", body["id"])
    assert body["object"] == "text_completion" and body["model"] == "mpt-7b-instruct"
    assert body["choices"] == [
        {"index": 0, "text": "Echo: say hi", "logprobs": None, "finish_reason": "stop"},
        {"index": 1, "text": "Echo: a b", "logprobs": None, "finish_reason": "length"},
    ]
    assert body["usage"] == {"prompt_tokens": 6, "completion_tokens": 6, "total_tokens": 12}
    events = sse(s.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert [ch["choices"][0]["text"] for ch in chunks] == ["Echo:", " say", " hi", ""]
    assert [ch["choices"][0]["finish_reason"] for ch in chunks] == [None, None, None, "stop"]
    assert all(ch["object"] == "text_completion" and ch["choices"][0]["logprobs"] is None for ch in chunks)
    assert_cumulative(chunks, prompt=2, completion=3)


@pytest.mark.anyio
async def test_embeddings() -> None:
    async with emulator(EmulatorOptions(embedding_dim=16)) as c:
        batch = await invoke(c, BGE, {"input": ["Hello, world!", "", "Hello, world!"], "encoding_format": "base64"})
        single = await invoke(c, BGE, {"input": "Hello, world!", "user": "me"})
        other = await invoke(c, GTE, {"input": "Hello, world!"})
        dims = await invoke(c, BGE, {"input": "x", "dimensions": 8})
        bad = await invoke(c, BGE, {"input": ["ok", 3]})
    assert batch.status_code == 200
    body = batch.json()
    assert list(body) == ["id", "object", "model", "data", "usage"]
    uuid.UUID(body["id"])
    assert body["object"] == "list" and body["model"] == "bge-large-en-v1.5"
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in body["data"])
    vectors = [d["embedding"] for d in body["data"]]
    assert all(len(v) == 16 and all(isinstance(x, float) for x in v) for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(math.fsum(x * x for x in vectors[0]), 1.0, abs_tol=1e-6)
    assert all(round(x, 8) == x for x in vectors[0])
    assert single.json()["data"][0]["embedding"] == vectors[0]
    assert other.json()["model"] == "gte-large-en-v1.5"
    assert other.json()["data"][0]["embedding"] != vectors[0]
    assert dims.status_code == 400
    assert dims.json() == {"error_code": "BAD_REQUEST", "message": 'Bad request: json: unknown field "dimensions"\n'}
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_embedding_default_dimension() -> None:
    vector = answers.embedding_vector("abc", "bge-large-en-v1.5", 1024)
    assert len(vector) == 1024
    assert vector == answers.embedding_vector("abc", "bge-large-en-v1.5", 1024)


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.anyio
async def test_validation_errors() -> None:
    async with emulator() as c:
        unknown = await invoke(c, LLAMA, {"messages": USER, "stream": True, "stream_options": {"include_usage": True}})
        nested = await invoke(
            c, CLAUDE, {"messages": [*USER, {"role": "assistant", "content": "x", "reasoning_content": "y"}]}
        )
        role = await invoke(c, CLAUDE, {"messages": [{"role": "thinking", "content": "x"}]})
        n_stream = await invoke(c, LLAMA, {"messages": USER, "n": 2, "stream": True})
        temperature = await invoke(c, LLAMA, {"messages": USER, "temperature": 2.5})
        malformed = await invoke(c, LLAMA, b"{not json")
        missing = await invoke(c, "no-such-endpoint", {"messages": USER})
        seed = await invoke(c, GPT_OSS, {"messages": USER, "seed": 1})
    assert unknown.status_code == 400
    assert (
        unknown.content
        == b'{"error_code":"BAD_REQUEST","message":"Bad request: json: unknown field \\"stream_options\\"\\n"}'
    )
    assert nested.json() == {
        "error_code": "BAD_REQUEST",
        "message": 'Bad request: json: unknown field "reasoning_content"\n',
    }
    assert role.json() == {"error_code": "BAD_REQUEST", "message": "BAD_REQUEST: Invalid role in the chat message.\n"}
    assert n_stream.json() == {
        "error_code": "BAD_REQUEST",
        "message": 'Bad request: parameter "n" must be equal to 1 for streaming mode\n',
    }
    assert temperature.status_code == 400 and temperature.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert malformed.json() == {"error_code": "BAD_REQUEST", "message": "Bad request: Malformed JSON\n"}
    assert missing.status_code == 404
    assert missing.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "Endpoint with name 'no-such-endpoint' does not exist.",
    }
    uuid.UUID(missing.headers["x-request-id"])
    assert seed.json()["message"] == 'Bad request: json: unknown field "seed"\n'
    for r in (unknown, nested, role, n_stream, temperature, malformed):
        uuid.UUID(r.headers["x-request-id"])


# ------------------------------------------------------------------------------------------ auth and stats


@pytest.mark.anyio
async def test_auth_open_mode() -> None:
    async with emulator() as c:
        none = await invoke(c, LLAMA, {"messages": USER}, headers={})
        empty = await invoke(c, LLAMA, {"messages": USER}, headers={"Authorization": "Bearer "})
        basic = await c.get("/api/2.0/serving-endpoints", headers={"Authorization": "Basic eDp5"})
        anything = await invoke(c, LLAMA, {"messages": USER}, headers={"Authorization": "Bearer whatever"})
        stats = await c.get("/emulator/stats")
    for r in (none, empty, basic):
        assert r.status_code == 401
        assert r.content == UNAUTHORIZED
    assert anything.status_code == 200
    assert stats.status_code == 200


@pytest.mark.anyio
async def test_auth_static_tokens() -> None:
    async with emulator(EmulatorOptions(tokens=("dapi-good", "dapi-other"))) as c:
        bad = await invoke(c, LLAMA, {"messages": USER}, headers={"Authorization": "Bearer dapi-bad"})
        good = await invoke(c, LLAMA, {"messages": USER}, headers={"Authorization": "Bearer dapi-other"})
        listing = await c.get("/api/2.0/serving-endpoints", headers={"Authorization": "Bearer dapi-bad"})
        # no client id configured in token mode: the token endpoint issues nothing
        token = await c.post("/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
    assert bad.status_code == 401 and bad.content == UNAUTHORIZED
    assert good.status_code == 200
    assert listing.status_code == 401 and listing.json()["error_code"] == 401
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"


@pytest.mark.anyio
async def test_oauth_token_endpoint_in_process() -> None:
    options = EmulatorOptions(client_id="sp-id", client_secret="sp-secret", token_ttl_seconds=0)
    async with emulator(options) as c:
        discovery = await c.get("/oidc/.well-known/oauth-authorization-server")
        post_auth = await c.post(
            "/oidc/v1/token",
            data={
                "grant_type": "client_credentials",
                "scope": "all-apis",
                "client_id": "sp-id",
                "client_secret": "sp-secret",
            },
        )
        wrong = await c.post("/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=("sp-id", "nope"))
        expired = post_auth.json()["access_token"]
        use = await invoke(c, LLAMA, {"messages": USER}, headers={"Authorization": f"Bearer {expired}"})
        stats = (await c.get("/emulator/stats")).json()
    assert discovery.json()["issuer"] == "http://emu/oidc"
    assert discovery.json()["token_endpoint"] == "http://emu/oidc/v1/token"
    assert discovery.json()["authorization_endpoint"] == "http://emu/oidc/v1/authorize"
    token = post_auth.json()
    assert token["access_token"].startswith("emu-")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 0 and token["scope"] == "all-apis"
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert use.status_code == 401  # ttl 0: already expired
    assert stats["tokens_issued"] == 1


@pytest.mark.anyio
async def test_stats_recording_and_reset() -> None:
    async with emulator() as c:
        await invoke(c, LLAMA, {"messages": USER}, headers={**AUTH, "X-Custom": "abc"})
        for _ in range(55):
            await c.get("/api/2.0/serving-endpoints", headers=AUTH)
        stats = (await c.get("/emulator/stats")).json()
        await invoke(c, LLAMA, {"messages": USER, "stream": True}, headers={**AUTH, "X-Custom": "abc"})
        after = (await c.get("/emulator/stats")).json()
        reset = (await c.post("/emulator/reset")).json()
    assert stats["requests"] == 56
    assert len(stats["recent"]) == 50
    assert stats["last_request"] == stats["recent"][-1]
    assert stats["last_request"]["path"] == "/api/2.0/serving-endpoints"
    last = after["last_request"]
    assert last["path"] == f"/serving-endpoints/{LLAMA}/invocations"
    assert last["authorization"] == "Bearer test-token"
    assert last["headers"]["x-custom"] == "abc"
    assert last["body"] == {"messages": USER, "stream": True}
    assert after["streams_started"] == after["streams_completed"] == 1
    assert after["in_flight"] == 0
    assert reset["requests"] == 0 and reset["recent"] == [] and reset["last_request"] is None


# ------------------------------------------------------------------------------------------ faults


FAULT_STATUS = {
    400: ({"error_code": "BAD_REQUEST", "message": "Bad request: emulated bad request\n"}, None),
    401: (json.loads(UNAUTHORIZED), None),
    403: (
        {
            "error_code": "PERMISSION_DENIED",
            "message": "PERMISSION_DENIED: User does not have permission to query endpoint.",
        },
        None,
    ),
    404: (
        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Endpoint with name 'fault-status-404' does not exist."},
        None,
    ),
    429: (
        {
            "error_code": "REQUEST_LIMIT_EXCEEDED",
            "message": "REQUEST_LIMIT_EXCEEDED: Exceeded workspace rate limit for endpoint. "
            "Please retry after some time.",
        },
        "2",
    ),
    500: ({"error_code": "INTERNAL_ERROR", "message": "Internal error"}, None),
    503: ({"error_code": "TEMPORARILY_UNAVAILABLE", "message": "The service is temporarily unavailable."}, "1"),
    504: ({"error_code": "DEADLINE_EXCEEDED", "message": "Timed out"}, None),
}


@pytest.mark.anyio
@pytest.mark.parametrize("status", sorted(FAULT_STATUS))
@pytest.mark.parametrize("stream", [False, True])
async def test_fault_status(status: int, stream: bool) -> None:
    expected, retry_after = FAULT_STATUS[status]
    async with emulator() as c:
        r = await invoke(c, f"fault-status-{status}", {"messages": USER, "stream": stream})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert r.json() == expected
    assert r.headers.get("retry-after") == retry_after
    uuid.UUID(r.headers["x-request-id"])


@pytest.mark.anyio
async def test_fault_502_external_garbage_and_stream_error() -> None:
    async with emulator() as c:
        bad_gateway = await invoke(c, "fault-status-502", {"messages": USER, "stream": True})
        external = await invoke(c, "fault-external-400", {"messages": USER})
        garbage = await invoke(c, "fault-garbage", {"messages": USER})
        garbage_stream = await invoke(c, "fault-garbage", {"messages": USER, "stream": True})
        crashed = await invoke(c, "fault-stream-error", {"messages": USER, "stream": True})
    assert bad_gateway.status_code == 502
    assert bad_gateway.headers["content-type"].startswith("text/html")
    assert bad_gateway.text == (
        "<html><head><title>502 Bad Gateway</title></head><body><pre>upstream connect error</pre></body></html>"
    )
    assert external.status_code == 400
    assert external.json() == {
        "error": "Received error from databricks-model-serving",
        "external_model_message": {
            "error_code": "BAD_REQUEST",
            "message": '{"message":"messages.1.thinking_blocks: Extra inputs are not permitted"}',
        },
    }
    assert garbage.status_code == 200
    assert garbage.headers["content-type"] == "application/json"
    assert garbage.text == "not json at all"
    blocks = garbage_stream.text.split("\n\n")
    assert json.loads(blocks[0].removeprefix("data: "))["choices"][0]["delta"]["role"] == "assistant"
    assert blocks[1:] == ["data: {not json", ""]
    events = sse(crashed.text)
    assert len(events) == 2 and "[DONE]" not in events
    assert events[1] == {"error_code": "INTERNAL_ERROR", "message": "Model crashed mid-stream"}


@pytest.mark.anyio
async def test_fault_delay_and_nonstream_faults_answer_normally() -> None:
    async with emulator() as c:
        start = time.perf_counter()
        delayed = await invoke(c, "fault-delay-150", {"messages": USER})
        elapsed = time.perf_counter() - start
        delayed_stream = await invoke(c, "fault-delay-10", {"messages": USER, "stream": True})
        cut = await invoke(c, "fault-cut-1", {"messages": USER})
        slow = await invoke(c, "fault-slow-5", {"messages": USER, "stream": True})
    assert elapsed >= 0.14
    assert delayed.json()["choices"][0]["message"]["content"] == "Echo: hello big world"
    assert sse(delayed_stream.text)[-1] == "[DONE]"
    assert cut.json()["choices"][0]["message"]["content"] == "Echo: hello big world"
    assert sse(slow.text)[-1] == "[DONE]"


@pytest.mark.anyio
async def test_fault_hang_in_process_counts_cancellation() -> None:
    app = create_emulator_app(EmulatorOptions())
    state = app.state.emulator
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emu") as c:
        with anyio.move_on_after(0.1) as scope:
            await invoke(c, "fault-hang", {"messages": USER})
        assert scope.cancelled_caught
        assert state.stats.requests_cancelled == 1
        with anyio.move_on_after(0.1) as scope:
            await invoke(c, "fault-hang-after-2", {"messages": USER, "stream": True})
        assert scope.cancelled_caught
        assert state.stats.streams_cancelled == 1
        assert state.stats.in_flight == 0


# ------------------------------------------------------------------------------------------ real server


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorOptions(chunk_delay=0.03)) as emu:
        yield emu


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def stats_of(emu: EmulatorServer) -> dict[str, Any]:
    return httpx.get(emu.url + "/emulator/stats").json()  # type: ignore[no-any-return]


def test_real_server_streams_incrementally(server: EmulatorServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    httpx.post(server.url + "/emulator/reset")
    arrivals: list[float] = []
    lines: list[str] = []
    words = " ".join(f"w{i}" for i in range(8))
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        start = time.perf_counter()
        url = f"/serving-endpoints/{LLAMA}/invocations"
        body = {"messages": [{"role": "user", "content": words}], "stream": True}
        with client.stream("POST", url, json=body) as r:
            headers_at = time.perf_counter() - start
            assert r.status_code == 200
            for line in r.iter_lines():
                if line:
                    arrivals.append(time.perf_counter() - start)
                    lines.append(line)
        total = time.perf_counter() - start
    assert lines[-1] == "data: [DONE]"
    assert len(lines) == 1 + 9 + 1 + 1
    # 10 inter-chunk delays of 30 ms: the first chunk (and the headers) arrive long before the end
    assert total >= 0.3
    assert headers_at < 0.2
    assert arrivals[0] < arrivals[-1] - 0.2
    stats = stats_of(server)
    assert stats["streams_started"] == stats["streams_completed"] == 1
    assert stats["in_flight"] == 0


def test_real_server_client_disconnect_counts_cancelled(server: EmulatorServer) -> None:
    httpx.post(server.url + "/emulator/reset")
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        body = {"messages": [{"role": "user", "content": "a b c d e f g h i j k l"}], "stream": True}
        with client.stream("POST", f"/serving-endpoints/{LLAMA}/invocations", json=body) as r:
            lines = r.iter_lines()  # keep a reference: a collected line iterator closes the connection
            assert next(lines).startswith("data: ")
            assert stats_of(server)["in_flight"] == 1
    wait_for(lambda: stats_of(server)["streams_cancelled"] == 1)
    stats = stats_of(server)
    assert stats["streams_completed"] == 0 and stats["in_flight"] == 0


def test_real_server_fault_cut_aborts_connection(server: EmulatorServer) -> None:
    httpx.post(server.url + "/emulator/reset")
    received: list[str] = []
    url = "/serving-endpoints/fault-cut-2/invocations"
    with (
        httpx.Client(base_url=server.url, headers=AUTH) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", url, json={"messages": USER, "stream": True}) as r,
    ):
        received.extend(line for line in r.iter_lines() if line)
    assert len(received) == 2
    assert "[DONE]" not in "".join(received)
    assert stats_of(server)["streams_cut"] == 1


def test_real_server_hang_faults_count_cancellations(server: EmulatorServer) -> None:
    httpx.post(server.url + "/emulator/reset")
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/serving-endpoints/fault-hang/invocations", json={"messages": USER})
        with pytest.raises(httpx.ReadTimeout):
            client.post("/serving-endpoints/fault-hang/invocations", json={"messages": USER, "stream": True})
        body = {"messages": USER, "stream": True}
        with client.stream("POST", "/serving-endpoints/fault-hang-after-2/invocations", json=body) as r:
            lines = r.iter_lines()
            assert next(lines).startswith("data: ")
            assert next(lines) == ""
            assert next(lines).startswith("data: ")
            assert next(lines) == ""
            with pytest.raises(httpx.ReadTimeout):
                next(lines)
    wait_for(lambda: stats_of(server)["requests_cancelled"] == 1 and stats_of(server)["streams_cancelled"] == 2)
    assert stats_of(server)["in_flight"] == 0


def test_oauth_m2m_with_databricks_sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from databricks.sdk.core import Config

    # isolate from a developer's own Databricks configuration
    for name in [n for n in os.environ if n.startswith(("DATABRICKS_", "ARM_", "AZURE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "absent.cfg"))
    options = EmulatorOptions(client_id="sp-client", client_secret="sp-secret")
    with EmulatorServer(options) as emu:
        config = Config(host=emu.url, client_id="sp-client", client_secret="sp-secret", auth_type="oauth-m2m")
        headers = config.authenticate()
        assert re.fullmatch(r"Bearer emu-\S+", headers["Authorization"])
        assert stats_of(emu)["tokens_issued"] == 1
        r = httpx.post(emu.url + f"/serving-endpoints/{LLAMA}/invocations", json={"messages": USER}, headers=headers)
        assert r.status_code == 200
        r = httpx.post(
            emu.url + f"/serving-endpoints/{LLAMA}/invocations",
            json={"messages": USER},
            headers={"Authorization": "Bearer emu-forged"},
        )
        assert r.status_code == 401 and r.content == UNAUTHORIZED


def test_cli_prints_url_and_exits_cleanly_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--token", "t1", "--token", "t2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        ok = httpx.post(
            f"{url}/serving-endpoints/{LLAMA}/invocations",
            json={"messages": USER},
            headers={"Authorization": "Bearer t2"},
        )
        assert ok.status_code == 200
        denied = httpx.post(f"{url}/serving-endpoints/{LLAMA}/invocations", json={"messages": USER}, headers=AUTH)
        assert denied.status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.anyio
async def test_custom_model_and_gpt_oss_tool_call() -> None:
    async with emulator() as c:
        custom = await invoke(c, "custom-sklearn-model", {"dataframe_records": [{"a": 1}, {"a": 2}]})
        custom_chat = await invoke(c, "custom-sklearn-model", {"messages": USER})
        tool = await invoke(c, GPT_OSS, {"messages": USER, "tools": TOOLS, "tool_choice": "required"})
    assert custom.json() == {"predictions": [0, 0]}
    assert custom_chat.status_code == 400
    message = tool.json()["choices"][0]["message"]
    assert [p["type"] for p in message["content"]] == ["reasoning"]
    assert message["tool_calls"][0]["function"]["name"] == "get_weather"
    assert re.fullmatch(r"call_[0-9a-f-]{36}", message["tool_calls"][0]["id"])


def test_stop_releases_hanging_requests() -> None:
    import emulator as package

    assert package.EmulatorServer is EmulatorServer
    emu = EmulatorServer().start()
    results: list[int | str] = []

    def hang(stream: bool) -> None:
        try:
            r = httpx.post(
                f"{emu.url}/serving-endpoints/fault-hang/invocations",
                json={"messages": USER, "stream": stream},
                headers=AUTH,
                timeout=5,
            )
            results.append(r.status_code)
        except httpx.HTTPError as exc:  # pragma: no cover - reported by the assertion below
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=hang, args=(stream,)) for stream in (False, True)]
    for thread in threads:
        thread.start()
    wait_for(lambda: emu.app.state.emulator.stats.in_flight == 2)
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 0.9  # no graceful-shutdown timeout (1 s) was needed
    for thread in threads:
        thread.join(5)
    assert results == [503, 503]


def test_a_prompt_can_direct_the_tool_call() -> None:
    tools = [
        {"type": "function", "function": {"name": "Agent", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "Read", "parameters": {"type": "object"}}},
    ]
    prompt = 'Please call Read with {"file_path": "/tmp/x.txt"}'
    plan = answers.plan_chat({"messages": [{"role": "user", "content": prompt}], "tools": tools}, "llama")
    assert plan.tool_call == answers.ToolCallPlan(name="Read", arguments='{"file_path":"/tmp/x.txt"}')
    # an unknown tool: the first tool, as without a directive; broken JSON: the tool the prompt names
    for other, expected in (('call Write with {"a": 1}', "Agent"), ("call Read with {broken}", "Read")):
        plan = answers.plan_chat({"messages": [{"role": "user", "content": other}], "tools": tools}, "llama")
        assert plan.tool_call is not None and plan.tool_call.name == expected
