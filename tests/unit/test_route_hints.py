"""A wrong base URL gets a 404 that names the route it meant."""

from __future__ import annotations

import httpx
import pytest

from app import create_app
from services.settings import Settings


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "meant"),
    [
        ("POST", "/api/chat/completions", "POST /api/v1/chat/completions or /v1/chat/completions?"),
        ("POST", "/v1/v1/chat/completions", "POST /v1/chat/completions or /api/v1/chat/completions?"),
        ("POST", "/api/v1/v1/responses", "POST /api/v1/responses or /v1/responses?"),
        ("POST", "/anthropic/v1/v1/messages", "POST /anthropic/v1/messages or /api/anthropic/v1/messages?"),
        ("POST", "/api/messages", "POST /api/anthropic/v1/messages or /anthropic/v1/messages?"),
        ("POST", "/chat/completions", "POST /v1/chat/completions or /api/v1/chat/completions?"),
    ],
)
async def test_wrong_base_urls_are_told_the_route_they_meant(method: str, path: str, meant: str) -> None:
    app = create_app(Settings(log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy") as client:
        response = await client.request(method, path, json={})
    assert response.status_code == 404
    body = response.json()
    message = body["error"]["message"]
    assert message.startswith(f"Unknown route: {method} {path}. Did you mean {meant}"), message


@pytest.mark.anyio
async def test_a_path_like_no_route_gets_no_guess() -> None:
    app = create_app(Settings(log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy") as client:
        response = await client.post("/nothing/here", json={})
    assert response.json()["error"]["message"] == "Unknown route: POST /nothing/here."
