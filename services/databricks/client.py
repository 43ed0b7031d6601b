"""The one HTTP client to Databricks Model Serving: URLs, headers, status checks, stream framing.

Only headers chosen here go upstream (never the caller's ``Authorization``, cookies or hop-by-hop
headers), and every failure leaves as a ``ProxyError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from services.databricks.errors import from_databricks, transport_error, transport_errors
from services.databricks.served_names import endpoint_for_served_name
from services.databricks.transport import AiohttpTransport
from services.databricks.verdict import CredentialVerdict
from services.errors import (
    InvalidRequestError,
    ProxyError,
    UpstreamCredentialError,
    UpstreamInvalidResponseError,
)
from services.metrics import Metrics
from services.settings import Settings

# Databricks serving endpoint names: letters, digits, '-' and '_'.
_ENDPOINT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_USER_AGENT = "databricks-openai-proxy/0.1"
_URL_CACHE_SIZE = 1024
_ACCEPT_STREAM = "text/event-stream, application/json"
# A 403 about the credential itself, as opposed to a gateway's budget, limit or guardrail.
_SCOPE = re.compile(r"scope", re.IGNORECASE)
_CREDENTIAL_WORDS = re.compile(r"token|credential|authenticat|unauthori[sz]ed", re.IGNORECASE)


def check_endpoint_name(name: str) -> str:
    """The endpoint name goes into a URL path: only Databricks' own alphabet is let through."""
    if not _ENDPOINT_NAME.fullmatch(name):
        meant = endpoint_for_served_name(name)
        hint = (
            f" '{name}' looks like the served model name an answer reports; send the serving endpoint's name,"
            f" probably '{meant}' (GET /v1/models lists them)."
            if meant
            else ""
        )
        raise InvalidRequestError(
            "Invalid model name: a Databricks serving endpoint name has 1-63 letters, digits, '-' or '_'." + hint,
            param="model",
            code="invalid_model",
        )
    return name


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.upstream_timeout,
        write=settings.upstream_timeout,
        pool=settings.connect_timeout,
    )


def build_http_client(settings: Settings, on_stale_retry: Callable[[], None] | None = None) -> httpx.AsyncClient:
    """``on_stale_retry`` is told of each request sent again because the server had dropped its pooled connection."""
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive_connections,
        keepalive_expiry=settings.upstream_idle_seconds,
    )
    transport: httpx.AsyncBaseTransport
    if settings.upstream_transport == "aiohttp":
        transport = AiohttpTransport(limits, on_stale_retry=on_stale_retry)
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits)
    return httpx.AsyncClient(timeout=_timeout(settings), transport=transport, follow_redirects=False)


@dataclass(slots=True)
class UpstreamAnswer:
    data: dict[str, Any]
    request_id: str | None


class DatabricksClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        host: str,
        settings: Settings,
        metrics: Metrics,
        own_authorization: Callable[[], str] | None = None,
    ) -> None:
        """``own_authorization`` gives the proxy's own ``Authorization`` value, to tell its refusals apart."""
        self.http = http
        self.own_authorization = own_authorization
        # Invocations go straight to the transport: the client's cookie jar would carry one caller's
        # upstream cookies into another caller's requests, and its per-request bookkeeping costs CPU.
        self.transport = http._transport
        self.metrics = metrics
        self.host = host.rstrip("/")
        self.settings = settings
        self.own_credential = CredentialVerdict()
        self._timeout = _timeout(settings).as_dict()
        self._urls: dict[str, httpx.URL] = {}

    def invocation_url(self, endpoint: str) -> httpx.URL:
        url = self._urls.get(endpoint)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = httpx.URL(f"{self.host}/serving-endpoints/{check_endpoint_name(endpoint)}/invocations")
            self._urls[endpoint] = url  # an endpoint name has no '/', a path always starts with one
        return url

    def _headers(self, authorization: str, accept: str) -> dict[str, str]:
        return {
            "Authorization": authorization,
            "Content-Type": "application/json",
            "Accept": accept,
            "User-Agent": _USER_AGENT,
        }

    def url(self, path: str) -> httpx.URL:
        """``{host}{path}`` for a path of the proxy's own making (endpoint names checked before)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = httpx.URL(f"{self.host}{path}")
            self._urls[path] = url
        return url

    async def _send(
        self,
        url: httpx.URL,
        content: bytes,
        authorization: str,
        stream: bool,
        extra_headers: dict[str, str] | None = None,
        gateway: bool = False,
    ) -> httpx.Response:
        """The answer when its status is good; any other status leaves as a ``ProxyError``."""
        headers = self._headers(authorization, _ACCEPT_STREAM if stream else "application/json")
        if extra_headers:
            headers.update(extra_headers)
        request = httpx.Request("POST", url, content=content, headers=headers, extensions={"timeout": self._timeout})
        response = await self._send_with_connect_retries(request)
        if response.status_code < 400:
            self._note_own(response.status_code, authorization)
            return response
        raise self._refusal(response, await _read(response), authorization, gateway)

    def _is_own(self, authorization: str) -> bool:
        return self.own_authorization is not None and authorization == self.own_authorization()

    def _note_own(self, status: int, authorization: str, refusal: str = "") -> None:
        if self._is_own(authorization):
            self.own_credential.record(status, refusal)

    def _refusal(self, response: httpx.Response, body: bytes, authorization: str, gateway: bool = False) -> ProxyError:
        """Databricks' error as a proxy error; a 401/403 to the proxy's own credential is the proxy's fault,
        except Unity Gateway's 403 for a budget, a limit or a guardrail: that is the answer to the call."""
        status = response.status_code
        error = from_databricks(
            status, body, response.headers.get("retry-after"), self.settings.retry_after_cap_seconds
        )
        if gateway and status == 403 and (_SCOPE.search(error.message) or not _CREDENTIAL_WORDS.search(error.message)):
            return error  # a budget, a limit, a guardrail, or a token without the gateway's scope: not the credential
        self._note_own(status, authorization, f"HTTP {status}: {error.message.rstrip('.')}")
        if status in (401, 403) and self._is_own(authorization):
            return UpstreamCredentialError(
                f"Databricks refused the proxy's workspace credential (HTTP {status}: {error.message.rstrip('.')}). "
                "The proxy's configuration needs fixing (DATABRICKS_TOKEN, the client credentials, or the "
                "permissions of the app's service principal), not the caller's API key."
            )
        return error

    async def _send_with_connect_retries(self, request: httpx.Request) -> httpx.Response:
        """A failure to connect means nothing was sent, so trying again at once is safe."""
        attempt = 0
        while True:
            try:
                return await self.transport.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.settings.connect_retries:
                    raise transport_error(exc) from exc
                attempt += 1
                self.metrics.retries.inc()
            except httpx.HTTPError as exc:
                raise transport_error(exc) from exc

    async def invoke(self, endpoint: str, content: bytes, authorization: str) -> UpstreamAnswer:
        response = await self._send(self.invocation_url(endpoint), content, authorization, stream=False)
        return await self.read_answer(response)

    async def post(
        self,
        path: str,
        content: bytes,
        authorization: str,
        *,
        stream: bool,
        headers: dict[str, str] | None = None,
        gateway: bool = False,
    ) -> httpx.Response:
        """POST to another surface (Unity Gateway, a native API); a good status or a ``ProxyError``. The caller
        reads (``read_answer``, ``read_raw``) or relays the body."""
        return await self._send(self.url(path), content, authorization, stream, headers, gateway)

    async def read_answer(self, response: httpx.Response) -> UpstreamAnswer:
        raw = await _read(response)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise UpstreamInvalidResponseError("Databricks answered with a body that is not a JSON object.")
        return UpstreamAnswer(data, response.headers.get("x-request-id"))

    async def open_stream(self, endpoint: str, content: bytes, authorization: str) -> httpx.Response:
        """An upstream stream whose status is already known to be good; the caller must close it."""
        return await self._send(self.invocation_url(endpoint), content, authorization, stream=True)

    @staticmethod
    async def read_raw(response: httpx.Response) -> bytes:
        return await _read(response)

    async def _get_json(self, path: str, authorization: str) -> dict[str, Any]:
        with transport_errors():
            response = await self.http.get(
                f"{self.host}{path}", headers=self._headers(authorization, "application/json")
            )
        if response.status_code >= 400:
            raise self._refusal(response, response.content, authorization)
        self._note_own(response.status_code, authorization)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamInvalidResponseError("Databricks answered with a body that is not JSON.") from exc
        return data if isinstance(data, dict) else {}

    async def list_endpoints(self, authorization: str) -> list[dict[str, Any]]:
        data = await self._get_json("/api/2.0/serving-endpoints", authorization)
        endpoints = data.get("endpoints")
        return [e for e in endpoints if isinstance(e, dict)] if isinstance(endpoints, list) else []


async def _read(response: httpx.Response) -> bytes:
    """The whole body; the response is closed whatever happens."""
    try:
        with transport_errors():
            return await response.aread()
    finally:
        await response.aclose()
