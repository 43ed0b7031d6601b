"""Request ids, the per-request log line, and /metrics counts that match the traffic."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import BGE, LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

USER_TOKEN = "forwarded-user-token-should-never-be-logged"


@pytest.fixture(scope="module")
def observed(emulator: Emulator) -> Iterator[Proxy]:
    proxy = Proxy(
        {
            "DATABRICKS_HOST": emulator.url,
            "DATABRICKS_TOKEN": E2E_TOKEN,
            "PROXY_FORWARD_USER_TOKEN": "false",
            "PROXY_METRICS_BY_CALLER": "true",
            # A gateway in front sets the identity headers (as the Databricks Apps gateway does).
            "PROXY_TRUST_FORWARDED_IDENTITY": "true",
        }
    )
    yield proxy
    proxy.stop()


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_match_the_requests_made(observed: Proxy) -> None:
    chat = {"model": LLAMA, "messages": [{"role": "user", "content": "count me"}]}
    headers = {"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Access-Token": USER_TOKEN}
    with httpx.Client(base_url=observed.url, timeout=10, headers=headers) as http:
        for _ in range(3):
            assert http.post("/v1/chat/completions", json=chat).status_code == 200
        with http.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as response:
            assert response.status_code == 200
            response.read()
        assert http.post("/v1/embeddings", json={"model": BGE, "input": "x"}).status_code == 200
        for _ in range(2):
            assert http.post("/v1/chat/completions", json={**chat, "model": "fault-status-429"}).status_code == 429
        assert http.post("/v1/chat/completions", json={**chat, "temperature": 9}).status_code == 400
        text = http.get("/metrics").text
    assert _metric(text, "proxy_requests_total", route="chat/completions", model=LLAMA, status_class="2xx") == 4
    assert _metric(text, "proxy_requests_total", route="embeddings", model=BGE, status_class="2xx") == 1
    assert (
        # an endpoint that never answered successfully (nor is listed or configured) is no label of its own
        _metric(text, "proxy_requests_total", route="chat/completions", model="other", status_class="4xx") == 2
    )
    assert _metric(text, "proxy_requests_total", route="chat/completions", model="none", status_class="4xx") == 1
    assert _metric(text, "proxy_tokens_total", model=LLAMA, direction="completion", caller="ada@example.com") == 4 * 3
    assert _metric(text, "proxy_request_duration_seconds_count", route="chat/completions", model=LLAMA) == 4
    assert _metric(text, "proxy_errors_total", type="rate_limit_error") == 2
    assert _metric(text, "proxy_open_streams") == 0
    assert _metric(text, "proxy_in_flight_requests") == 1  # the scrape itself


def test_one_log_line_per_request_with_its_id_and_no_secret(observed: Proxy, emulator: Emulator) -> None:
    response = httpx.post(
        f"{observed.url}/v1/chat/completions",
        json={"model": LLAMA, "messages": [{"role": "user", "content": "trace me"}]},
        headers={"X-Request-Id": "trail-42", "X-Forwarded-Access-Token": USER_TOKEN, "Authorization": "Bearer sk-x"},
        timeout=10,
    )
    assert response.headers["x-request-id"] == "trail-42"
    assert emulator.stats()["last_request"]["body"]["client_request_id"] == "trail-42"
    output = observed.wait_for_output('"trail-42"')
    lines = [json.loads(line) for line in output.splitlines() if '"trail-42"' in line]
    assert len(lines) == 1
    line = lines[0]
    assert line["route"] == "/v1/chat/completions" and line["status"] == 200 and line["model"] == LLAMA
    assert line["upstream_request_id"] and re.fullmatch(r"[0-9a-f-]{36}", line["upstream_request_id"])
    assert line["total_tokens"] == line["prompt_tokens"] + line["completion_tokens"]
    for key in ("latency_ms", "ttfb_ms", "upstream_latency_ms"):
        assert isinstance(line[key], float)
    for secret in (E2E_TOKEN, USER_TOKEN, "sk-x"):
        assert secret not in output


def test_multi_worker_metrics_report_totals(emulator: Emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proxy = Proxy(
        {"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
        extra_args=("--workers", "2"),
    )
    try:
        chat = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}]}
        for _ in range(3):
            with httpx.Client(timeout=10) as http:  # new connections, spread over the workers
                for _ in range(4):
                    assert http.post(f"{proxy.url}/v1/chat/completions", json=chat).status_code == 200
        for _ in range(4):
            text = httpx.get(f"{proxy.url}/metrics", timeout=5).text
            assert (
                _metric(text, "proxy_requests_total", route="chat/completions", model=LLAMA, status_class="2xx") == 12
            )
    finally:
        proxy.stop()


def test_upstream_response_headers_are_not_relayed(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": LLAMA, "messages": [{"role": "user", "content": "x"}]},
        timeout=10,
    )
    assert response.status_code == 200
    assert "served-model-name" not in response.headers
    assert set(response.headers) <= {"date", "server", "content-type", "content-length", "x-request-id"}
