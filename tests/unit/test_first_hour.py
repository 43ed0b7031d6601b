"""What a newcomer runs into in the first hour: wrong model names, base URLs without /v1, the wrong method, the
wrong route for a model. Each answer says what to do instead, in the OpenAI envelope."""

from __future__ import annotations

import httpx
import pytest
import respx

from services.databricks.catalog import nearest_names
from tests.unit.test_app import proxy

HOST = "https://dbc-unit.cloud.databricks.com"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
MPT = "databricks-mpt-7b-instruct"
ENDPOINTS = {
    "endpoints": [
        {"name": LLAMA, "task": "llm/v1/chat"},
        {"name": "databricks-meta-llama-3-1-8b-instruct", "task": "llm/v1/chat"},
        {"name": MPT, "task": "llm/v1/completions"},
        {"name": "databricks-bge-large-en", "task": "llm/v1/embeddings"},
    ]
}


def test_nearest_names_prefers_names_containing_the_typed_one() -> None:
    names = [LLAMA, "databricks-meta-llama-3-1-8b-instruct", MPT, "databricks-bge-large-en"]
    assert nearest_names("llama-3", names) == ["databricks-meta-llama-3-1-8b-instruct", LLAMA]
    assert nearest_names("databricks-bge-larg-en", names) == ["databricks-bge-large-en"]
    assert nearest_names("gpt-4o", names) == []


@pytest.mark.anyio
@respx.mock
async def test_a_model_databricks_does_not_know_is_model_not_found_with_the_list_and_the_nearest_names() -> None:
    invocation = respx.post(f"{HOST}/serving-endpoints/llama-3/invocations").mock(
        return_value=httpx.Response(
            404,
            json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Endpoint with name 'llama-3' does not exist."},
        )
    )
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    body = {"model": "llama-3", "messages": [{"role": "user", "content": "hi"}]}
    async with proxy() as client:
        plain = await client.post("/v1/chat/completions", json=body)
        streamed = await client.post("/v1/chat/completions", json={**body, "stream": True})
    assert invocation.call_count == 2
    expected = {
        "error": {
            "message": "The model 'llama-3' does not exist or you do not have access to it. GET /v1/models lists "
            "the models you can use. Did you mean 'databricks-meta-llama-3-1-8b-instruct' or "
            f"'{LLAMA}'?",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert plain.status_code == 404 and plain.json() == expected
    assert streamed.status_code == 404 and streamed.json() == expected


@pytest.mark.anyio
async def test_a_model_outside_the_allow_list_points_to_the_list_and_the_nearest_allowed_name() -> None:
    async with proxy(allowed_models=(LLAMA,), model_aliases={"gpt-4o": LLAMA}) as client:
        response = await client.post(
            "/v1/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}
        )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "The model 'gpt-4' does not exist or you do not have access to it. GET /v1/models lists the models you "
        "can use. Did you mean 'gpt-4o'?"
    )


@pytest.mark.anyio
async def test_a_route_without_its_v1_prefix_gets_a_hint() -> None:
    async with proxy() as client:
        missing_prefix = await client.post("/chat/completions", json={})
        unknown = await client.post("/v1/chat/complete", json={})
    assert missing_prefix.status_code == 404
    assert missing_prefix.json() == {
        "error": {
            "message": "Unknown route: POST /chat/completions. Did you mean POST /v1/chat/completions or "
            "/api/v1/chat/completions? The base URL of an OpenAI client ends in /v1 (/api/v1 behind Databricks "
            "Apps); Anthropic clients use /anthropic (/api/anthropic).",
            "type": "not_found_error",
            "param": None,
            "code": "unknown_route",
        }
    }
    assert unknown.json()["error"]["message"] == "Unknown route: POST /v1/chat/complete."


@pytest.mark.anyio
async def test_the_wrong_method_is_405_in_the_openai_envelope_with_allow() -> None:
    async with proxy() as client:
        response = await client.get("/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "error": {
            "message": "GET is not allowed on /v1/chat/completions: use POST.",
            "type": "invalid_request_error",
            "param": None,
            "code": "method_not_allowed",
        }
    }


@pytest.mark.anyio
@respx.mock
async def test_legacy_completions_sent_to_a_chat_model_say_it_is_a_chat_model() -> None:
    respx.post(f"{HOST}/serving-endpoints/{LLAMA}/invocations").mock(
        return_value=httpx.Response(
            400, json={"error_code": "BAD_REQUEST", "message": 'Bad request: json: unknown field "prompt"\n'}
        )
    )
    respx.post(f"{HOST}/serving-endpoints/{MPT}/invocations").mock(
        return_value=httpx.Response(
            400, json={"error_code": "BAD_REQUEST", "message": 'Bad request: json: unknown field "messages"\n'}
        )
    )
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    async with proxy() as client:
        completions = await client.post("/v1/completions", json={"model": LLAMA, "prompt": "Say hi"})
        chat = await client.post(
            "/v1/chat/completions", json={"model": MPT, "messages": [{"role": "user", "content": "hi"}]}
        )
    assert completions.status_code == 400
    assert completions.json() == {
        "error": {
            "message": f"'{LLAMA}' is a chat model (Databricks task llm/v1/chat): send it to POST "
            '/v1/chat/completions with messages. Databricks said: json: unknown field "prompt"',
            "type": "invalid_request_error",
            "param": "model",
            "code": "wrong_endpoint_for_model",
        }
    }
    assert chat.status_code == 400
    assert chat.json()["error"]["message"].startswith(
        f"'{MPT}' is a completions model (Databricks task llm/v1/completions): send it to POST /v1/completions"
    )
