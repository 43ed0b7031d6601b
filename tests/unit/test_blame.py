"""Clear blame: non-JSON bodies are 415, the proxy's own rejected credential is the proxy's fault, /health says little."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from tests.unit.test_app import HOST, INVOCATIONS, LLAMA_ANSWER, chat, proxy

REFUSED = {"error_code": "UNAUTHENTICATED", "message": "Credential was not sent or was of an unsupported type."}


@pytest.mark.anyio
@respx.mock
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_bodies_that_are_not_json_are_415(content_type: str | None) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    headers = {"Content-Type": content_type} if content_type else {}
    async with proxy() as client:
        response = await client.post("/v1/chat/completions", content=b'{"model": "m", "messages": []}', headers=headers)
    shown = f"'{content_type}'" if content_type else "none"
    assert response.status_code == 415
    assert response.json() == {
        "error": {
            "message": f"Unsupported Content-Type {shown}: send the request body as 'application/json'.",
            "type": "invalid_request_error",
            "param": None,
            "code": "unsupported_media_type",
        }
    }
    assert not route.called


@pytest.mark.anyio
@respx.mock
async def test_json_with_parameters_or_a_json_suffix_is_accepted() -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        for content_type in ("application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"):
            response = await client.post(
                "/v1/chat/completions",
                content=httpx.Request("POST", "/", json=chat()).content,
                headers={"Content-Type": content_type},
            )
            assert response.status_code == 200, content_type


@pytest.mark.anyio
@respx.mock
@pytest.mark.parametrize("status", [401, 403])
async def test_databricks_refusing_the_proxys_credential_is_a_502_naming_it(status: int) -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(status, json=REFUSED))
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(status, json=REFUSED))
    async with proxy(api_keys="team-a:sk-a") as client:
        answers = [
            await client.post("/v1/chat/completions", json=chat(), headers={"Authorization": "Bearer sk-a"}),
            await client.get("/v1/models", headers={"Authorization": "Bearer sk-a"}),
        ]
    for response in answers:
        assert response.status_code == 502
        assert response.json() == {
            "error": {
                "message": f"Databricks refused the proxy's workspace credential (HTTP {status}: "
                "Credential was not sent or was of an unsupported type). The proxy's configuration needs fixing "
                "(DATABRICKS_TOKEN, the client credentials, or the permissions of the app's service principal), "
                "not the caller's API key.",
                "type": "api_error",
                "param": None,
                "code": "upstream_credential_rejected",
            }
        }


@pytest.mark.anyio
@respx.mock
async def test_databricks_refusing_the_callers_own_token_stays_the_callers_401() -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(401, json=REFUSED))
    async with proxy(trust_forwarded_identity=True) as client:
        response = await client.post(
            "/api/v1/chat/completions", json=chat(), headers={"X-Forwarded-Access-Token": "expired-user-token"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


@pytest.mark.anyio
async def test_health_tells_a_probe_only_what_it_needs() -> None:
    async with proxy() as client:
        response = await client.get("/health")
    assert response.json() == {
        "status": "ok",
        "upstream": "databricks",
        "surfaces": {
            "unity_gateway": "off (PROXY_UNITY_GATEWAY=off)",
            "native": {door: "off (PROXY_NATIVE_SURFACES=false)" for door in ("anthropic", "responses", "gemini")},
        },
    }
    assert HOST not in response.text


@pytest.mark.anyio
async def test_an_open_api_is_warned_about_at_start(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("proxy.lifecycle")  # the "proxy" handlers are replaced by each app
    logger.addHandler(caplog.handler)
    try:
        for settings, warned in (({}, True), ({"api_keys": "k"}, False), ({"trust_forwarded_identity": True}, False)):
            caplog.clear()
            async with proxy(**settings):
                pass
            assert any("the API is open" in r.getMessage() for r in caplog.records) is warned, settings
    finally:
        logger.removeHandler(caplog.handler)


@pytest.mark.anyio
@respx.mock
async def test_a_body_that_does_not_arrive_in_time_is_a_408() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"model": "m", '
        await asyncio.sleep(5)  # a client that stops sending half-way
        yield b'"messages": []}'

    async with proxy(body_timeout=0.2) as client:
        response = await client.post(
            "/v1/chat/completions", content=trickle(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 408
    assert response.json() == {
        "error": {
            "message": "The request body did not arrive within 0.2 seconds.",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_timeout",
        }
    }
    assert not route.called
