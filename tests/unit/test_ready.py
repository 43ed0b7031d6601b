"""``/ready`` tells the truth about the proxy's own credential, without an upstream call per probe."""

from __future__ import annotations

import httpx
import pytest
import respx

from tests.unit.test_app import HOST, INVOCATIONS, LLAMA_ANSWER, chat, proxy

LISTING = f"{HOST}/api/2.0/serving-endpoints"
REFUSED = {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}


@pytest.mark.anyio
@respx.mock
async def test_a_refused_credential_is_not_ready_even_after_a_request() -> None:
    listing = respx.get(LISTING).mock(return_value=httpx.Response(401, json=REFUSED))
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(401, json=REFUSED))
    async with proxy() as client:
        first = await client.get("/ready")
        assert first.status_code == 503
        assert "refused the proxy's workspace credential" in first.json()["error"]["message"]
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 502
        for _ in range(5):
            again = await client.get("/ready")
            assert again.status_code == 503
            assert again.json()["error"]["code"] == "not_ready"
            assert "Invalid access token" in again.json()["error"]["message"]
    assert listing.call_count == 1  # the verdict is remembered, not asked again per probe


@pytest.mark.anyio
@respx.mock
async def test_an_accepted_credential_is_ready_and_traffic_keeps_it_fresh() -> None:
    listing = respx.get(LISTING).mock(return_value=httpx.Response(200, json={"endpoints": []}))
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    async with proxy() as client:
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
        for _ in range(5):
            assert (await client.get("/ready")).json()["status"] == "ready"
    assert listing.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_an_unreachable_databricks_is_not_ready() -> None:
    respx.get(LISTING).mock(side_effect=httpx.ConnectError("refused"))
    async with proxy() as client:
        answer = await client.get("/ready")
        assert answer.status_code == 503
        assert "not answering" in answer.json()["error"]["message"]
