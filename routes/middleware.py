"""The one ASGI middleware: request id, API keys, the per-request record and dialect, and a last-resort 500.

Written as plain ASGI (not ``BaseHTTPMiddleware``), which costs little per request and does not
hide client disconnects from streaming responses. Requests for the lean routes without path
parameters are dispatched here directly: FastAPI's router, exception and exit-stack layers below add
about a tenth of the proxy's CPU per request and nothing these handlers use (their errors are
answered here, in the route's dialect).

What a path needs (an API key, its metric label, its dialect) comes from the routes' own declarations
(``routes/lean.py``), collected once into a ``RouteTable``.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from routes.identity import IDENTITY_HEADERS, TOKEN_HEADER, forwarded_identity
from routes.lean import LeanRoute, needs_of
from services.call import CallRecord, client_request_id_from, request_id_from
from services.dialects import Dialect, DialectMap
from services.errors import APIError, AuthenticationError, ProxyError
from services.settings import Settings

logger = logging.getLogger("proxy.request")

Endpoint = Callable[..., Awaitable[Response]]


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


def _query_key(scope: Scope, dialect: Dialect) -> bytes | None:
    """Google's ``?key=`` (Gemini door only). The query string is never logged: the log line names the path."""
    if dialect.name != "gemini" or b"key=" not in scope.get("query_string", b""):
        return None
    for field in scope["query_string"].split(b"&"):
        name, _, value = field.partition(b"=")
        if name == b"key" and value:
            return unquote_to_bytes(value)
    return None


def bearer(value: bytes) -> bytes:
    scheme, _, token = value.partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" else b""


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What the middleware does for a path before the handler runs."""

    key: bool
    label: str
    dialect: Dialect
    direct: dict[str, Endpoint]  # method -> handler the middleware calls itself


class RouteTable:
    """Path -> policy, from the mounted routes' declarations; paths no route declares need a key."""

    def __init__(
        self,
        mounted: Iterable[tuple[str, APIRouter]],
        app_routes: Iterable[BaseRoute],
        settings: Settings,
        dialects: DialectMap,
    ) -> None:
        self.dialects = dialects
        self.fixed: dict[str, RoutePolicy] = {}
        self.patterns: list[tuple[re.Pattern[str], RoutePolicy, dict[str, Convertor[Any]]]] = []
        for route in app_routes:
            if isinstance(route, Route) and not isinstance(route, APIRoute):  # FastAPI's /docs, /redoc, /openapi.json
                self.fixed[route.path] = RoutePolicy(False, "other", dialects.default, {})
        for prefix, router in mounted:
            for route in router.routes:
                if isinstance(route, LeanRoute):
                    self._add(prefix + route.path, route, settings)

    def _add(self, path: str, route: LeanRoute, settings: Settings) -> None:
        declared = needs_of(route.endpoint)
        key = declared.key if isinstance(declared.key, bool) else bool(getattr(settings, declared.key))
        dialect = self.dialects.for_path(path)
        direct = dict.fromkeys(route.methods or (), route.endpoint)
        if route.param_convertors:
            # called directly too, with its path parameters (the Gemini door's every call is a patterned path)
            regex, _, convertors = compile_path(path)
            self.patterns.append((regex, RoutePolicy(key, declared.label, dialect, direct), convertors))
            return
        known = self.fixed.get(path)
        if known is not None:
            direct = {**known.direct, **direct}
        self.fixed[path] = RoutePolicy(key, declared.label, dialect, direct)

    def policy(self, path: str) -> tuple[RoutePolicy, dict[str, Any]]:
        """The path's policy and, for a patterned path, its converted path parameters."""
        found = self.fixed.get(path)
        if found is not None:
            return found, {}
        for pattern, policy, convertors in self.patterns:
            matched = pattern.match(path)
            if matched:
                return policy, {name: convertors[name].convert(value) for name, value in matched.groupdict().items()}
        return RoutePolicy(True, "other", self.dialects.for_path(path), {}), {}


_GATEWAY_HEADERS = frozenset((*IDENTITY_HEADERS, TOKEN_HEADER))


