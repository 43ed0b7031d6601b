"""The identity trust boundary: forged gateway headers and body attribution change nothing outside the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx

from tests.unit.test_app import INVOCATIONS, LLAMA_ANSWER, TOKEN, chat, proxy

FORGED = {
    "X-Forwarded-Email": "someone-else@example.com",
    "X-Forwarded-User": "someone-else",
    "X-Forwarded-Access-Token": "guessed-token",
}
KEY = {"Authorization": "Bearer sk-team-a"}
BEHIND_APPS = {"databricks_app_name": "openai-proxy", "databricks_app_port": 8000}


def sent(route: respx.Route) -> tuple[str, dict[str, Any]]:
    request = route.calls.last.request
    return request.headers["authorization"], orjson.loads(request.content)


@pytest.mark.anyio
@respx.mock
async def test_outside_the_gateway_forged_headers_and_body_change_nothing() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    body = chat(usage_context={"end_user": "bob", "project": "p1"}, client_request_id="mine")
    async with proxy(api_keys="team-a:sk-team-a") as client:
        response = await client.post(
            "/v1/chat/completions", json=body, headers={**FORGED, **KEY, "X-Request-Id": "r-1"}
        )
    assert response.status_code == 200
    authorization, upstream = sent(route)
    assert authorization == f"Bearer {TOKEN}"  # the proxy's credential, not the forged token
    assert upstream["usage_context"] == {"end_user": "team-a"}  # only the key Databricks documents
    assert upstream["client_request_id"] == response.headers["x-request-id"] != "r-1"


@pytest.mark.anyio
@respx.mock
async def test_without_keys_or_gateway_no_one_is_named_upstream() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        bad_token = {**FORGED, "X-Forwarded-Access-Token": "caf\u00e9".encode()}
        response = await client.post(
            "/v1/chat/completions", json=chat(usage_context={"end_user": "bob"}), headers=bad_token
        )
    assert response.status_code == 200  # an untrusted header is ignored, whatever it holds
    authorization, upstream = sent(route)
    assert authorization == f"Bearer {TOKEN}"
    assert "usage_context" not in upstream


@pytest.mark.anyio
@respx.mock
async def test_behind_the_apps_gateway_its_headers_are_the_caller_and_bounded() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    long_email = "a" * 5000 + "@example.com"
    async with proxy(**BEHIND_APPS) as client:
        headers = {"X-Forwarded-Email": long_email, "X-Forwarded-Access-Token": "user-token"}
        response = await client.post(
            "/api/v1/chat/completions", json=chat(usage_context={"end_user": "bob"}), headers=headers
        )
    assert response.status_code == 200
    authorization, upstream = sent(route)
    assert authorization == "Bearer user-token"
    assert upstream["usage_context"] == {"end_user": "a" * 256}


@pytest.mark.anyio
@respx.mock
async def test_an_explicit_setting_trusts_another_gateway_and_can_refuse_the_apps_one() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy(trust_forwarded_identity=True) as client:
        await client.post("/v1/chat/completions", json=chat(), headers={"X-Forwarded-Preferred-Username": "ada"})
    assert sent(route)[1]["usage_context"] == {"end_user": "ada"}
    async with proxy(trust_forwarded_identity=False, **BEHIND_APPS) as client:
        await client.post("/v1/chat/completions", json=chat(), headers=FORGED)
    authorization, upstream = sent(route)
    assert authorization == f"Bearer {TOKEN}" and "usage_context" not in upstream


@pytest.mark.anyio
@respx.mock
@pytest.mark.parametrize(("method", "path"), [("POST", "/api/v1/chat/completions"), ("GET", "/api/v1/models")])
async def test_a_trusted_token_that_is_not_ascii_is_a_400(method: str, path: str) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    token = "t\u00f6ken".encode()
    async with proxy(**BEHIND_APPS) as client:
        response = await client.request(
            method, path, json=chat() if method == "POST" else None, headers={"X-Forwarded-Access-Token": token}
        )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "The X-Forwarded-Access-Token header is not a valid token: "
            "expected 1 to 16384 visible ASCII characters.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_forwarded_token",
        }
    }
    assert not route.called


@pytest.mark.anyio
@respx.mock
async def test_behind_the_gateway_its_request_id_is_the_proxys_and_goes_upstream() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    body = chat(usage_context={"project": "p1"})
    async with proxy(**BEHIND_APPS) as client:
        response = await client.post("/v1/chat/completions", json=body, headers={**FORGED, "X-Request-Id": "gw-7"})
    assert response.headers["x-request-id"] == "gw-7"
    _, upstream = sent(route)
    assert upstream["client_request_id"] == "gw-7"
    assert upstream["usage_context"] == {"end_user": FORGED["X-Forwarded-Email"]}
