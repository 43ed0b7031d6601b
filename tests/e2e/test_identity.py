"""Each upstream identity path, end to end: PAT, OAuth M2M with refresh, acting for the user, API keys."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

USER_TOKEN = "user-oauth-token-forwarded-by-apps-42"
CLIENT_ID = "app-service-principal-id"
CLIENT_SECRET = "app-sp-secret-do-not-log-9876"
CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "who am i"}]}


@pytest.fixture(scope="module")
def oauth_emulator() -> Iterator[Emulator]:
    # 45 s tokens: databricks-sdk treats a token as expired 40 s before its end, so it refreshes every ~5 s.
    emu = Emulator(
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--token-ttl", "45", "--token", USER_TOKEN
    )
    yield emu
    emu.stop()


def test_m2m_tokens_refresh_without_stalling_requests(oauth_emulator: Emulator) -> None:
    proxy = Proxy(
        {
            "DATABRICKS_HOST": oauth_emulator.url,
            "DATABRICKS_CLIENT_ID": CLIENT_ID,
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
            "PROXY_CREDENTIAL_REFRESH_SECONDS": "0.5",
        }
    )
    try:
        assert "(auth: oauth-m2m)" in proxy.wait_for_output("(auth: oauth-m2m)")
        issued_at_start = oauth_emulator.stats()["tokens_issued"]
        assert issued_at_start >= 1
        latencies: list[float] = []
        statuses: list[int] = []

        def call() -> None:
            started = time.perf_counter()
            response = httpx.post(f"{proxy.url}/v1/chat/completions", json=CHAT, timeout=10)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)

        deadline = time.monotonic() + 12
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while time.monotonic() < deadline:
                list(pool.map(lambda _: call(), range(8)))
                time.sleep(0.05)
        issued = oauth_emulator.stats()["tokens_issued"] - issued_at_start
        assert issued >= 1, "the token was never refreshed"
        assert set(statuses) == {200}
        assert max(latencies) < 2.0, "a request waited on a token refresh"
        authorization = oauth_emulator.stats()["last_request"]["authorization"]
        assert authorization.startswith("Bearer emu-")
        assert CLIENT_SECRET not in proxy.output()
    finally:
        proxy.stop()


def test_acting_for_the_user(oauth_emulator: Emulator) -> None:
    env = {
        "DATABRICKS_HOST": oauth_emulator.url,
        "DATABRICKS_CLIENT_ID": CLIENT_ID,
        "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
    }
    headers = {"X-Forwarded-Access-Token": USER_TOKEN, "X-Forwarded-Email": "ada@example.com"}
    # The Databricks Apps runtime sets these; only behind its gateway are the X-Forwarded-* headers believed.
    apps = {"DATABRICKS_APP_NAME": "openai-proxy", "DATABRICKS_APP_PORT": "8000"}
    on = Proxy({**env, **apps})
    try:
        response = httpx.post(f"{on.url}/api/v1/chat/completions", json=CHAT, headers=headers, timeout=10)
        assert response.status_code == 200
        assert oauth_emulator.stats()["last_request"]["authorization"] == f"Bearer {USER_TOKEN}"
        models = httpx.get(f"{on.url}/api/v1/models", headers=headers, timeout=10)
        assert models.status_code == 200
        assert oauth_emulator.stats()["last_request"]["authorization"] == f"Bearer {USER_TOKEN}"
        httpx.post(f"{on.url}/api/v1/chat/completions", json=CHAT, timeout=10)
        assert oauth_emulator.stats()["last_request"]["authorization"].startswith("Bearer emu-")
        assert USER_TOKEN not in on.output()
    finally:
        on.stop()
    for settings in ({**apps, "PROXY_FORWARD_USER_TOKEN": "false"}, {}):  # acting for the user off; no gateway
        off = Proxy({**env, **settings})
        try:
            response = httpx.post(f"{off.url}/api/v1/chat/completions", json=CHAT, headers=headers, timeout=10)
            assert response.status_code == 200
            assert oauth_emulator.stats()["last_request"]["authorization"].startswith("Bearer emu-")
        finally:
            off.stop()


def test_api_keys(emulator: Emulator) -> None:
    proxy = Proxy(
        {"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_API_KEYS": "team-a:sk-aaa,sk-bbb"}
    )
    try:
        for key in ("sk-aaa", "sk-bbb"):
            client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=key, max_retries=0)
            assert client.chat.completions.create(**CHAT).choices[0].message.content  # type: ignore[call-overload]
            assert emulator.stats()["last_request"]["authorization"] == f"Bearer {E2E_TOKEN}"
        for key in ("wrong", "sk-aa", ""):
            client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=key or "x", max_retries=0)
            with pytest.raises(openai.AuthenticationError) as caught:
                client.models.list()
            assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "authentication_error"
        assert httpx.get(f"{proxy.url}/health", timeout=5).status_code == 200
        forged = {"X-Forwarded-Email": "someone-else@example.com", "X-Forwarded-Access-Token": "guessed"}
        response = httpx.post(
            f"{proxy.url}/v1/chat/completions",
            json={**CHAT, "usage_context": {"end_user": "bob"}},
            headers={**forged, "Authorization": "Bearer sk-aaa", "X-Request-Id": "forged-1"},
            timeout=10,
        )
        assert response.status_code == 200
        last = emulator.stats()["last_request"]
        assert last["authorization"] == f"Bearer {E2E_TOKEN}"
        assert last["body"]["usage_context"] == {"end_user": "team-a"}
        output = proxy.wait_for_output('"forged-1"')
        assert "sk-aaa" not in output and "sk-bbb" not in output
        assert "someone-else" not in output
        forged_line = next(json.loads(line) for line in output.splitlines() if '"forged-1"' in line)
        assert forged_line["caller"] == "team-a"
    finally:
        proxy.stop()


def test_wrong_credentials_fail_start_up_with_a_clear_message(emulator: Emulator) -> None:
    with pytest.raises(RuntimeError) as caught:
        Proxy(
            {
                "DATABRICKS_HOST": emulator.url,
                "DATABRICKS_CLIENT_ID": "nobody",
                "DATABRICKS_CLIENT_SECRET": "wrong-secret-value",
                "PROXY_STARTUP_TIMEOUT": "5",
            }
        )
    message = str(caught.value)
    assert "credentials" in message.lower()
    assert "wrong-secret-value" not in message
