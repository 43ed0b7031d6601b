"""The emulator's other surfaces in-process: the providers' own APIs, Unity Gateway's paths, and the switches that
model a workspace without them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from emulator.app import EmulatorOptions, create_emulator_app

SONNET = "databricks-claude-sonnet-4-5"
GPT = "databricks-gpt-5-2"
FLASH = "databricks-gemini-2-5-flash"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"


@asynccontextmanager
async def emulator(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_emulator_app(EmulatorOptions(**options))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers={"Authorization": "Bearer t"}) as c:
        yield c


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], orjson.loads(lines["data"])))
    return out


def messages(**extra: Any) -> dict[str, Any]:
    return {"model": SONNET, "max_tokens": 100, "messages": [{"role": "user", "content": "alpha beta gamma"}], **extra}


@pytest.mark.anyio
async def test_anthropic_messages_with_a_stop_sequence_and_a_document() -> None:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Doc."}}
    body = messages(stop_sequences=["beta"])
    body["messages"] = [{"role": "user", "content": [document, {"type": "text", "text": "alpha beta gamma"}]}]
    async with emulator() as client:
        for path in ("/serving-endpoints/anthropic/v1/messages", "/ai-gateway/anthropic/v1/messages"):
            answer = (await client.post(path, json=body)).json()
            assert answer["content"] == [{"type": "text", "text": "Echo: Doc. alpha "}]
            assert (answer["stop_reason"], answer["stop_sequence"]) == ("stop_sequence", "beta")
            assert answer["id"].startswith("msg_bdrk_01") and answer["model"].startswith("us.anthropic.claude")


@pytest.mark.anyio
async def test_anthropic_stream_with_thinking_and_a_tool_call() -> None:
    tool = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
    body = messages(stream=True, thinking={"type": "enabled", "budget_tokens": 1024}, tools=[tool])
    async with emulator() as client:
        response = await client.post("/serving-endpoints/anthropic/v1/messages", json=body)
    seen = events(response.text)
    names = [name for name, _ in seen]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    starts = [data["content_block"]["type"] for name, data in seen if name == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use"]
    deltas = {data["delta"]["type"] for name, data in seen if name == "content_block_delta"}
    assert deltas == {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"}
    assert seen[-2][1]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.anyio
async def test_anthropic_cache_counts_with_cache_control_on_tools() -> None:
    tool = {"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
    system = [{"type": "text", "text": "word " * 1100, "cache_control": {"type": "ephemeral"}}]
    body = messages(system=system, tools=[tool], tool_choice={"type": "none"})
    async with emulator() as client:
        first = (await client.post("/ai-gateway/anthropic/v1/messages", json=body)).json()["usage"]
        second = (await client.post("/ai-gateway/anthropic/v1/messages", json=body)).json()["usage"]
    assert first["cache_creation_input_tokens"] > 0 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


@pytest.mark.anyio
async def test_refusals_a_client_must_survive() -> None:
    foreign = {"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": "other"}]}
    async with emulator(native_unserved=frozenset({"databricks-claude-haiku-4-5"})) as client:
        signature = await client.post(
            "/ai-gateway/anthropic/v1/messages",
            json=messages(messages=[{"role": "user", "content": "a"}, foreign, {"role": "user", "content": "b"}]),
        )
        other_family = await client.post("/ai-gateway/anthropic/v1/messages", json=messages(model=LLAMA))
        unserved = await client.post(
            "/serving-endpoints/anthropic/v1/messages", json=messages(model="databricks-claude-haiku-4-5")
        )
        claude_on_responses = await client.post("/serving-endpoints/responses", json={"model": SONNET, "input": "x"})
        stateful = await client.post("/serving-endpoints/responses", json={"model": GPT, "previous_response_id": "r"})
        encrypted = await client.post(
            "/serving-endpoints/responses",
            json={"model": GPT, "input": [{"type": "reasoning", "summary": [], "encrypted_content": "dbxr1.x"}]},
        )
        unknown = await client.post("/ai-gateway/mlflow/v1/chat/completions", json={"model": "nope", "messages": []})
    assert signature.status_code == 400 and "signature" in signature.json()["error"]["message"]
    assert other_family.status_code == 400 and "passthrough is not supported" in other_family.json()["message"]
    assert unserved.status_code == 400 and "passthrough is not supported" in unserved.json()["message"]
    assert claude_on_responses.json()["message"].startswith("Responses API passthrough is not supported")
    assert stateful.status_code == 400 and stateful.json()["error"]["param"] == "previous_response_id"
    assert encrypted.status_code == 400 and encrypted.json()["error"]["code"] == "invalid_encrypted_content"
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.anyio
async def test_responses_with_log_probabilities_and_its_own_encrypted_reasoning() -> None:
    body = {
        "model": GPT,
        "input": "alpha beta",
        "include": ["message.output_text.logprobs", "reasoning.encrypted_content"],
    }
    async with emulator() as client:
        answer = (await client.post("/ai-gateway/codex/v1/responses", json={**body, "top_logprobs": 2})).json()
        reasoning, message = answer["output"]
        replay = [reasoning, {"role": "user", "content": "again"}]
        again = await client.post("/serving-endpoints/responses", json={"model": GPT, "input": replay})
        stream = await client.post("/serving-endpoints/responses", json={**body, "stream": True})
    assert answer["object"] == "response" and answer["status"] == "completed"
    assert message["content"][0]["text"] == "Echo: alpha beta"
    assert (
        len(message["content"][0]["logprobs"]) == 3 and len(message["content"][0]["logprobs"][0]["top_logprobs"]) == 2
    )
    assert again.status_code == 200  # its own reasoning comes back verbatim
    seen = events(stream.text)
    assert [data["sequence_number"] for _, data in seen] == list(range(len(seen)))
    assert seen[0][0] == "response.created" and seen[-1][0] == "response.completed"
    assert any(name == "response.output_text.delta" and data["logprobs"] for name, data in seen)


@pytest.mark.anyio
async def test_gemini_json_sse_and_array_with_its_own_signature_on_calls() -> None:
    tools = [{"functionDeclarations": [{"name": "lookup", "parameters": {"type": "object"}}]}]
    call_body = {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "tools": tools}
    text_body = {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}
    path = f"/ai-gateway/gemini/v1beta/models/{FLASH}"
    async with emulator() as client:
        called = (await client.post(f"{path}:generateContent", json=call_body)).json()
        sse = await client.post(f"{path}:streamGenerateContent?alt=sse", json=text_body)
        array = await client.post(
            f"/serving-endpoints/gemini/v1beta/models/{FLASH}:streamGenerateContent", json=text_body
        )
        refused = await client.post(f"/serving-endpoints/gemini/v1beta/models/{GPT}:generateContent", json=text_body)
    part = called["candidates"][0]["content"]["parts"][0]
    assert part["functionCall"]["name"] == "lookup" and part["thoughtSignature"]
    chunks = [orjson.loads(frame.removeprefix("data: ")) for frame in sse.text.strip().split("\r\n\r\n")]
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "Echo: hello there"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP" and "usageMetadata" in chunks[-1]
    assert len(orjson.loads(array.content)) == len(chunks)
    assert refused.status_code == 400 and "Gemini API passthrough" in refused.json()["message"]


@pytest.mark.anyio
async def test_the_gateway_serves_chat_by_unity_catalog_name_and_applies_its_budgets_and_limits() -> None:
    chat = {"model": "system.ai.meta-llama-3-3-70b-instruct", "messages": [{"role": "user", "content": "hi"}]}
    options = {"gateway_blocked": frozenset({LLAMA}), "gateway_limited": frozenset({GPT})}
    async with emulator() as client:
        answer = (await client.post("/ai-gateway/mlflow/v1/chat/completions", json=chat)).json()
    async with emulator(**options) as client:
        blocked = await client.post("/ai-gateway/mlflow/v1/chat/completions", json=chat)
        limited = await client.post("/ai-gateway/codex/v1/responses", json={"model": GPT, "input": "x"})
        direct = await client.post(f"/serving-endpoints/{LLAMA}/invocations", json={"messages": chat["messages"]})
    assert answer["choices"][0]["message"]["content"] == "Echo: hi"
    assert (blocked.status_code, blocked.json()["error_code"]) == (403, "PERMISSION_DENIED")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert direct.status_code == 200  # budgets and limits are the gateway's


@pytest.mark.anyio
async def test_a_workspace_without_the_gateway_or_the_native_apis() -> None:
    async with emulator(unity_gateway=False, native_surfaces=False) as client:
        gateway = await client.post("/ai-gateway/mlflow/v1/chat/completions", json={"model": LLAMA, "messages": []})
        native = await client.post("/serving-endpoints/anthropic/v1/messages", json=messages())
    for response in (gateway, native):
        assert response.status_code == 404 and response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
        assert response.json()["message"].startswith("No API found for 'POST /")
