"""A streamed response is stored when its last event is ready, before that event leaves: a client that
chains the next request as soon as it reads ``response.completed`` finds the response stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio

from services.dialects import StreamTranslator
from services.errors import ProxyError


class FinalResponse:
    """A Responses stream translator that keeps the Response object its closing event carries."""

    def __init__(self, translator: StreamTranslator) -> None:
        self.translator = translator
        self.response: dict[str, Any] | None = None

    def _closing(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for event in reversed(events):
            response = event.get("response")
            if isinstance(response, dict):
                self.response = response
                break
        return events

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        return self.translator.feed(chunk)

    def finish(self) -> list[dict[str, Any]]:
        return self._closing(self.translator.finish())

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        return self._closing(self.translator.fail(error))


def kept(
    final: FinalResponse, save: Callable[[dict[str, Any]], Awaitable[None]]
) -> Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]:
    """Wraps the framed events: once the closing events exist, ``save`` runs (shielded from the client going
    away) before they are sent."""

    async def wrap(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        saved = False
        async for chunk in events:
            if not saved and final.response is not None:
                saved = True
                with anyio.CancelScope(shield=True):
                    await save(final.response)
            yield chunk

    return wrap