def _as_served(scope: Scope) -> tuple[Scope, bool]:
    """The scope the routes see, and whether the request is a HEAD.

    A trailing slash is ignored (``/v1/chat/completions/`` is answered, not redirected: SDKs do not
    follow the redirect of a POST), and HEAD is answered as GET without the body (liveness probes).
    The server keeps its own scope, so it still knows the request was a HEAD.
    """
    path: str = scope["path"]
    head = scope["method"] == "HEAD"
    if not head and (len(path) < 2 or not path.endswith("/")):
        return scope, False
    served = dict(scope)
    if head:
        served["method"] = "GET"
    if len(path) > 1 and path.endswith("/"):
        served["path"] = path.rstrip("/") or "/"
        raw_path = scope.get("raw_path")
        if isinstance(raw_path, bytes):
            served["raw_path"] = raw_path.rstrip(b"/") or b"/"
    return served, head


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: ApiKeys,
        observer: Observer,
        routes: RouteTable,
        trust_forwarded_identity: bool,
    ) -> None:
        self.app = app
        self.api_keys = api_keys
        self.observer = observer
        self.routes = routes
        # Behind the Databricks Apps gateway (or another that strips and sets them): see routes/identity.py.
        self.trust_forwarded_identity = trust_forwarded_identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id_header = authorization = api_key = None
        gateway: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id_header = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value
            elif name in (b"x-api-key", b"x-goog-api-key"):  # Google's clients send the latter
                api_key = value
            elif name in _GATEWAY_HEADERS:
                gateway.setdefault(name, value)
        scope, head = _as_served(scope)
        path = scope["path"]
        policy, path_params = self.routes.policy(path)
        # The platform's X-Request-Id becomes the request id (and client_request_id upstream) only behind a
        # gateway that sets it; elsewhere any client could choose what Databricks records, so the proxy uses an
        # id of its own and keeps the client's only in its log line.
        trusted = self.trust_forwarded_identity
        record = CallRecord(
            request_id=request_id_from(request_id_header if trusted else None),
            route=path,
            started=time.perf_counter(),
            label=policy.label,
            client_request_id=None if trusted else client_request_id_from(request_id_header),
        )
        state = scope.setdefault("state", {})
        state["call"] = record
        state["dialect"] = policy.dialect
        request_id_bytes = record.request_id.encode()
        id_headers = [(b"x-request-id", request_id_bytes)]
        if policy.dialect.id_header is not None:
            id_headers.append((policy.dialect.id_header, request_id_bytes))
        started = False
        self.observer.start(record)

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), *id_headers]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            if gateway and self.trust_forwarded_identity:
                identity = forwarded_identity(gateway)
                record.caller = identity.caller
                state["user_token"] = identity.user_token
            if policy.key and self.api_keys:
                label = self._key_label(authorization, api_key or _query_key(scope, policy.dialect), policy.dialect)
                record.caller = record.caller or label
            endpoint = policy.direct.get(scope["method"])
            if endpoint is None:
                await self.app(scope, receive, send_with_id)
            else:
                if path_params:
                    scope["path_params"] = path_params
                response = await endpoint(request=Request(scope, receive), **path_params)
                await response(scope, receive, send_with_id)
        except ProxyError as exc:
            await self._send_error(exc, record, policy.dialect, send_with_id, started)
        except Exception as exc:
            logger.error("unhandled %s on %s (request %s)", type(exc).__name__, record.route, record.request_id)
            error = APIError("The proxy failed to handle the request.")
            await self._send_error(error, record, policy.dialect, send_with_id, started)
        finally:
            self.observer.finish(record)

    def _key_label(self, authorization: bytes | None, api_key: bytes | None, dialect: Dialect) -> str:
        """The label of the key presented as ``Authorization: Bearer`` or ``x-api-key`` (or Google's ways)."""
        for presented in (bearer(authorization) if authorization else b"", api_key):
            label = self.api_keys.label_for(presented) if presented else None
            if label is not None:
                return label
        if dialect.name == "gemini":
            raise AuthenticationError(
                "Invalid or missing API key: send one as 'x-goog-api-key: <key>', as '?key=<key>' or as "
                "'Authorization: Bearer <key>'."
            )
        raise AuthenticationError(
            "Invalid or missing API key: send one as 'Authorization: Bearer <key>' or as 'x-api-key: <key>'."
        )

    @staticmethod
    async def _send_error(exc: ProxyError, record: CallRecord, dialect: Dialect, send: Send, started: bool) -> None:
        record.error_type = record.error_type or exc.kind
        record.error_message = record.error_message or exc.message
        if started:
            return  # the answer is already on its way; the stream relay reports its own failures
        headers = [(b"content-type", b"application/json")]
        headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": dialect.error_bytes(exc)})
