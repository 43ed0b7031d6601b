"""Fault injection through the live app: timeouts, keep-alives, back-pressure, fallbacks, shutdown."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy, free_port


def _chat(model: str, stream: bool = False, words: int = 3) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": " ".join(["w"] * words)}], "stream": stream}


@pytest.fixture(scope="module")
def strict(emulator: Emulator) -> Iterator[Proxy]:
    proxy = Proxy(
        {
            "DATABRICKS_HOST": emulator.url,
            "DATABRICKS_TOKEN": E2E_TOKEN,
            "PROXY_UPSTREAM_TIMEOUT": "1",
            "PROXY_KEEPALIVE_SECONDS": "0.2",
            "PROXY_MAX_CONCURRENCY": "3",
            "PROXY_FALLBACKS": f"fault-status-429={LLAMA},fault-status-503=fault-status-429|{LLAMA}",
        }
    )
    yield proxy
    proxy.stop()


def test_stuck_upstream_is_a_504(strict: Proxy) -> None:
    started = time.monotonic()
    response = httpx.post(f"{strict.url}/v1/chat/completions", json=_chat("fault-hang"), timeout=10)
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "api_error"
    assert time.monotonic() - started < 3


def test_an_answer_that_is_not_json_is_an_invalid_response(strict: Proxy) -> None:
    response = httpx.post(f"{strict.url}/v1/chat/completions", json=_chat("fault-garbage"), timeout=10)
    assert (response.status_code, response.json()) == (
        502,
        {
            "error": {
                "message": "Databricks answered with a body that is not a JSON object.",
                "type": "api_error",
                "param": None,
                "code": "upstream_invalid_response",
            }
        },
    )


def test_stream_that_stops_sending_ends_with_an_error_event(strict: Proxy) -> None:
    started = time.monotonic()
    with httpx.stream(
        "POST", f"{strict.url}/v1/chat/completions", json=_chat("fault-hang-after-2", stream=True), timeout=10
    ) as response:
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert time.monotonic() - started < 4
    assert json.loads(events[-1])["error"]["code"] == "upstream_timeout"


def test_keepalive_comments_while_waiting(strict: Proxy) -> None:
    with httpx.stream(
        "POST", f"{strict.url}/v1/chat/completions", json=_chat("fault-slow-700", stream=True), timeout=10
    ) as response:
        lines = list(response.iter_lines())
    assert any(line == ": keep-alive" for line in lines)
    assert lines[-1] == "data: [DONE]" or lines[-2] == "data: [DONE]"


def test_concurrency_bound_answers_429(strict: Proxy, emulator: Emulator) -> None:
    holders: list[httpx.Response] = []
    clients = [httpx.Client(timeout=10) for _ in range(3)]
    try:
        for client in clients:
            request = client.build_request(
                "POST", f"{strict.url}/v1/chat/completions", json=_chat("fault-slow-300", stream=True, words=20)
            )
            response = client.send(request, stream=True)
            assert response.status_code == 200
            holders.append(response)
        refused = httpx.post(f"{strict.url}/v1/chat/completions", json=_chat(LLAMA), timeout=10)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["type"] == "rate_limit_error"
    finally:
        for response in holders:
            response.close()
        for client in clients:
            client.close()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if httpx.post(f"{strict.url}/v1/chat/completions", json=_chat(LLAMA), timeout=10).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the bound was not released after the streams closed")


def test_fallback_on_429_and_503(strict: Proxy, emulator: Emulator) -> None:
    for model in ("fault-status-429", "fault-status-503"):
        response = httpx.post(f"{strict.url}/v1/chat/completions", json=_chat(model), timeout=10)
        assert response.status_code == 200, model
        assert emulator.stats()["last_request"]["path"] == f"/serving-endpoints/{LLAMA}/invocations"
    streamed = httpx.post(f"{strict.url}/v1/chat/completions", json=_chat("fault-status-429", stream=True), timeout=10)
    assert streamed.status_code == 200 and streamed.text.endswith("data: [DONE]\n\n")
    metrics = httpx.get(f"{strict.url}/metrics", timeout=5).text
    assert (
        'proxy_fallbacks_total{fallback="databricks-meta-llama-3-3-70b-instruct",model="fault-status-429"} 2.0'
        in metrics
    )


def test_unreachable_upstream_is_a_502_after_bounded_retries() -> None:
    proxy = Proxy(
        {"DATABRICKS_HOST": f"http://127.0.0.1:{free_port()}", "DATABRICKS_TOKEN": "x", "PROXY_STARTUP_TIMEOUT": "4"}
    )
    try:
        response = httpx.post(f"{proxy.url}/v1/chat/completions", json=_chat(LLAMA), timeout=10)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "upstream_unreachable"
        assert "proxy_upstream_retries_total 2.0" in httpx.get(f"{proxy.url}/metrics", timeout=5).text
        assert httpx.get(f"{proxy.url}/health", timeout=5).status_code == 200
        assert httpx.get(f"{proxy.url}/ready", timeout=5).status_code == 503
    finally:
        proxy.stop()


def test_sigterm_ends_open_streams_and_exits_in_time(emulator: Emulator) -> None:
    proxy = Proxy(
        {"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_SHUTDOWN_GRACE_SECONDS": "2"},
        extra_args=("--timeout-graceful-shutdown", "5"),
    )
    lines: list[str] = []

    def read() -> None:
        with httpx.stream(
            "POST", f"{proxy.url}/v1/chat/completions", json=_chat("fault-slow-500", stream=True, words=100), timeout=30
        ) as response:
            lines.extend(response.iter_lines())

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1.0)
    started = time.monotonic()
    code = proxy.stop(signal.SIGTERM, timeout=15)
    reader.join(15)
    assert not reader.is_alive()
    assert time.monotonic() - started < 15
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled once it has shut down
    events = [line[6:] for line in lines if line.startswith("data: ")]
    assert events, "the stream was cut instead of ended"
    assert events[-1] == "[DONE]" or json.loads(events[-1])["error"]["code"] == "server_shutting_down"
