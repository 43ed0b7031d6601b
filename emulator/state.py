"""What the emulator's routes share: options, counters, issued OAuth tokens, hanging requests, JSON answers."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from emulator.prompt_cache import PromptCache
from emulator.validation import ApiError

UNAUTHORIZED_BODY = (
    b'{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}'
)
JSON = "application/json"


@dataclass
class EmulatorOptions:
    chunk_delay: float = 0.0
    tokens: tuple[str, ...] = ()
    client_id: str | None = None
    client_secret: str | None = None
    token_ttl_seconds: int = 3600
    embedding_dim: int = 1024
    # A workspace's surfaces (emulator/surfaces.py): Unity Gateway's /ai-gateway paths, the providers' own APIs,
    # the endpoints those refuse, and the gateway's budgets (403) and rate limits (429) per model.
    unity_gateway: bool = True
    native_surfaces: bool = True
    native_unserved: frozenset[str] = frozenset()
    gateway_blocked: frozenset[str] = frozenset()
    gateway_limited: frozenset[str] = frozenset()


@dataclass
class Stats:
    tokens_issued: int = 0
    requests: int = 0
    streams_started: int = 0
    streams_completed: int = 0
    streams_cancelled: int = 0
    streams_cut: int = 0
    requests_cancelled: int = 0
    in_flight: int = 0
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))

    def reset(self) -> None:
        """Zero the counters and forget recent requests (``in_flight`` is a gauge and is kept)."""
        self.tokens_issued = self.requests = self.requests_cancelled = 0
        self.streams_started = self.streams_completed = self.streams_cancelled = self.streams_cut = 0
        self.recent.clear()

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens_issued": self.tokens_issued,
            "requests": self.requests,
            "streams_started": self.streams_started,
            "streams_completed": self.streams_completed,
            "streams_cancelled": self.streams_cancelled,
            "streams_cut": self.streams_cut,
            "requests_cancelled": self.requests_cancelled,
            "in_flight": self.in_flight,
            "last_request": self.recent[-1] if self.recent else None,
            "recent": list(self.recent),
        }


def json_response(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(obj), status, headers, JSON)


def error_response(err: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(err.status, err.body(), headers)


def no_such_path(request: Request) -> Response:
    """What Databricks answers for a path it does not serve (a surface this workspace lacks)."""
    return json_response(
        404,
        {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{request.method} {request.url.path}'"},
    )


def unauthorized(headers: Mapping[str, str] | None = None) -> Response:
    return Response(UNAUTHORIZED_BODY, 401, headers, JSON)


async def wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class Hangs:
    """The ``fault-hang*`` waits in progress; released when the server shuts down so that it stops cleanly."""

    def __init__(self) -> None:
        self._futures: set[asyncio.Future[None]] = set()

    async def wait(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures.add(future)
        try:
            await future
        finally:
            self._futures.discard(future)

    def release(self) -> None:
        """Wake every hanging request (call from the event loop running the app)."""
        for future in list(self._futures):
            if not future.done():
                future.set_result(None)


class EmulatorState:
    """One emulator's live state (``app.state.emulator``): ``.options``, ``.stats``, ``.hangs``, ``.prompt_cache``."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.stats = Stats()
        self.tokens = frozenset(options.tokens)
        self.strict = bool(options.tokens) or options.client_id is not None
        self.issued: dict[str, float] = {}
        self.hangs = Hangs()
        self.prompt_cache = PromptCache()

    def record(self, request: Request, body: Any) -> None:
        headers = dict(request.headers.items())
        self.stats.requests += 1
        self.stats.recent.append(
            {
                "path": request.scope["path"],
                "authorization": headers.get("authorization"),
                "headers": headers,
                "body": body,
            }
        )

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization")
        if not header:
            return False
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if not self.strict or token in self.tokens:
            return True
        expiry = self.issued.get(token)
        return expiry is not None and expiry > time.monotonic()
