"""The Databricks emulator ASGI app (Starlette): serving-endpoint invocations, the management API, OAuth M2M
and observability routes, speaking the Databricks FMAPI wire format with deterministic answers."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import random
import secrets
import string
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from services.emulator import answers, catalog, validation
from services.emulator.catalog import CHAT, COMPLETIONS, EMBEDDINGS, Endpoint

UNAUTHORIZED_BODY = (
    b'{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}'
)
NULL_ID_CREATED = 1731283200.0
_ALNUM = string.ascii_letters + string.digits
_JSON = "application/json"
_SSE = b"text/event-stream; charset=utf-8"
_DONE = b"data: [DONE]\n\n"

StreamOutcome = Literal["completed", "cancelled", "cut"]


@dataclass
class EmulatorOptions:
    chunk_delay: float = 0.0
    tokens: tuple[str, ...] = ()
    client_id: str | None = None
    client_secret: str | None = None
    token_ttl_seconds: int = 3600
    embedding_dim: int = 1024


class EmulatedConnectionCut(Exception):
    """Raised inside a ``fault-cut-<n>`` stream so that the server aborts the connection mid-body."""


class _DropEmulatedCuts(logging.Filter):
    """Keeps uvicorn from logging the deliberate ``fault-cut`` aborts as application errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, EmulatedConnectionCut)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropEmulatedCuts) for f in logger.filters):
        logger.addFilter(_DropEmulatedCuts())


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


# ------------------------------------------------------------------------------------------------ helpers


def _json(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(obj), status, headers, _JSON)


def _error(err: validation.ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return _json(err.status, err.body(), headers)


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _wait_or_disconnect(receive: Receive, waiter: Awaitable[None]) -> bool:
    """Await ``waiter``; True if the client went away first."""
    watcher = asyncio.ensure_future(_wait_disconnect(receive))
    waiting = asyncio.ensure_future(waiter)
    try:
        done, _ = await asyncio.wait({watcher, waiting}, return_when=asyncio.FIRST_COMPLETED)
        return watcher in done
    finally:
        watcher.cancel()
        waiting.cancel()


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


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _frame(chunk: Any) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _random_alnum(k: int) -> str:
    return "".join(random.choices(_ALNUM, k=k))


class _EventStream(Response):
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
            await _wait_disconnect(receive)
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
            response = _json(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "Shutting down"})
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


# ------------------------------------------------------------------------------------------------ the app


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


def _fault_status_response(endpoint: Endpoint, status: int, headers: dict[str, str]) -> Response:
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


