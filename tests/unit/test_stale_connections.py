"""Pooled upstream connections the server dropped while idle: retried once on a fresh connection, never otherwise.

The upstream here is a raw asyncio server that answers the first request of a connection and then,
like a server whose idle timeout fired just as the next request arrived, closes the connection on the
next request without reading it or answering a byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from services.databricks.transport import AiohttpTransport

ANSWER = b'{"ok":true}'


@dataclass
class Upstream:
    url: str = ""
    answered: list[tuple[int, bytes]] = field(default_factory=list)  # (connection number, request body)
    dropped: list[int] = field(default_factory=list)
    partial: bool = False  # send half a status line before dropping
    answer_first: bool = True  # False: drop even a new connection's first request


@asynccontextmanager
async def upstream(state: Upstream) -> AsyncIterator[Upstream]:
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        number, served = connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if served >= 1 or not state.answer_first:
                    state.dropped.append(number)
                    if state.partial:
                        writer.write(b"HTTP/1.1 2")
                        await writer.drain()
                    return
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                state.answered.append((number, body))
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(ANSWER)
                )
                writer.write(ANSWER)
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/serving-endpoints/e/invocations"
    async with server:
        yield state


async def post(transport: AiohttpTransport, url: str, body: bytes) -> httpx.Response:
    request = httpx.Request("POST", url, content=body, headers={"Content-Type": "application/json"})
    response = await transport.handle_async_request(request)
    await response.aread()
    await response.aclose()
    return response


def transport(retries: list[int] | None = None) -> AiohttpTransport:
    return AiohttpTransport(
        httpx.Limits(max_connections=10, keepalive_expiry=30),
        on_stale_retry=(lambda: retries.append(1)) if retries is not None else None,
    )


@pytest.mark.anyio
async def test_a_request_on_a_dropped_idle_connection_is_sent_again_on_a_fresh_one() -> None:
    retries: list[int] = []
    async with upstream(Upstream()) as state:
        client = transport(retries)
        try:
            assert (await post(client, state.url, b'{"n":1}')).status_code == 200
            second = await post(client, state.url, b'{"n":2}')
        finally:
            await client.aclose()
    assert second.status_code == 200 and second.content == ANSWER
    assert state.dropped == [1]
    assert state.answered == [(1, b'{"n":1}'), (2, b'{"n":2}')]
    assert retries == [1]


@pytest.mark.anyio
async def test_a_fresh_connection_closed_without_an_answer_is_not_sent_again() -> None:
    async with upstream(Upstream(answer_first=False)) as state:
        client = transport()
        try:
            with pytest.raises(httpx.RemoteProtocolError):
                await post(client, state.url, b'{"n":1}')
        finally:
            await client.aclose()
    assert state.dropped == [1] and state.answered == []


@pytest.mark.anyio
async def test_a_connection_that_began_an_answer_is_not_sent_again() -> None:
    async with upstream(Upstream(partial=True)) as state:
        client = transport()
        try:
            await post(client, state.url, b'{"n":1}')
            with pytest.raises(httpx.HTTPError):
                await post(client, state.url, b'{"n":2}')
        finally:
            await client.aclose()
    assert state.dropped == [1] and state.answered == [(1, b'{"n":1}')]


@pytest.mark.anyio
async def test_a_retried_request_that_fails_again_is_not_retried_twice() -> None:
    retries: list[int] = []
    state = Upstream()
    async with upstream(state):
        client = transport(retries)
        try:
            await post(client, state.url, b'{"n":1}')
            state.answer_first = False  # from now on every request is dropped
            with pytest.raises(httpx.RemoteProtocolError):
                await post(client, state.url, b'{"n":2}')
        finally:
            await client.aclose()
    assert state.dropped == [1, 2] and retries == [1]
