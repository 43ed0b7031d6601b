"""The stream relay: framing from the dialect, the door's last and error events, closing and accounting."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from services.dialects import Dialect
from services.dialects.framing import named_event
from services.dialects.openai import OPENAI, ChunkPassThrough
from services.errors import ProxyError, ShuttingDownError, UpstreamConnectionError, UpstreamStreamError
from services.pivot.chunks import ChatStream
from services.relay import relay
from services.shutdown import StreamRegistry


class Upstream(httpx.AsyncByteStream):
    def __init__(self, blocks: list[bytes], error: Exception | None = None) -> None:
        self.blocks = blocks
        self.error = error
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for block in self.blocks:
            yield block
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        self.closed = True


def sse(*payloads: dict[str, Any] | str) -> bytes:
    return b"".join(b"data: " + (p.encode() if isinstance(p, str) else orjson.dumps(p)) + b"\n\n" for p in payloads)


def chunk(content: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl_1",
        "created": 7,
        "model": "served",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}],
    }


class Ends:
    def __init__(self) -> None:
        self.calls: list[tuple[ProxyError | None, bool]] = []

    def __call__(self, error: ProxyError | None, completed: bool) -> None:
        self.calls.append((error, completed))


class Typed:
    """A door whose events are named by their type and that ends with its own last event."""

    def __init__(self) -> None:
        self.count = 0

    def feed(self, pivot: dict[str, Any]) -> list[dict[str, Any]]:
        self.count += 1
        delta = pivot["choices"][0]["delta"] if pivot["choices"] else {}
        return [{"type": "text.delta", "text": delta.get("content", "")}]

    def finish(self) -> list[dict[str, Any]]:
        return [{"type": "message.done", "events": self.count}]

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        return [{"type": "error", "error": {"kind": error.kind, "message": error.message}}]


TYPED = Dialect("typed", lambda error: {"kind": error.kind}, named_event)


async def run(
    upstream: Upstream, translator: Any, dialect: Dialect, registry: StreamRegistry | None = None
) -> tuple[bytes, Ends]:
    ends = Ends()
    response = httpx.Response(200, stream=upstream)
    registry = registry or StreamRegistry(1.0)
    out = b"".join([part async for part in relay(response, ChatStream("m"), translator, dialect, registry, ends)])
    assert upstream.closed
    assert response not in registry.open
    return out, ends


@pytest.mark.anyio
async def test_openai_framing_ends_with_done() -> None:
    upstream = Upstream([sse(chunk("Hel")), sse(chunk("lo", "stop"), "[DONE]")])
    out, ends = await run(upstream, ChunkPassThrough(), OPENAI)
    head = {"id": "chatcmpl_1", "object": "chat.completion.chunk", "created": 7, "model": "served"}
    first = {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]}
    last = {**head, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]}
    assert out == sse(first, last, "[DONE]")
    assert ends.calls == [(None, True)]


@pytest.mark.anyio
async def test_named_framing_from_the_dialect_has_the_doors_last_event_and_no_done() -> None:
    upstream = Upstream([sse(chunk("A"), chunk("B", "stop"))])
    out, ends = await run(upstream, Typed(), TYPED)
    assert out == (
        b'event: text.delta\ndata: {"type":"text.delta","text":"A"}\n\n'
        b'event: text.delta\ndata: {"type":"text.delta","text":"B"}\n\n'
        b'event: message.done\ndata: {"type":"message.done","events":2}\n\n'
    )
    assert b"[DONE]" not in out
    assert ends.calls == [(None, True)]


@pytest.mark.anyio
async def test_a_malformed_event_after_the_first_byte_is_the_doors_error_event() -> None:
    upstream = Upstream([sse(chunk("A")) + b"data: {not json\n\n"])
    out, ends = await run(upstream, Typed(), TYPED)
    assert out == (
        b'event: text.delta\ndata: {"type":"text.delta","text":"A"}\n\n'
        b'event: error\ndata: {"type":"error","error":{"kind":"api_error",'
        b'"message":"Databricks sent a malformed stream event."}}\n\n'
    )
    [(error, completed)] = ends.calls
    assert isinstance(error, UpstreamStreamError) and not completed


@pytest.mark.anyio
async def test_an_error_chunk_from_databricks_in_openai_framing() -> None:
    upstream = Upstream([sse(chunk("A"), {"error_code": "INTERNAL_ERROR", "message": "Model crashed"})])
    out, _ = await run(upstream, ChunkPassThrough(), OPENAI)
    assert out.endswith(
        sse(
            {"error": {"message": "Model crashed", "type": "api_error", "param": None, "code": "upstream_stream_error"}}
        )
    )
    assert b"[DONE]" not in out


@pytest.mark.anyio
async def test_a_cut_connection_is_an_upstream_error() -> None:
    upstream = Upstream([sse(chunk("A"))], error=httpx.RemoteProtocolError("peer closed"))
    out, ends = await run(upstream, ChunkPassThrough(), OPENAI)
    [(error, completed)] = ends.calls
    assert isinstance(error, UpstreamConnectionError) and not completed
    assert out.endswith(
        sse(
            {
                "error": {
                    "message": "Databricks closed the connection before the answer was complete.",
                    "type": "api_error",
                    "param": None,
                    "code": "upstream_unreachable",
                }
            }
        )
    )


@pytest.mark.anyio
async def test_past_the_shutdown_deadline_the_stream_ends_with_an_error_event() -> None:
    registry = StreamRegistry(0.0)
    registry.deadline = time.monotonic() - 1
    out, ends = await run(Upstream([sse(chunk("A"))]), Typed(), TYPED, registry)
    [(error, _)] = ends.calls
    assert isinstance(error, ShuttingDownError)
    assert out.startswith(b"event: error\n")


@pytest.mark.anyio
async def test_a_client_that_goes_away_closes_the_upstream_and_ends_once() -> None:
    upstream = Upstream([sse(chunk("A")), sse(chunk("B")), sse(chunk("C", "stop"))])
    ends = Ends()
    registry = StreamRegistry(1.0)
    stream = relay(httpx.Response(200, stream=upstream), ChatStream("m"), ChunkPassThrough(), OPENAI, registry, ends)
    first = await stream.__anext__()
    assert first.startswith(b"data: ")
    await stream.aclose()
    assert upstream.closed
    assert ends.calls == [(None, False)]
    assert not registry.open
