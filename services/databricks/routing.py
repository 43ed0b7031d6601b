"""Each call to the surface that serves it (``surfaces.py``): Unity Gateway first where the workspace has it,
the serving-endpoint paths otherwise; a native API where the pair has one, ``NotServedNatively`` where it does
not. What Databricks answered is remembered, so a workspace without a surface costs one 404, not one per call.

A 404 generated nothing, so the same call goes on to the next surface at once; anything else (a 403 or 429 from
the gateway above all) is the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TypeVar

import httpx

from services.databricks.catalog import CHAT_TASK, EMBEDDINGS_TASK
from services.databricks.client import DatabricksClient, UpstreamAnswer, check_endpoint_name
from services.databricks.surfaces import (
    GATEWAY_CHAT,
    GATEWAY_EMBEDDINGS,
    NativeSurface,
    Surfaces,
    model_field,
    not_served_natively,
    out_of_scope,
    with_fields,
)
from services.errors import ProxyError

T = TypeVar("T")
_GATEWAY_PATHS = {CHAT_TASK: GATEWAY_CHAT, EMBEDDINGS_TASK: GATEWAY_EMBEDDINGS}
_BUSY = frozenset({429, 503})


class NotServedNatively(Exception):
    """The native surface does not serve this endpoint here (remembered): translate the call instead."""


class UpstreamRouter:
    def __init__(
        self, client: DatabricksClient, surfaces: Surfaces, fallbacks: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.client = client
        self.surfaces = surfaces
        self.fallbacks = fallbacks or {}

    async def invoke(
        self, endpoint: str, task: str, content: bytes, authorization: str, attribution: bytes = b""
    ) -> UpstreamAnswer:
        """``attribution``: Databricks' invocation fields naming the call (``client_request_id``,
        ``usage_context``), serialised; the gateway attributes usage to the caller's identity itself."""
        path = self._gateway_path(endpoint, task)
        if path is not None:
            gateway_content = _for_gateway(content, endpoint)

            async def through_gateway() -> UpstreamAnswer:
                response = await self.client.post(path, gateway_content, authorization, stream=False, gateway=True)
                return await self.client.read_answer(response)

            answer = await self._gateway_first(endpoint, through_gateway)
            if answer is not None:
                return answer
        return await self.client.invoke(endpoint, with_fields(content, last=attribution), authorization)

    async def open_stream(
        self, endpoint: str, task: str, content: bytes, authorization: str, attribution: bytes = b""
    ) -> httpx.Response:
        path = self._gateway_path(endpoint, task)
        if path is not None:
            gateway_content = _for_gateway(content, endpoint)
            response = await self._gateway_first(
                endpoint,
                lambda: self.client.post(path, gateway_content, authorization, stream=True, gateway=True),
            )
            if response is not None:
                return response
        return await self.client.open_stream(endpoint, with_fields(content, last=attribution), authorization)

    async def native(
        self,
        surface: NativeSurface,
        endpoint: str,
        content: bytes,
        authorization: str,
        *,
        stream: bool,
        headers: dict[str, str],
        method: str = "",
        query: str = "",
    ) -> httpx.Response:
        """The native surface's answer (good status; the caller reads or relays it), or ``NotServedNatively``. A 400
        about ``anthropic-beta`` flags gets one more try without them (``Surfaces.betas_refused``)."""
        check_endpoint_name(endpoint)
        headers = self.surfaces.without_refused_betas(endpoint, headers)

        def send(gateway: bool, sent: dict[str, str]) -> Awaitable[httpx.Response]:
            path = surface.path(gateway, endpoint, method) + query
            return self.client.post(path, content, authorization, stream=stream, headers=sent, gateway=gateway)

        for attempt in (1, 2):
            through_gateway = self.surfaces.gateway_for(endpoint)
            try:
                if through_gateway:
                    response = await self._gateway_first(endpoint, partial(send, True, headers))
                    if response is not None:
                        return response
                    through_gateway = False
                return await send(False, headers)
            except ProxyError as exc:
                fewer = self.surfaces.betas_refused(endpoint, headers, exc) if attempt == 1 else None
                if fewer is not None:
                    headers = fewer
                    continue
                if not through_gateway and exc.status in _BUSY and self.fallbacks.get(endpoint):
                    # Nothing was generated: the chat path serves it from PROXY_FALLBACKS (the gateway has its own).
                    raise NotServedNatively from None
                if not not_served_natively(exc):
                    raise
                self.surfaces.native_refused(surface.door, endpoint, exc)
                raise NotServedNatively from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _gateway_path(self, endpoint: str, task: str) -> str | None:
        path = _GATEWAY_PATHS.get(task)
        return path if path is not None and self.surfaces.gateway_for(endpoint) else None

    async def _gateway_first(self, endpoint: str, send: Callable[[], Awaitable[T]]) -> T | None:
        """The gateway's answer, or None when its 404 (or a token without the ``ai-gateway`` scope: an app deployed
        before it declared it) says to use the serving-endpoint paths (in ``auto``). Budgets, limits and guardrails
        (403, 429) are the answer."""
        try:
            result = await send()
        except ProxyError as exc:
            if not self.surfaces.may_bypass() or not (exc.status == 404 or out_of_scope(exc)):
                raise
            self.surfaces.gateway_missing(endpoint, exc)
            return None
        self.surfaces.gateway_answered()
        return result


def _for_gateway(content: bytes, endpoint: str) -> bytes:
    return with_fields(content, first=model_field(check_endpoint_name(endpoint)))
