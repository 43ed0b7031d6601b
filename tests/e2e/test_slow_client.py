"""A client that reads a long stream slowly does not make the proxy hold the answer in memory."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

WORDS = 150_000  # about 15 MB of SSE events through the proxy


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def burst_proxy() -> Iterator[Proxy]:
    emulator = Emulator("--token", E2E_TOKEN, chunk_delay=0)  # the whole answer is written at once
    proxy = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN})
    yield proxy
    proxy.stop()
    emulator.stop()


def _read_all(sock: socket.socket) -> int:
    received = 0
    while True:
        block = sock.recv(65536)
        if not block:
            return received
        received += len(block)
        if block.endswith(b"data: [DONE]\n\n"):
            return received


def _open(proxy: Proxy, payload: bytes) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", proxy.port))
    sock.sendall(
        # Connection: close: the end of the answer is the end of the connection, whatever the keep-alive timeout.
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    sock.settimeout(10)
    return sock


def test_stalled_reader_gets_backpressure_not_buffering(burst_proxy: Proxy) -> None:
    payload = orjson.dumps(
        {
            "model": "databricks-meta-llama-3-3-70b-instruct",
            "messages": [{"role": "user", "content": " ".join(["w"] * WORDS)}],
            "stream": True,
        }
    )
    warm = _open(burst_proxy, payload)  # the same request read at full speed: allocations settle
    assert _read_all(warm) > 12_000_000
    warm.close()
    time.sleep(0.5)
    before = _rss_mb(burst_proxy.proc.pid)
    sock = _open(burst_proxy, payload)
    assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    time.sleep(2.0)  # the client reads nothing while the upstream has already sent everything
    stalled = _rss_mb(burst_proxy.proc.pid)
    received = _read_all(sock)
    sock.close()
    assert received > 12_000_000, received
    # Holding the answer would cost more than its 12+ MB; flow control keeps the growth to buffers.
    assert stalled - before < 8, f"the proxy grew by {stalled - before:.1f} MB while its client was stalled"
