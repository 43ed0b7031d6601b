"""Upstream surfaces in-process: Unity Gateway first, native pass-through per door, what is remembered and what
is never gone around. Databricks mocked with respx."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from services.databricks.families import family_of
from services.databricks.surfaces import Surfaces, with_fields
from services.errors import ProxyError
from services.settings import Settings
from tests.unit.test_app import HOST, LLAMA, LLAMA_ANSWER, TOKEN, chat, proxy

SONNET = "databricks-claude-sonnet-4-5"
GPT = "databricks-gpt-5-2"
FLASH = "databricks-gemini-2-5-flash"
BGE = "databricks-bge-large-en"
ENDPOINTS = {
    "endpoints": [{"name": name, "task": "llm/v1/chat"} for name in (SONNET, GPT, FLASH, LLAMA)]
    + [{"name": BGE, "task": "llm/v1/embeddings"}]
}
GATEWAY_CHAT = f"{HOST}/ai-gateway/mlflow/v1/chat/completions"
NO_SUCH_PATH = {"error_code": "ENDPOINT_NOT_FOUND", "message": "Invalid path"}
MESSAGE = {
    "id": "msg_bdrk_01XyZ",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hi!", "citations": None}],
    "stop_reason": "stop_sequence",
    "stop_sequence": "###",
    "usage": {"input_tokens": 5, "output_tokens": 2, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0},
}


def listed() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(route.calls[index].request.content)
    return body


def anthropic(**extra: Any) -> dict[str, Any]:
    return {"model": SONNET, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}], **extra}


# --------------------------------------------------------------------------------------------- the pure parts


def test_with_fields_adds_members_without_parsing_again() -> None:
    assert orjson.loads(with_fields(b'{"a":1}', first=b'"model":"m"', last=b'"z":2')) == {"model": "m", "a": 1, "z": 2}
    assert with_fields(b"{}", first=b'"model":"m"') == b'{"model":"m"}'
    assert with_fields(b'{"a":1}') == b'{"a":1}'


def test_a_missing_path_turns_the_whole_gateway_off_a_missing_model_only_that_model() -> None:
    now = [0.0]
    surfaces = Surfaces(Settings(surface_memory_seconds=60), clock=lambda: now[0])
    surfaces.gateway_missing(
        "a", ProxyError("Endpoint 'a' does not exist.", status=404, code="RESOURCE_DOES_NOT_EXIST")
    )
    assert not surfaces.gateway_for("a") and surfaces.gateway_for("b")
    surfaces.gateway_missing("b", ProxyError("Invalid path", status=404, code="ENDPOINT_NOT_FOUND"))
    assert not surfaces.gateway_for("c")
    assert "absent" in surfaces.describe()["unity_gateway"]
    now[0] = 61.0  # remembered for a while, then tried again
    assert surfaces.gateway_for("a") and surfaces.gateway_for("c")


def test_native_pairs_follow_the_family_of_the_endpoint() -> None:
    surfaces = Surfaces(Settings())
    assert surfaces.native_for("anthropic", family_of(SONNET), SONNET) is not None
    assert surfaces.native_for("anthropic", family_of(LLAMA), LLAMA) is None
    assert surfaces.native_for("responses", family_of(GPT), GPT) is not None
    assert surfaces.native_for("responses", family_of("databricks-gpt-oss-120b"), "databricks-gpt-oss-120b") is None
    assert surfaces.native_for("gemini", family_of(FLASH), FLASH) is not None
    assert Surfaces(Settings(native_surfaces=False)).native_for("anthropic", family_of(SONNET), SONNET) is None


# --------------------------------------------------------------------------------------------- Unity Gateway


@pytest.mark.anyio
@respx.mock
async def test_chat_goes_through_the_gateway_with_the_model_in_the_body() -> None:
    listed()
    gateway = respx.post(GATEWAY_CHAT).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy(unity_gateway="auto") as client:
        response = await client.post("/v1/chat/completions", json=chat(user="u1"))
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "Hello!"
    body = sent(gateway)
    assert next(iter(body)) == "model" and body["model"] == LLAMA
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert "client_request_id" not in body and "usage_context" not in body  # the gateway attributes by identity
    assert gateway.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.anyio
@respx.mock
async def test_without_a_gateway_the_serving_endpoints_serve_and_that_is_remembered() -> None:
    listed()
    gateway = respx.post(GATEWAY_CHAT).mock(return_value=httpx.Response(404, json=NO_SUCH_PATH))
    invocations = respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    async with proxy(unity_gateway="auto") as client:
        first = await client.post("/v1/chat/completions", json=chat())
        second = await client.post("/v1/chat/completions", json=chat(stream=False))
        health = (await client.get("/health")).json()
    assert first.status_code == second.status_code == 200
    assert gateway.call_count == 1 and invocations.call_count == 2
    assert sent(invocations)["client_request_id"]  # attribution goes to invocations
    assert "model" not in sent(invocations)
    assert "absent" in health["surfaces"]["unity_gateway"]


@pytest.mark.anyio
@respx.mock
async def test_a_model_the_gateway_does_not_know_is_tried_on_serving_endpoints_without_turning_the_gateway_off() -> (
    None
):
    listed()
    gateway = respx.post(GATEWAY_CHAT).mock(
        side_effect=[
            httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Model not found."}),
            httpx.Response(200, json=LLAMA_ANSWER),
        ]
    )
    invocations = respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    respx.post(f"{HOST}/serving-endpoints/{BGE}/invocations").mock(return_value=httpx.Response(200, json={}))
    async with proxy(unity_gateway="auto") as client:
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
    assert invocations.call_count == 2 and gateway.call_count == 1  # remembered for that endpoint only


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (403, {"error_code": "PERMISSION_DENIED", "message": "Budget exceeded for this user."}, {}),
        (429, {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Rate limit exceeded."}, {"Retry-After": "7"}),
    ],
)
@respx.mock
async def test_a_gateway_refusal_is_the_answer_never_a_reason_to_go_around_it(
    status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    listed()
    respx.post(GATEWAY_CHAT).mock(return_value=httpx.Response(status, json=body, headers=headers))
    anthropic_gateway = respx.post(f"{HOST}/ai-gateway/anthropic/v1/messages").mock(
        return_value=httpx.Response(status, json=body, headers=headers)
    )
    invocations = respx.post(url__regex=rf"{HOST}/serving-endpoints/.*").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    async with proxy(unity_gateway="auto", native_surfaces=True) as client:
        openai_answer = await client.post("/v1/chat/completions", json=chat())
        claude_answer = await client.post("/anthropic/v1/messages", json=anthropic())
        ready = await client.get("/ready")
    assert openai_answer.status_code == claude_answer.status_code == status
    assert body["message"].rstrip(".") in openai_answer.json()["error"]["message"]
    assert claude_answer.json()["type"] == "error" and body["message"].rstrip(".") in claude_answer.text
    if status == 429:
        assert openai_answer.headers["retry-after"] == "7"
    assert invocations.call_count == 0 and anthropic_gateway.call_count == 1
    assert ready.status_code == 200  # a budget is not a broken credential


@pytest.mark.anyio
@respx.mock
async def test_a_forced_gateway_is_never_bypassed() -> None:
    listed()
    respx.post(GATEWAY_CHAT).mock(return_value=httpx.Response(404, json=NO_SUCH_PATH))
    invocations = respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    async with proxy(unity_gateway="on") as client:
        response = await client.post("/v1/chat/completions", json=chat())
    assert response.status_code == 404 and invocations.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_embeddings_go_through_the_gateway_and_completions_stay_on_invocations() -> None:
    listed()
    embeddings = respx.post(f"{HOST}/ai-gateway/mlflow/v1/embeddings").mock(
        return_value=httpx.Response(
            200, json={"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]}
        )
    )
    async with proxy(unity_gateway="auto") as client:
        response = await client.post("/v1/embeddings", json={"model": BGE, "input": "hi"})
    assert response.status_code == 200 and response.json()["data"][0]["embedding"] == [0.5]
    assert sent(embeddings) == {"model": BGE, "input": "hi"}


# --------------------------------------------------------------------------------------------- native: Anthropic


@pytest.mark.anyio
@respx.mock
async def test_claude_on_the_anthropic_door_goes_natively_as_sent_and_comes_back_as_received() -> None:
    listed()
    raw = orjson.dumps(MESSAGE) + b"\n"
    native = respx.post(f"{HOST}/ai-gateway/anthropic/v1/messages").mock(
        return_value=httpx.Response(200, content=raw, headers={"content-type": "application/json"})
    )
    request = anthropic(
        stop_sequences=["###"],
        tools=[{"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Doc."}},
                    {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "x", "signature": ""}, {"type": "text", "text": "ok"}],
            },
            {"role": "user", "content": "Again"},
        ],
    )
    headers = {"anthropic-version": "2023-06-01", "anthropic-beta": "interleaved-thinking-2025-05-14", "x-other": "1"}
    async with proxy(unity_gateway="auto", native_surfaces=True) as client:
        response = await client.post("/anthropic/v1/messages", json=request, headers=headers)
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 200 and response.content == raw
    body = sent(native)
    assert body["model"] == SONNET and body["tools"] == request["tools"] and body["stop_sequences"] == ["###"]
    assert body["messages"][0] == request["messages"][0]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "ok"}
    ]  # an unsigned thinking block Claude would refuse
    upstream_headers = native.calls.last.request.headers
    assert upstream_headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert upstream_headers["anthropic-version"] == "2023-06-01" and "x-other" not in upstream_headers
    assert upstream_headers["authorization"] == f"Bearer {TOKEN}"
    assert 'direction="cache_read"' in metrics and "105.0" in metrics  # usage read for the record


@pytest.mark.anyio
@respx.mock
async def test_a_native_stream_is_relayed_byte_for_byte_and_its_usage_read() -> None:
    listed()
    events = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
        b'"role":"assistant","content":[],"model":"claude","stop_reason":null,"stop_sequence":null,'
        b'"usage":{"input_tokens":7,"output_tokens":1}}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":'
        b'{"type":"text","text":""}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
        b'{"type":"text_delta","text":"Hi"}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
        b'"stop_sequence":null},"usage":{"output_tokens":3}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    respx.post(f"{HOST}/serving-endpoints/anthropic/v1/messages").mock(
        return_value=httpx.Response(200, content=events, headers={"content-type": "text/event-stream"})
    )
    async with proxy(native_surfaces=True) as client:
        response = await client.post("/anthropic/v1/messages", json=anthropic(stream=True))
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.content == events
    assert 'direction="prompt"' in metrics and 'direction="completion"' in metrics


@pytest.mark.anyio
@respx.mock
async def test_a_native_stream_that_breaks_ends_with_the_doors_error_event() -> None:
    listed()

    async def broken() -> Any:
        yield b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\n'
        yield b'event: content_block_delta\ndata: {"type":"conte'
        raise httpx.ReadError("reset")

    respx.post(f"{HOST}/serving-endpoints/anthropic/v1/messages").mock(
        return_value=httpx.Response(200, content=broken(), headers={"content-type": "text/event-stream"})
    )
    async with proxy(native_surfaces=True) as client:
        response = await client.post("/anthropic/v1/messages", json=anthropic(stream=True))
    tail = response.content.split(b"\n\n")[-2]
    assert tail.startswith(b"event: error\ndata: ")
    assert orjson.loads(tail.split(b"data: ", 1)[1])["type"] == "error"


@pytest.mark.anyio
@respx.mock
async def test_an_endpoint_the_native_surface_does_not_serve_is_translated_and_remembered() -> None:
    listed()
    native = respx.post(f"{HOST}/serving-endpoints/anthropic/v1/messages").mock(
        return_value=httpx.Response(
            400, json={"error_code": "BAD_REQUEST", "message": "Anthropic Messages API passthrough is not supported"}
        )
    )
    answer = {**LLAMA_ANSWER, "choices": [{**LLAMA_ANSWER["choices"][0]}]}
    invocations = respx.post(f"{HOST}/serving-endpoints/{SONNET}/invocations").mock(
        return_value=httpx.Response(200, json=answer)
    )
    async with proxy(native_surfaces=True) as client:
        first = await client.post("/anthropic/v1/messages", json=anthropic())
        second = await client.post("/anthropic/v1/messages", json=anthropic())
    assert first.status_code == second.status_code == 200
    assert first.json()["content"] == [{"type": "text", "text": "Hello!"}]
    assert native.call_count == 1 and invocations.call_count == 2


@pytest.mark.anyio
@respx.mock
async def test_a_bad_request_on_the_native_surface_is_the_answer_in_the_doors_envelope() -> None:
    listed()
    respx.post(f"{HOST}/serving-endpoints/anthropic/v1/messages").mock(
        return_value=httpx.Response(
            400,
            json={"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}},
        )
    )
    invocations = respx.post(f"{HOST}/serving-endpoints/{SONNET}/invocations")
    async with proxy(native_surfaces=True) as client:
        response = await client.post("/anthropic/v1/messages", json=anthropic())
    assert response.status_code == 400 and invocations.call_count == 0
    assert response.json()["type"] == "error"
    assert response.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: too large"}


# --------------------------------------------------------------------------------------------- native: Responses


RESPONSE = {
    "id": "resp_0123",
    "object": "response",
    "created_at": 1764900000,
    "status": "completed",
    "model": "gpt-5.2-2025-12-11",
    "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAB-real"},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hi!", "annotations": [], "logprobs": [{"token": "Hi"}]}],
        },
    ],
    "usage": {
        "input_tokens": 9,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 4,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 13,
    },
}


@pytest.mark.anyio
@respx.mock
async def test_gpt_on_the_responses_door_goes_natively_and_the_proxy_keeps_the_state(tmp_path: Any) -> None:
    listed()
    native = respx.post(f"{HOST}/serving-endpoints/responses").mock(
        side_effect=[
            httpx.Response(200, json=RESPONSE),
            httpx.Response(200, json={**RESPONSE, "id": "resp_0456"}),
        ]
    )
    store = f"sqlite:///{tmp_path}/store.db"
    async with proxy(native_surfaces=True, store_url=store) as client:
        first = await client.post(
            "/v1/responses", json={"model": GPT, "input": "Hi", "include": ["message.output_text.logprobs"]}
        )
        second = await client.post(
            "/v1/responses",
            json={
                "model": GPT,
                "previous_response_id": "resp_0123",
                "input": [
                    {"type": "reasoning", "id": "rs_x", "summary": [], "encrypted_content": "dbxr1.W10="},
                    {"role": "user", "content": "Again"},
                ],
            },
        )
        stored = await client.get("/v1/responses/resp_0456")
    assert first.status_code == 200 and first.json() == RESPONSE
    body = sent(native, 0)
    assert body["model"] == GPT and body["store"] is False
    assert body["include"] == ["message.output_text.logprobs", "reasoning.encrypted_content"]
    again = sent(native, 1)
    assert "previous_response_id" not in again
    reasoning = [item for item in again["input"] if item.get("type") == "reasoning"]
    assert [item["encrypted_content"] for item in reasoning] == ["gAAAAB-real"]  # Databricks' own; not the proxy's
    assert len(again["input"]) == 4  # the stored turn (input, reasoning, message) and the new user message
    assert second.status_code == 200 and stored.status_code == 200


# --------------------------------------------------------------------------------------------- native: Gemini


@pytest.mark.anyio
@respx.mock
async def test_gemini_on_the_gemini_door_goes_natively_with_the_endpoint_in_the_path() -> None:
    listed()
    chunk = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4},
    }
    events = b"data: " + orjson.dumps(chunk) + b"\r\n\r\n"
    native = respx.post(f"{HOST}/serving-endpoints/gemini/v1beta/models/{FLASH}:streamGenerateContent").mock(
        return_value=httpx.Response(200, content=events, headers={"content-type": "text/event-stream"})
    )
    request = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    async with proxy(native_surfaces=True) as client:
        response = await client.post(
            "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            json=request,
            headers={"x-goog-api-key": "k"},
        )
    assert response.status_code == 200 and response.content == events
    assert native.calls.last.request.url.query == b"alt=sse"
    assert sent(native) == request


@pytest.mark.anyio
@respx.mock
async def test_a_busy_native_endpoint_is_served_by_its_configured_fallback() -> None:
    listed()
    native = respx.post(f"{HOST}/serving-endpoints/anthropic/v1/messages").mock(
        return_value=httpx.Response(429, json={"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Busy."})
    )
    busy = respx.post(f"{HOST}/serving-endpoints/{SONNET}/invocations").mock(
        return_value=httpx.Response(429, json={"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Busy."})
    )
    fallback = respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    async with proxy(native_surfaces=True, fallbacks=f"{SONNET}={LLAMA}") as client:
        response = await client.post("/anthropic/v1/messages", json=anthropic())
        again = await client.post("/anthropic/v1/messages", json=anthropic())
    assert response.status_code == again.status_code == 200
    assert response.json()["content"] == [{"type": "text", "text": "Hello!"}]
    assert native.call_count == 2  # busy is not "not served": the native API is tried again next time
    assert busy.call_count == 2 and fallback.call_count == 2


def test_refused_beta_flags_are_named_remembered_and_left_out() -> None:
    surfaces = Surfaces(Settings())
    headers = {"anthropic-beta": "a-1,b-2", "anthropic-version": "2023-06-01"}
    refusal = ProxyError("Unexpected value(s) `b-2` for the `anthropic-beta` header.", status=400)
    assert surfaces.betas_refused("e", headers, refusal) == {"anthropic-version": "2023-06-01", "anthropic-beta": "a-1"}
    assert surfaces.without_refused_betas("e", headers) == {"anthropic-version": "2023-06-01", "anthropic-beta": "a-1"}
    assert surfaces.without_refused_betas("other", headers) == headers  # per endpoint
    unnamed = ProxyError("This beta is not available.", status=400)
    assert surfaces.betas_refused("f", headers, unnamed) == {"anthropic-version": "2023-06-01"}
    assert surfaces.betas_refused("g", headers, ProxyError("max_tokens: too large", status=400)) is None
    assert surfaces.betas_refused("g", headers, ProxyError("beta overloaded", status=529)) is None


@pytest.mark.anyio
@respx.mock
async def test_a_token_without_the_gateway_scope_uses_the_serving_endpoints() -> None:
    """An app deployed before it declared the ai-gateway scope keeps working, as it did."""
    listed()
    scope = {
        "error_code": "PERMISSION_DENIED",
        "message": "Provided OAuth token does not have required scopes: ai-gateway",
    }
    gateway = respx.post(GATEWAY_CHAT).mock(return_value=httpx.Response(403, json=scope))
    invocations = respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, json=LLAMA_ANSWER)
    )
    async with proxy(unity_gateway="auto") as client:
        first = await client.post("/v1/chat/completions", json=chat())
        second = await client.post("/v1/chat/completions", json=chat())
        ready = await client.get("/ready")
    assert first.status_code == second.status_code == ready.status_code == 200
    assert gateway.call_count == 1 and invocations.call_count == 2
