"""The Gemini door in-process (ASGI transport), Databricks mocked with respx: exact wire in and out."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import HOST, proxy

FLASH = "databricks-gemini-2-5-flash"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
ENDPOINTS = {
    "endpoints": [
        {"name": name, "task": "llm/v1/chat", "creation_timestamp": 1718236800000}
        for name in (FLASH, "databricks-gemini-2-5-pro", LLAMA)
    ]
}
ANSWER = {
    "id": "chatcmpl-9",
    "object": "chat.completion",
    "model": "gemini-2.5-flash",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
}
BODY = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(getattr(record, "fields", {"message": record.getMessage()}))


@pytest.mark.anyio
@respx.mock
async def test_gemini_id_maps_to_the_endpoint_and_answers_in_gemini_shape() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    route = respx.post(f"{HOST}/serving-endpoints/{FLASH}/invocations").mock(
        return_value=httpx.Response(200, json=ANSWER)
    )
    async with proxy(send_usage_context=False) as client:
        response = await client.post(
            "/api/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            json={**BODY, "generationConfig": {"maxOutputTokens": 9}},
        )
    assert response.status_code == 200
    assert response.json() == {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hi!"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "chatcmpl-9",
    }
    assert orjson.loads(route.calls.last.request.content) == {
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 9,
    }


@pytest.mark.anyio
@respx.mock
async def test_sse_stream_ends_with_finish_reason_and_usage() -> None:
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {"id": "c", "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
        {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
    ]
    sse = "".join(f"data: {orjson.dumps(c).decode()}\n\n" for c in chunks) + "data: [DONE]\n\n"
    respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
    )
    async with proxy() as client:
        response = await client.post(f"/gemini/v1beta/models/models/{LLAMA}:streamGenerateContent?alt=sse", json=BODY)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [orjson.loads(line[6:]) for line in response.text.split("\r\n\r\n") if line.startswith("data: ")]
    assert [e["candidates"][0]["content"]["parts"] for e in events] == [
        [{"text": "Hel"}],
        [{"text": "lo"}],
        [{"text": ""}],
    ]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"] == {"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3}


@pytest.mark.anyio
@respx.mock
async def test_keys_from_goog_header_query_or_bearer_and_the_query_key_is_never_logged() -> None:
    respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(return_value=httpx.Response(200, json=ANSWER))
    access = logging.getLogger("proxy.access")
    lines = Lines()
    access.addHandler(lines)
    level = access.level
    access.setLevel(logging.INFO)
    path = f"/api/gemini/v1beta/models/{LLAMA}:generateContent"
    try:
        async with proxy(api_keys="ci:k-secret-1") as client:
            by_header = await client.post(path, json=BODY, headers={"x-goog-api-key": "k-secret-1"})
            by_query = await client.post(path + "?key=k-secret-1", json=BODY)
            by_bearer = await client.post(path, json=BODY, headers={"Authorization": "Bearer k-secret-1"})
            wrong = await client.post(path + "?key=nope", json=BODY)
            elsewhere = await client.post("/v1/chat/completions?key=k-secret-1", json={"model": LLAMA})
    finally:
        access.removeHandler(lines)
        access.setLevel(level)
    assert [r.status_code for r in (by_header, by_query, by_bearer)] == [200, 200, 200]
    assert wrong.status_code == 401
    assert wrong.json()["error"]["status"] == "UNAUTHENTICATED" and wrong.json()["error"]["code"] == 401
    assert elsewhere.status_code == 401  # ?key= is the Gemini door's alone
    assert [line["caller"] for line in lines.lines[:3]] == ["ci", "ci", "ci"]
    assert "k-secret-1" not in orjson.dumps(lines.lines).decode()


@pytest.mark.anyio
@respx.mock
async def test_not_found_invalid_and_count_tokens() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json={"endpoints": ENDPOINTS["endpoints"][2:]})
    )
    async with proxy() as client:
        unknown = await client.post("/api/gemini/v1beta/models/gemini-2.5-pro:generateContent", json=BODY)
        method = await client.post(f"/api/gemini/v1beta/models/{LLAMA}:embedContent", json=BODY)
        invalid = await client.post(f"/api/gemini/v1beta/models/{LLAMA}:generateContent", json={"contents": "x"})
        cached = await client.post(
            f"/api/gemini/v1beta/models/{LLAMA}:generateContent", json={**BODY, "cachedContent": "cachedContents/a"}
        )
        counted = await client.post(f"/gemini/v1/models/{LLAMA}:countTokens", json={"contents": BODY["contents"]})
        listed = await client.get("/api/gemini/v1beta/models")
        one = await client.get(f"/api/gemini/v1beta/models/{LLAMA}")
        missing = await client.get("/api/gemini/v1beta/models/nothing")
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    assert "GET /api/gemini/v1beta/models lists" in unknown.json()["error"]["message"]
    assert method.status_code == 404 and method.json()["error"]["status"] == "NOT_FOUND"
    assert invalid.status_code == 400
    assert invalid.json()["error"] == {
        "code": 400,
        "message": "Invalid JSON payload received. contents: Input should be a valid list",
        "status": "INVALID_ARGUMENT",
    }
    assert cached.status_code == 400 and "cachedContent" in cached.json()["error"]["message"]
    assert counted.json() == {"totalTokens": 1}
    assert [m["name"] for m in listed.json()["models"]] == [f"models/{LLAMA}"]
    assert one.json()["supportedGenerationMethods"] == ["generateContent", "streamGenerateContent", "countTokens"]
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
