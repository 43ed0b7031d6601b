"""What every door shares below its own validation: the body reader, paths and methods, and Databricks answering
garbage."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import HOST, INVOCATIONS, LLAMA, LLAMA_ANSWER, chat, proxy
from tests.unit.test_chat_validation import openai_error

ENCODING_REFUSED = "Unsupported Content-Encoding 'gzip': send the request body uncompressed."


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/chat/completions", openai_error(ENCODING_REFUSED, None, "unsupported_media_type")),
        ("/v1/completions", openai_error(ENCODING_REFUSED, None, "unsupported_media_type")),
        ("/v1/embeddings", openai_error(ENCODING_REFUSED, None, "unsupported_media_type")),
        ("/v1/responses", openai_error(ENCODING_REFUSED, None, "unsupported_media_type")),
        (
            "/anthropic/v1/messages",
            {"type": "error", "error": {"type": "invalid_request_error", "message": ENCODING_REFUSED}},
        ),
    ],
)
async def test_compressed_bodies_are_415_in_the_doors_envelope(path: str, expected: dict[str, Any]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        upstream = mock.post(url__regex=r".*")
        async with proxy() as client:
            response = await client.post(
                path,
                content=gzip.compress(orjson.dumps(chat())),
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
    assert not upstream.called
    assert (response.status_code, response.json()) == (415, expected)


@pytest.mark.anyio
@respx.mock
async def test_identity_encoding_is_plain_json() -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        response = await client.post(
            "/v1/chat/completions",
            content=orjson.dumps(chat()),
            headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
        )
    assert response.status_code == 200


@pytest.mark.anyio
@respx.mock
async def test_a_trailing_slash_is_answered_like_the_route_on_every_door() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    anthropic = {"model": LLAMA, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
    async with proxy() as client:
        answers = {
            path: await client.post(path, json=body)
            for path, body in [
                ("/v1/chat/completions/", chat()),
                ("/api/v1/chat/completions/", chat()),
                ("/v1/responses/", {"model": LLAMA, "input": "Hi"}),
                ("/anthropic/v1/messages/", anthropic),
                ("/api/anthropic/v1/messages/", anthropic),
            ]
        }
        missing = await client.post("/v1/chat/nothing/", json=chat())
        anthropic_missing = await client.post("/anthropic/v1/nothing/", json=anthropic)
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["/v1/chat/completions/"].json()["choices"][0]["message"]["content"] == "Hello!"
    assert answers["/v1/responses/"].json()["output"][0]["content"][0]["text"] == "Hello!"
    assert answers["/anthropic/v1/messages/"].json()["content"] == [{"type": "text", "text": "Hello!"}]
    assert route.call_count == 5
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "message": "Unknown route: POST /v1/chat/nothing.",
            "type": "not_found_error",
            "param": None,
            "code": "unknown_route",
        }
    }
    assert anthropic_missing.status_code == 404
    assert anthropic_missing.json() == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "Unknown route: POST /anthropic/v1/nothing."},
    }


@pytest.mark.anyio
@respx.mock
async def test_the_other_routes_ignore_a_trailing_slash_too() -> None:
    respx.post(f"{HOST}/serving-endpoints/databricks-gte-large-en/invocations").mock(
        return_value=httpx.Response(
            200, json={"data": [{"index": 0, "embedding": [0.5]}], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
        )
    )
    respx.post(INVOCATIONS).mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "c1",
                "object": "text_completion",
                "created": 1,
                "model": LLAMA,
                "choices": [{"index": 0, "text": "Hi", "finish_reason": "stop"}],
            },
        )
    )
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json={"endpoints": [{"name": LLAMA, "task": "llm/v1/chat"}]})
    )
    async with proxy() as client:
        embeddings = await client.post("/v1/embeddings/", json={"model": "databricks-gte-large-en", "input": "a"})
        completions = await client.post("/v1/completions/", json={"model": LLAMA, "prompt": "a"})
        models = await client.get("/v1/models/")
        anthropic_models = await client.get("/anthropic/v1/models/")
        health = await client.get("/health/")
    assert embeddings.status_code == 200 and embeddings.json()["data"][0]["embedding"] == [0.5]
    assert completions.status_code == 200 and completions.json()["choices"][0]["text"] == "Hi"
    assert models.status_code == 200 and [m["id"] for m in models.json()["data"]] == [LLAMA]
    assert anthropic_models.status_code == 200 and [m["id"] for m in anthropic_models.json()["data"]] == [LLAMA]
    assert health.status_code == 200 and health.json()["status"] == "ok"


@pytest.mark.anyio
@respx.mock
async def test_head_is_answered_wherever_get_is() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(200, json={"endpoints": [{"name": LLAMA, "task": "llm/v1/chat"}]})
    )
    async with proxy() as client:
        for path in ("/health", "/v1/models", "/api/v1/models", "/anthropic/v1/models"):
            got, head = await client.get(path), await client.head(path)
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == got.headers["content-length"], path
        post_only = await client.head("/v1/chat/completions")
    assert (post_only.status_code, post_only.content, post_only.headers["allow"]) == (405, b"", "POST")


@pytest.mark.anyio
@respx.mock
async def test_an_upstream_answer_that_is_not_json_is_an_invalid_response_not_unreachable() -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, content=b"<html>oops</html>"))
    async with proxy() as client:
        response = await client.post("/v1/chat/completions", json=chat())
    assert response.status_code == 502
    assert response.json() == {
        "error": {
            "message": "Databricks answered with a body that is not a JSON object.",
            "type": "api_error",
            "param": None,
            "code": "upstream_invalid_response",
        }
    }
