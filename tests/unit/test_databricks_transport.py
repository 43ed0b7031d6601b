"""The aiohttp transport: only a failure to connect looks like httpx.ConnectError; a live round trip."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import aiohttp
import httpx
import pytest

from emulator.app import EmulatorOptions
from emulator.server import EmulatorServer
from services.databricks.errors import transport_error
from services.databricks.transport import AiohttpTransport, _map
from services.errors import UpstreamConnectionError, UpstreamTimeoutError


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorOptions()) as server:
        yield server


@pytest.mark.parametrize(
    ("raised", "mapped"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
    ],
)
def test_exception_mapping(raised: BaseException, mapped: type[Exception]) -> None:
    assert type(_map(raised)) is mapped


def test_other_exceptions_are_not_mapped() -> None:
    assert _map(ValueError("bug")) is None


def test_the_mapped_errors_become_the_proxys() -> None:
    assert isinstance(transport_error(httpx.ConnectError("x")), UpstreamConnectionError)
    assert isinstance(transport_error(httpx.ConnectTimeout("x")), UpstreamConnectionError)
    assert isinstance(transport_error(httpx.ReadTimeout("x")), UpstreamTimeoutError)
    cut = transport_error(httpx.RemoteProtocolError("x"))
    assert cut.message == "Databricks closed the connection before the answer was complete."


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anyio
async def test_a_refused_connection_is_a_connect_error() -> None:
    transport = AiohttpTransport(httpx.Limits(max_connections=2))
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{closed_port()}/"))
    finally:
        await transport.aclose()


@pytest.mark.anyio
async def test_a_round_trip_and_a_stream_cut_mid_body(emulator: EmulatorServer) -> None:
    transport = AiohttpTransport(httpx.Limits(max_connections=2))
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    body = b'{"messages":[{"role":"user","content":"one two three four"}],"stream":true}'
    try:
        url = f"{emulator.url}/serving-endpoints/databricks-meta-llama-3-3-70b-instruct/invocations"
        response = await transport.handle_async_request(httpx.Request("POST", url, headers=headers, content=body))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = b"".join([part async for part in response.aiter_bytes()])
        assert text.endswith(b"data: [DONE]\n\n")
        await response.aclose()

        cut = f"{emulator.url}/serving-endpoints/fault-cut-2/invocations"
        response = await transport.handle_async_request(httpx.Request("POST", cut, headers=headers, content=body))
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in response.aiter_bytes():
                pass
        await response.aclose()
    finally:
        await transport.aclose()