class _Emulator:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.stats = Stats()
        self._tokens = frozenset(options.tokens)
        self._strict = bool(options.tokens) or options.client_id is not None
        self._issued: dict[str, float] = {}
        self.hangs = Hangs()

    # ---------------------------------------------------------------------------------------- bookkeeping

    def _record(self, request: Request, body: Any) -> None:
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

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization")
        if not header:
            return False
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if not self._strict or token in self._tokens:
            return True
        expiry = self._issued.get(token)
        return expiry is not None and expiry > time.monotonic()

    @staticmethod
    def _unauthorized(headers: Mapping[str, str] | None = None) -> Response:
        return Response(UNAUTHORIZED_BODY, 401, headers, _JSON)

    @staticmethod
    def _base_url(request: Request) -> str:
        host = request.headers.get("host")
        if not host:
            server = request.scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{request.url.scheme}://{host}"

    # ---------------------------------------------------------------------------------------- observability

    async def stats_route(self, request: Request) -> Response:
        return _json(200, self.stats.as_dict())

    async def reset_route(self, request: Request) -> Response:
        self.stats.reset()
        return _json(200, self.stats.as_dict())

    # ---------------------------------------------------------------------------------------- OAuth

    async def host_metadata(self, request: Request) -> Response:
        # databricks-sdk >= 0.7x resolves its OIDC discovery URL from this document.
        self._record(request, None)
        base = self._base_url(request)
        return _json(200, {"oidc_endpoint": f"{base}/oidc", "workspace_id": "1234567890123456"})

    async def oidc_discovery(self, request: Request) -> Response:
        self._record(request, None)
        base = self._base_url(request)
        return _json(
            200,
            {
                "issuer": f"{base}/oidc",
                "authorization_endpoint": f"{base}/oidc/v1/authorize",
                "token_endpoint": f"{base}/oidc/v1/token",
                "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["all-apis", "offline_access"],
            },
        )

    def _client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        expected_id = self.options.client_id
        if expected_id is None:
            # No service principal configured: open mode accepts anyone, token-only mode nobody.
            return not self._strict and bool(client_id)
        if client_id is None or not hmac.compare_digest(client_id, expected_id):
            return False
        expected_secret = self.options.client_secret
        return expected_secret is None or (
            client_secret is not None and hmac.compare_digest(client_secret, expected_secret)
        )

    async def token(self, request: Request) -> Response:
        raw = await request.body()
        self._record(request, None)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if ":" in decoded:
                client_id, _, client_secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return _json(
                400,
                {"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported."},
            )
        if not self._client_ok(client_id, client_secret):
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        ttl = self.options.token_ttl_seconds
        now = time.monotonic()
        if len(self._issued) > 1000:
            self._issued = {t: e for t, e in self._issued.items() if e > now}
        access_token = "emu-" + secrets.token_urlsafe(24)
        self._issued[access_token] = now + ttl
        self.stats.tokens_issued += 1
        return _json(
            200, {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": "all-apis"}
        )

    # ---------------------------------------------------------------------------------------- management

    async def list_endpoints(self, request: Request) -> Response:
        self._record(request, None)
        if not self._authorized(request):
            return self._unauthorized()
        return _json(200, {"endpoints": [catalog.describe(e) for e in catalog.listed_endpoints()]})

    async def get_endpoint(self, request: Request) -> Response:
        self._record(request, None)
        if not self._authorized(request):
            return self._unauthorized()
        name = request.path_params["name"]
        endpoint = catalog.lookup(name)
        if endpoint is None:
            return _json(
                404,
                {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": f"Endpoint with name '{name}' does not exist.",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.RequestInfo",
                            "request_id": str(uuid.uuid4()),
                            "serving_data": "",
                        }
                    ],
                },
            )
        return _json(200, {**catalog.describe(endpoint), "permission_level": "CAN_QUERY", "route_optimized": False})

    async def fallback(self, request: Request) -> Response:
        self._record(request, None)
        path = request.scope["path"]
        if path.startswith(("/serving-endpoints", "/api/2.0/")) and not self._authorized(request):
            return self._unauthorized()
        return _json(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "Invalid path"})

    # ---------------------------------------------------------------------------------------- invocations

    async def invocations(self, request: Request) -> Response:
        stats = self.stats
        stats.in_flight += 1
        try:
            return await self._invoke(request)
        finally:
            stats.in_flight -= 1

    async def _invoke(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = orjson.loads(raw)
            parsed = True
        except orjson.JSONDecodeError:
            body, parsed = None, False
        self._record(request, body)
        request_id = str(uuid.uuid4())
        if not self._authorized(request):
            return self._unauthorized({"x-request-id": request_id})
        name = request.path_params["name"]
        endpoint = catalog.lookup(name)
        if endpoint is None:
            return _json(
                404,
                {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Endpoint with name '{name}' does not exist."},
                {"x-request-id": request_id},
            )
        headers = {"x-request-id": request_id, "served-model-name": endpoint.served_model}
        fault = endpoint.fault
        if fault is not None and fault.kind in ("status", "external-400"):
            return _fault_status_response(endpoint, fault.arg, headers)
        if not parsed or not isinstance(body, dict):
            return _error(validation.MALFORMED_JSON, headers)
        error = validation.validate(endpoint, body)
        if error is not None:
            return _error(error, headers)
        stream = body.get("stream") is True

        if fault is not None and not stream:
            if fault.kind in ("hang", "delay"):
                waiter = self.hangs.wait() if fault.kind == "hang" else asyncio.sleep(fault.arg / 1000)
                try:
                    gone = await _wait_or_disconnect(request.receive, waiter)
                except asyncio.CancelledError:
                    self.stats.requests_cancelled += 1
                    raise
                if gone:
                    self.stats.requests_cancelled += 1
                    return Response(b"", 408)
                if fault.kind == "hang":  # released by a server shutdown
                    return _json(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "Shutting down"}, headers)
            elif fault.kind == "garbage":
                return Response(b"not json at all", 200, headers, _JSON)

        if endpoint.task == CHAT:
            return self._chat(endpoint, body, stream, headers)
        if endpoint.task == COMPLETIONS:
            return self._completions(endpoint, body, stream, headers)
        if endpoint.task == EMBEDDINGS:
            return self._embeddings(endpoint, body, headers)
        return self._custom(body, headers)

    def _stream(self, endpoint: Endpoint, chunks: Iterable[Any], headers: dict[str, str]) -> Response:
        frames = [_frame(c) for c in chunks]
        raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        fault = endpoint.fault
        if fault is None:
            return _EventStream(self.stats, frames, raw_headers, delay=self.options.chunk_delay)
        delay = fault.arg / 1000 if fault.kind == "slow" else self.options.chunk_delay
        kind = fault.kind
        options: dict[str, Any] = {"delay": delay, "hangs": self.hangs}
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
            frames = [*frames[:1], _frame(error)]
            options["send_done"] = False
        return _EventStream(self.stats, frames, raw_headers, **options)

    def _chat(self, endpoint: Endpoint, body: dict[str, Any], stream: bool, headers: dict[str, str]) -> Response:
        style = endpoint.style
        plan = answers.plan_chat(body, style)
        response_id: str | None
        created: int | float
        if style == "claude":
            response_id = "msg_bdrk_01" + _random_alnum(22)
            tool_call_id = "toolu_bdrk_01" + _random_alnum(22)
        else:
            response_id = None if style == "null-id" else f"chatcmpl_{uuid.uuid4()}"
            tool_call_id = f"call_{uuid.uuid4()}"
        created = NULL_ID_CREATED if style == "null-id" else int(time.time())
        signature = "ErcB" + _random_alnum(40) if style == "claude" else ""
        kwargs: dict[str, Any] = {
            "model": endpoint.served_model,
            "response_id": response_id,
            "created": created,
            "tool_call_id": tool_call_id,
            "signature": signature,
        }
        if stream:
            return self._stream(endpoint, answers.chat_stream_chunks(plan, style, **kwargs), headers)
        return _json(200, answers.chat_completion(plan, style, **kwargs), headers)

    def _completions(self, endpoint: Endpoint, body: dict[str, Any], stream: bool, headers: dict[str, str]) -> Response:
        plan = answers.plan_completion(body)
        response_id = f"cmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if stream:
            chunks = answers.completion_stream_chunks(
                plan, model=endpoint.served_model, response_id=response_id, created=created
            )
            return self._stream(endpoint, chunks, headers)
        response = answers.completion_response(
            plan, model=endpoint.served_model, response_id=response_id, created=created
        )
        return _json(200, response, headers)

    def _embeddings(self, endpoint: Endpoint, body: dict[str, Any], headers: dict[str, str]) -> Response:
        value = body["input"]
        inputs: list[str] = [value] if isinstance(value, str) else value
        response = answers.embeddings_response(
            inputs, model=endpoint.served_model, dim=self.options.embedding_dim, response_id=str(uuid.uuid4())
        )
        return _json(200, response, headers)

    @staticmethod
    def _custom(body: dict[str, Any], headers: dict[str, str]) -> Response:
        rows = 1
        for key in ("dataframe_records", "instances", "inputs"):
            value = body.get(key)
            if isinstance(value, list):
                rows = len(value)
                break
        split = body.get("dataframe_split")
        if isinstance(split, dict) and isinstance(split.get("data"), list):
            rows = len(split["data"])
        return _json(200, {"predictions": [0] * rows}, headers)


def release_hangs(app: Any) -> None:
    """Wake the ``fault-hang*`` requests of an emulator app (from its event loop), e.g. before shutdown."""
    emulator = getattr(getattr(app, "state", None), "emulator", None)
    if isinstance(emulator, _Emulator):
        emulator.hangs.release()


def create_emulator_app(options: EmulatorOptions | None = None) -> Starlette:
    """Build the emulator ASGI app. ``app.state.emulator`` exposes the live state (``.stats``, ``.options``)."""
    _install_log_filter()
    emulator = _Emulator(options or EmulatorOptions())
    any_method = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route("/serving-endpoints/{name}/invocations", emulator.invocations, methods=["POST"]),
        Route("/api/2.0/serving-endpoints", emulator.list_endpoints, methods=["GET"]),
        Route("/api/2.0/serving-endpoints/{name}", emulator.get_endpoint, methods=["GET"]),
        Route("/emulator/stats", emulator.stats_route, methods=["GET"]),
        Route("/emulator/reset", emulator.reset_route, methods=["POST"]),
        Route("/.well-known/databricks-config", emulator.host_metadata, methods=["GET"]),
        Route("/oidc/.well-known/oauth-authorization-server", emulator.oidc_discovery, methods=["GET"]),
        Route("/oidc/v1/token", emulator.token, methods=["POST"]),
        Route("/{path:path}", emulator.fallback, methods=any_method),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return app
