"""Fault endpoints (``fault-*``): emulated error statuses and bodies, hangs, delays, cuts, garbage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive

from emulator.catalog import Endpoint, Fault
from emulator.state import JSON as _JSON
from emulator.state import UNAUTHORIZED_BODY, Hangs, wait_disconnect
from emulator.streams import frame


async def wait_or_disconnect(receive: Receive, waiter: Awaitable[None]) -> bool:
    """Await ``waiter``; True if the client went away first."""
    watcher = asyncio.ensure_future(wait_disconnect(receive))
    waiting = asyncio.ensure_future(waiter)
    try:
        done, _ = await asyncio.wait({watcher, waiting}, return_when=asyncio.FIRST_COMPLETED)
        return watcher in done
    finally:
        watcher.cancel()
        waiting.cancel()


_FAULT_BODIES: dict[int, tuple[bytes, str, dict[str, str]]] = {
    400: (b'{"error_code":"BAD_REQUEST","message":"Bad request: emulated bad request\\n"}', _JSON, {}),
    401: (UNAUTHORIZED_BODY, _JSON, {}),
    403: (
        b'{"error_code":"PERMISSION_DENIED","message":"PERMISSION_DENIED: User does not have permission to '
        b'query endpoint."}',
        _JSON,
        {},
    ),
    429: (
        b'{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"REQUEST_LIMIT_EXCEEDED: Exceeded workspace rate '
        b'limit for endpoint. Please retry after some time."}',
        _JSON,
        {"retry-after": "2"},
    ),
    500: (b'{"error_code":"INTERNAL_ERROR","message":"Internal error"}', _JSON, {}),
    502: (
        b"<html><head><title>502 Bad Gateway</title></head><body><pre>upstream connect error</pre></body></html>",
        "text/html",
        {},
    ),
    503: (
        b'{"error_code":"TEMPORARILY_UNAVAILABLE","message":"The service is temporarily unavailable."}',
        _JSON,
        {"retry-after": "1"},
    ),
    504: (b'{"error_code":"DEADLINE_EXCEEDED","message":"Timed out"}', _JSON, {}),
}
_EXTERNAL_400 = orjson.dumps(
    {
        "error": "Received error from databricks-model-serving",
        "external_model_message": {
            "error_code": "BAD_REQUEST",
            "message": '{"message":"messages.1.thinking_blocks: Extra inputs are not permitted"}',
        },
    }
)


def fault_status_response(endpoint: Endpoint, status: int, headers: dict[str, str]) -> Response:
    if endpoint.fault is not None and endpoint.fault.kind == "external-400":
        return Response(_EXTERNAL_400, 400, headers, _JSON)
    if status == 404:
        body = orjson.dumps(
            {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": f"Endpoint with name '{endpoint.name}' does not exist.",
            }
        )
        return Response(body, 404, headers, _JSON)
    content, media_type, extra = _FAULT_BODIES.get(
        status,
        (orjson.dumps({"error_code": "UNKNOWN", "message": f"Emulated HTTP {status}"}), _JSON, {}),
    )
    return Response(content, status, {**headers, **extra}, media_type)


def stream_fault(
    fault: Fault, frames: list[bytes], chunk_delay: float, hangs: Hangs
) -> tuple[list[bytes], dict[str, Any]]:
    """The frames and ``EventStream`` options of a fault endpoint's stream."""
    delay = fault.arg / 1000 if fault.kind == "slow" else chunk_delay
    kind = fault.kind
    options: dict[str, Any] = {"delay": delay, "hangs": hangs}
    if kind == "delay":
        options["pre_wait"] = fault.arg / 1000
    elif kind == "hang":
        options["hang_before"] = True
    elif kind == "cut":
        options["cut_after"] = fault.arg
    elif kind == "hang-after":
        options["hang_after"] = fault.arg
    elif kind == "garbage":
        frames = [*frames[:1], b"data: {not json\n\n"]
        options["send_done"] = False
    elif kind == "stream-error":
        error = {"error_code": "INTERNAL_ERROR", "message": "Model crashed mid-stream"}
        frames = [*frames[:1], frame(error)]
        options["send_done"] = False
    return frames, options
