"""Reading Databricks' server-sent events: the ``data:`` payloads, in the batches they arrive in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


async def sse_batches(response: httpx.Response) -> AsyncIterator[list[bytes]]:
    """The ``data:`` payloads of each block received, up to ``[DONE]`` (comments and other fields skipped).

    Batches let the relay forward a burst of events in one write instead of one write per event.
    """
    buffer = b""
    async for block in response.aiter_bytes():
        buffer += block
        if b"\n" not in block:
            continue
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        batch: list[bytes] = []
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                if batch:
                    yield batch
                return
            if payload:
                batch.append(payload)
        if batch:
            yield batch
    tail = buffer.strip()
    if tail.startswith(b"data:"):
        payload = tail[5:].strip()
        if payload and payload != b"[DONE]":
            yield [payload]


async def sse_payloads(response: httpx.Response) -> AsyncIterator[bytes]:
    """Each ``data:`` payload, one at a time."""
    async for batch in sse_batches(response):
        for payload in batch:
            yield payload
