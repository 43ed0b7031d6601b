"""A burst after a quiet spell, against an upstream that drops connections idle for half a second.

The upstream (a raw asyncio server in a thread) answers chat invocations, and closes a connection that
has been idle 0.5 s when the next request arrives on it, without reading it or answering a byte: what
a client sees when a server's idle timeout fires just as a request goes out on a pooled connection.
The proxy keeps idle connections far longer here (PROXY_UPSTREAM_IDLE_SECONDS=30), so every request
of the second burst meets a dropped connection, and each must be answered all the same.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Proxy, free_port

IDLE = 0.5
ANSWER = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": LLAMA,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
)


class DroppingUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.answered = 0
        self.dropped = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        idle_since: float | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if idle_since is not None and time.monotonic() - idle_since >= IDLE:
                    self.dropped += 1
                    return
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(ANSWER)
                    + ANSWER
                )
                await writer.drain()
                self.answered += 1
                idle_since = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture(scope="module")
def upstream() -> Iterator[DroppingUpstream]:
    server = DroppingUpstream()
    yield server
    server.stop()


def test_a_burst_after_the_upstreams_idle_timeout_gets_no_502(upstream: DroppingUpstream) -> None:
    proxy = Proxy(
        {
            "DATABRICKS_HOST": f"http://127.0.0.1:{upstream.port}",
            "DATABRICKS_TOKEN": E2E_TOKEN,
            "PROXY_UPSTREAM_IDLE_SECONDS": "30",
        }
    )
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}]}

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=proxy.url, timeout=10) as client:
            answers = await asyncio.gather(*(client.post("/v1/chat/completions", json=body) for _ in range(20)))
        return [answer.status_code for answer in answers]

    try:
        assert asyncio.run(burst()) == [200] * 20
        time.sleep(IDLE + 0.3)
        assert asyncio.run(burst()) == [200] * 20
        assert upstream.dropped >= 5, "the second burst met no dropped connection: the test proves nothing"
        metrics = httpx.get(f"{proxy.url}/metrics", timeout=5).text
        retried = next(line for line in metrics.splitlines() if line.startswith("proxy_upstream_retries_total "))
        assert float(retried.split()[1]) == upstream.dropped
    finally:
        proxy.stop()
