"""Graceful shutdown of open streams.

On SIGTERM (Databricks Apps kill the app 15 s later) open streams get ``shutdown_grace_seconds`` to
finish; then each one ends cleanly with an error event, instead of a cut connection. sse-starlette
sets ``event`` when the server starts shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import anyio
import httpx

from services.errors import ShuttingDownError


class StreamRegistry:
    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self.open: set[httpx.Response] = set()
        self.event = anyio.Event()
        self.deadline: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="stream-shutdown-watch")

    def check(self) -> None:
        """Called between chunks: past the deadline, the stream ends with an error event."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ShuttingDownError()

    async def _watch(self) -> None:
        await self.event.wait()
        self.deadline = time.monotonic() + self.grace_seconds
        await anyio.sleep(self.grace_seconds)
        # Streams whose upstream went quiet are not reading chunks; closing the upstream wakes them.
        for response in list(self.open):
            with contextlib.suppress(Exception):
                await response.aclose()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
