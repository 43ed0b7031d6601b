"""A client that goes away cancels the upstream call, for streams and for plain requests."""

from __future__ import annotations

import socket
import time

import orjson

from tests.e2e.harness import Emulator, Proxy


def _raw_post(proxy: Proxy, body: dict[str, object]) -> socket.socket:
    payload = orjson.dumps(body)
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return sock


def _wait_for(predicate, timeout: float = 3.0) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_stream_disconnect_cancels_upstream(proxy: Proxy, emulator: Emulator) -> None:
    before = emulator.stats()["streams_cancelled"]
    sock = _raw_post(
        proxy,
        {"model": "fault-slow-200", "messages": [{"role": "user", "content": " ".join(["w"] * 50)}], "stream": True},
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    sock.close()
    elapsed = _wait_for(lambda: emulator.stats()["streams_cancelled"] > before)
    assert elapsed < 1.5
    _wait_for(lambda: emulator.stats()["in_flight"] == 0)


def test_plain_request_disconnect_cancels_upstream(proxy: Proxy, emulator: Emulator) -> None:
    before = emulator.stats()["requests_cancelled"]
    sock = _raw_post(proxy, {"model": "fault-hang", "messages": [{"role": "user", "content": "x"}]})
    _wait_for(lambda: emulator.stats()["in_flight"] >= 1)
    sock.close()
    elapsed = _wait_for(lambda: emulator.stats()["requests_cancelled"] > before)
    assert elapsed < 1.5
    _wait_for(lambda: emulator.stats()["in_flight"] == 0)
