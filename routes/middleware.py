"""The one ASGI middleware: request id, API keys, the per-request record, and a last-resort 500.

Written as plain ASGI (not ``BaseHTTPMiddleware``), which costs little per request and does not
hide client disconnects from streaming responses. Requests for the lean routes without path
parameters (the OpenAI routes) are dispatched here directly: FastAPI's router, exception and
exit-stack layers below add about a tenth of the proxy's CPU per request and nothing these
handlers use (their errors are answered here).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.call import CallRecord, request_id_from
from services.errors import APIError, AuthenticationError, ProxyError

logger = logging.getLogger("proxy.request")

OPEN_PATHS = frozenset(
    {"/health", "/ready", "/api/v1/healthcheck", "/v1/healthcheck", "/docs", "/redoc", "/openapi.json"}
)


class Observer(Protocol):
    def start(self, record: CallRecord) -> None: ...

    def finish(self, record: CallRecord) -> None: ...


class ApiKeys:
    """Keys given as ``key`` or ``label:key``; compared in constant time; only labels are ever logged."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._keys: list[tuple[bytes, str]] = []
        for position, entry in enumerate(entries, start=1):
            label, sep, key = entry.partition(":")
            if not sep or not label.replace("-", "").replace("_", "").isalnum():
                label, key = f"key-{position}", entry
            self._keys.append((key.encode(), label))

    def __bool__(self) -> bool:
        return bool(self._keys)

    def label_for(self, presented: bytes) -> str | None:
        found: str | None = None
        for key, label in self._keys:
            if hmac.compare_digest(key, presented):
                found = label
        return found


def _bearer(value: bytes) -> bytes:
    scheme, _, token = value.partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" else b""


Endpoint = Callable[..., Awaitable[Response]]


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: ApiKeys,
        protect_metrics: bool,
        observer: Observer,
        direct_routes: dict[tuple[str, str], Endpoint] | None = None,
    ) -> None:
        self.app = app
        self.direct_routes = direct_routes or {}
        self.api_keys = api_keys
        self.protect_metrics = protect_metrics
        self.observer = observer

    def _needs_key(self, path: str) -> bool:
        if not self.api_keys or path in OPEN_PATHS or path.startswith("/docs"):
            return False
        return path != "/metrics" or self.protect_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id_header = authorization = email = user = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id_header = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value
            elif name == b"x-forwarded-email":
                email = value.decode("latin-1")
            elif name == b"x-forwarded-user":
                user = value.decode("latin-1")
        record = CallRecord(
            request_id=request_id_from(request_id_header),
            route=scope["path"],
            started=time.perf_counter(),
            caller=email or user,
        )
        scope.setdefault("state", {})["call"] = record
        request_id_bytes = record.request_id.encode()
        started = False
        self.observer.start(record)

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id_bytes)]
            await send(message)

        try:
            if self._needs_key(scope["path"]):
                label = self.api_keys.label_for(_bearer(authorization or b""))
                if label is None:
                    raise AuthenticationError("Invalid or missing API key: send one as 'Authorization: Bearer <key>'.")
                record.caller = record.caller or label
            endpoint = self.direct_routes.get((scope["method"], scope["path"]))
            if endpoint is None:
                await self.app(scope, receive, send_with_id)
            else:
                response = await endpoint(request=Request(scope, receive))
                await response(scope, receive, send_with_id)
        except ProxyError as exc:
            await self._send_error(exc, record, send_with_id, started)
        except Exception as exc:
            logger.error("unhandled %s on %s (request %s)", type(exc).__name__, record.route, record.request_id)
            await self._send_error(APIError("The proxy failed to handle the request."), record, send_with_id, started)
        finally:
            self.observer.finish(record)

    @staticmethod
    async def _send_error(exc: ProxyError, record: CallRecord, send: Send, started: bool) -> None:
        record.error_type = record.error_type or exc.type
        record.error_message = record.error_message or exc.message
        if started:
            return  # the answer is already on its way; the stream relay reports its own failures
        headers = [(b"content-type", b"application/json")]
        headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": exc.body_bytes()})
