"""The emulator's event streams: SSE frames sent as Databricks does, with fault injection and cancellation
accounting."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import orjson
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from emulator.state import Hangs, Stats, json_response, wait_disconnect

_SSE = b"text/event-stream; charset=utf-8"
_DONE = b"data: [DONE]\n\n"

StreamOutcome = Literal["completed", "cancelled", "cut"]


class EmulatedConnectionCut(Exception):
    """Raised inside a ``fault-cut-<n>`` stream so that the server aborts the connection mid-body."""


class _DropEmulatedCuts(logging.Filter):
    """Keeps uvicorn from logging the deliberate ``fault-cut`` aborts as application errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, EmulatedConnectionCut)


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropEmulatedCuts) for f in logger.filters):
        logger.addFilter(_DropEmulatedCuts())


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def frame(chunk: Any) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


class EventStream(Response):
    """A ``text/event-stream`` response with fault injection and cancellation accounting.

    ``frames`` are already framed SSE events; ``[DONE]`` is appended when ``send_done``. Between frames it
    sleeps ``delay``. ``pre_wait`` delays the headers; ``hang_before`` never sends them; ``cut_after`` aborts the
    connection after that many frames; ``hang_after`` stops sending (forever) after that many frames. Hangs
    end when ``hangs`` is released (server shutdown): the connection is then aborted.
    """

    def __init__(
        self,
        stats: Stats,
        frames: list[bytes],
        headers: list[tuple[bytes, bytes]],
        *,
        delay: float = 0.0,
        send_done: bool = True,
        pre_wait: float = 0.0,
        cut_after: int | None = None,
        hang_before: bool = False,
        hang_after: int | None = None,
        hangs: Hangs | None = None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [(b"content-type", _SSE), (b"cache-control", b"no-cache"), *headers]
        self._stats = stats
        self._frames = frames
        self._delay = delay
        self._send_done = send_done
        self._pre_wait = pre_wait
        self._cut_after = cut_after
        self._hang_before = hang_before
        self._hang_after = hang_after
        self._hangs = hangs or Hangs()
        self._finishing = False

    @property
    def _waits(self) -> bool:
        return bool(self._delay or self._pre_wait or self._hang_before or self._hang_after is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stats = self._stats
        stats.streams_started += 1
        stats.in_flight += 1
        outcome: StreamOutcome = "cancelled"
        try:
            if self._waits:
                outcome = await self._run_watched(receive, send)
            else:
                outcome = await self._run(send)
        finally:
            stats.in_flight -= 1
            if outcome == "completed":
                stats.streams_completed += 1
            elif outcome == "cut":
                stats.streams_cut += 1
            else:
                stats.streams_cancelled += 1
        if outcome == "cut":
            raise EmulatedConnectionCut("emulated connection cut (fault-cut)")

    async def _run_watched(self, receive: Receive, send: Send) -> StreamOutcome:
        task = asyncio.current_task()
        assert task is not None
        disconnected = False

        async def watch() -> None:
            nonlocal disconnected
            await wait_disconnect(receive)
            if not self._finishing:
                disconnected = True
                task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            return await self._run(send)
        except asyncio.CancelledError:
            if disconnected and task.uncancel() == 0:
                return "cancelled"
            raise
        finally:
            watcher.cancel()

    async def _run(self, send: Send) -> StreamOutcome:
        if self._hang_before:
            await self._hangs.wait()  # released by a server shutdown: answer 503 (headers were never sent)
            response = json_response(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "Shutting down"})
            await response({"type": "http"}, _no_receive, send)
            return "cancelled"
        if self._pre_wait:
            await asyncio.sleep(self._pre_wait)
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        frames = self._frames
        if not self._waits and self._cut_after is None:
            self._finishing = True
            body = b"".join(frames) + _DONE if self._send_done else b"".join(frames)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return "completed"
        for i, frame in enumerate(frames):
            if i == self._cut_after:
                return "cut"
            if i == self._hang_after:
                await self._hangs.wait()
                return "cut"
            if i and self._delay:
                await asyncio.sleep(self._delay)
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        if self._cut_after is not None:
            return "cut"
        if self._hang_after is not None:
            await self._hangs.wait()
            return "cut"
        self._finishing = True
        await send({"type": "http.response.body", "body": _DONE if self._send_done else b"", "more_body": False})
        return "completed"
