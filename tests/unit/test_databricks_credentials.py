"""Upstream credentials: a cached header, bounded start, background refresh, the PAT shortcut, acting for users."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.databricks.credentials import (
    CredentialError,
    UpstreamCredentials,
    normalize_host,
    resolve_credentials,
    user_authorization,
)
from services.settings import Settings


@pytest.mark.anyio
async def test_static_credentials() -> None:
    credentials = UpstreamCredentials.static("https://h/", "tok")
    assert not credentials.ready
    with pytest.raises(CredentialError):
        credentials.header()
    await credentials.start(1)
    assert (credentials.header(), credentials.host, credentials.ready) == ("Bearer tok", "https://h", True)
    await credentials.close()


@pytest.mark.anyio
async def test_start_is_bounded_in_time() -> None:
    def slow() -> dict[str, str]:
        time.sleep(0.5)
        return {"Authorization": "Bearer late"}

    credentials = UpstreamCredentials(slow, host="https://h", auth_type="oauth", refresh_seconds=60, refresh=False)
    with pytest.raises(CredentialError, match="longer than"):
        await credentials.start(0.05)


@pytest.mark.anyio
async def test_no_header_is_an_error() -> None:
    credentials = UpstreamCredentials(lambda: {}, host="https://h", auth_type="x", refresh_seconds=60)
    with pytest.raises(CredentialError, match="no Authorization"):
        await credentials.start(1)


@pytest.mark.anyio
async def test_the_header_is_refreshed_in_the_background_and_failures_are_counted() -> None:
    tokens = iter(["Bearer 1", "Bearer 2", None, "Bearer 3"])
    loop = asyncio.get_running_loop()
    last = asyncio.Event()

    def authenticate() -> dict[str, str]:
        value = next(tokens)
        if value is None:
            raise RuntimeError("network")
        if value == "Bearer 3":
            loop.call_soon_threadsafe(last.set)
        return {"Authorization": value}

    credentials = UpstreamCredentials(authenticate, host="https://h", auth_type="oauth-m2m", refresh_seconds=0.01)
    await credentials.start(1)
    await asyncio.wait_for(last.wait(), 5)
    for _ in range(500):  # the refresh task stores the header once authenticate has returned
        if credentials.header() == "Bearer 3":
            break
        await asyncio.sleep(0.01)
    assert credentials.header() == "Bearer 3"
    assert credentials.refresh_failures == 1
    await credentials.close()


@pytest.mark.anyio
async def test_a_pat_with_a_host_skips_the_sdk() -> None:
    settings = Settings(databricks_host="dbc-1.cloud.databricks.com", databricks_token="dapi-x")
    credentials = await resolve_credentials(settings)
    assert (credentials.host, credentials.auth_type, credentials.header()) == (
        "https://dbc-1.cloud.databricks.com",
        "pat",
        "Bearer dapi-x",
    )


def test_normalize_host_and_user_authorization() -> None:
    assert normalize_host(" dbc-1.cloud.databricks.com/ ") == "https://dbc-1.cloud.databricks.com"
    assert normalize_host("http://localhost:8081") == "http://localhost:8081"
    assert user_authorization(" user-token ", True) == "Bearer user-token"
    assert user_authorization("user-token", False) is None
    assert user_authorization(None, True) is None
