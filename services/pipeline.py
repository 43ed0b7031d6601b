"""One upstream call for any front door.

A door hands over the chat pivot (an ``UpstreamRequest`` built from an OpenAI chat-family request); this
resolves the model, bounds concurrency, attributes the call, sends it (to the fallbacks while Databricks
answers 429/503 and nothing was relayed), cancels it when the client goes away or the deadline passes,
and records usage from the normalised answer or chunks, before any door renders them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson
from starlette.types import Receive

from services.caching.bodies import PromptCaching
from services.caching.refusals import is_refusal
from services.call import CLIENT_CLOSED, CallRecord
from services.databricks.catalog import CHAT_TASK, COMPLETIONS_TASK, EMBEDDINGS_TASK, ModelCatalog, ResolvedModel
from services.databricks.client import DatabricksClient, UpstreamAnswer
from services.databricks.families import Family, family_of
from services.databricks.routing import UpstreamRouter
from services.dialects import Dialect, StreamTranslator
from services.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    ProxyError,
    RequestTooLargeError,
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
)
from services.limiter import ConcurrencyLimiter
from services.metrics import Metrics
from services.native import NativeAnswer, NativeRequest, SseScan
from services.native.relay import pass_through
from services.pivot.requests import UpstreamRequest, take_attribution
from services.relay import StreamNormalizer, relay
from services.settings import Settings
from services.shutdown import StreamRegistry

T = TypeVar("T")
_FALLBACK_STATUSES = frozenset({429, 503})
_TASK_ROUTES = {
    CHAT_TASK: ("a chat model", "POST /v1/chat/completions with messages"),
    COMPLETIONS_TASK: ("a completions model", "POST /v1/completions with a prompt"),
    EMBEDDINGS_TASK: ("an embeddings model", "POST /v1/embeddings with an input"),
}


@dataclass(slots=True)
class NativeStream:
    media_type: str  # as Databricks sent it
    events: AsyncIterator[bytes]
    scan: SseScan  # what the relay read on the way


@dataclass(slots=True)
class Call:
    """One front-door request on its way upstream."""

    record: CallRecord
    receive: Receive  # the client's side of the connection, watched for a disconnect
    authorization: str  # for Databricks: the app's credentials or the calling user's token


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        client: DatabricksClient,
        router: UpstreamRouter,
        catalog: ModelCatalog,
        limiter: ConcurrencyLimiter,
        metrics: Metrics,
        streams: StreamRegistry,
    ) -> None:
        self.settings = settings
        self.client = client
        self.router = router
        self.catalog = catalog
        self.limiter = limiter
        self.metrics = metrics
        self.streams = streams
        self.caching = PromptCaching(settings.prompt_caching)

    async def answer(
        self,
        call: Call,
        model: ResolvedModel,
        plan: UpstreamRequest,
        normalize: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """The normalised answer (the chat pivot for chat), or None when the client went away."""
        record = call.record
        content, attribution, started = self._start(record, model, plan)
        try:
            work = self._with_fallbacks(
                call,
                model,
                plan,
                content,
                lambda endpoint, body: self.router.invoke(endpoint, model.task, body, call.authorization, attribution),
            )
            answer: UpstreamAnswer | None = await self._bounded(call, work)
        finally:
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
        if answer is None:
            return None
        record.upstream_request_id = answer.request_id
        out = normalize(answer.data)
        usage = out.get("usage")
        record.usage = usage if isinstance(usage, dict) else None
        record.ttfb = time.perf_counter() - record.started
        return out

    async def stream(
        self,
        call: Call,
        model: ResolvedModel,
        plan: UpstreamRequest,
        normalizer: StreamNormalizer,
        translator: StreamTranslator,
        dialect: Dialect,
    ) -> AsyncIterator[bytes]:
        """Open the upstream stream (failures until then are raised: the status is not committed yet) and
        return the relay of its events, framed in ``dialect``."""
        record = call.record
        content, attribution, started = self._start(record, model, plan)
        try:
            upstream: httpx.Response = await self._with_fallbacks(
                call,
                model,
                plan,
                content,
                lambda endpoint, body: self.router.open_stream(
                    endpoint, model.task, body, call.authorization, attribution
                ),
            )
        except BaseException:
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
            raise
        record.upstream_request_id = upstream.headers.get("x-request-id")
        record.ttfb = time.perf_counter() - record.started
        self.metrics.open_streams.inc()

        def on_end(error: ProxyError | None, completed: bool) -> None:
            self.metrics.open_streams.dec()
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
            record.usage = normalizer.usage
            if error is not None:
                record.error_type = error.kind
                record.error_message = error.message
            elif not completed:
                record.error_type = "client_closed"

        return relay(upstream, normalizer, translator, dialect, self.streams, on_end)

    def _start(self, record: CallRecord, model: ResolvedModel, plan: UpstreamRequest) -> tuple[bytes, bytes, float]:
        """Serialise the body and its attribution, then take a slot (the caller releases it)."""
        record.endpoint = model.endpoint
        record.stream = plan.stream
        attribution = b""
        if self.settings.send_usage_context:
            attribution = take_attribution(plan.body, record.request_id, record.caller)
        content = orjson.dumps(plan.body)
        self._check_size(len(content) + len(attribution) + 1, "Translated for Databricks")
        self.limiter.acquire()
        return content, attribution, time.perf_counter()

    def _check_size(self, size: int, what: str) -> None:
        if size > self.settings.max_body_bytes:  # what a door expands never exceeds what a client may send
            raise RequestTooLargeError(
                f"{what}, the request would be larger than the limit of {self.settings.max_body_bytes} bytes."
            )

    # ---------------------------------------------------------------------------------------------- native

    def _start_native(self, record: CallRecord, model: ResolvedModel, native: NativeRequest) -> tuple[bytes, float]:
        record.endpoint = model.endpoint
        record.stream = native.stream
        record.note = f"{record.note}; native" if record.note else "native"
        content = orjson.dumps(native.body)
        self._check_size(len(content), "With its stored history")
        self.limiter.acquire()
        return content, time.perf_counter()

    def _send_native(
        self, call: Call, model: ResolvedModel, native: NativeRequest, content: bytes
    ) -> Awaitable[httpx.Response]:
        return self.router.native(
            native.surface,
            model.endpoint,
            content,
            call.authorization,
            stream=native.stream,
            headers=native.headers,
            method=native.method,
            query=native.query,
        )

    async def native_answer(self, call: Call, model: ResolvedModel, native: NativeRequest) -> NativeAnswer | None:
        """The native answer as received, or None when the client went away; ``NotServedNatively`` when the
        surface does not serve the endpoint (nothing was generated: the door translates instead)."""
        record = call.record
        content, started = self._start_native(record, model, native)

        async def work() -> tuple[httpx.Response, bytes]:
            response = await self._send_native(call, model, native, content)
            return response, await self.client.read_raw(response)

        try:
            result = await self._bounded(call, work())
        finally:
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
        if result is None:
            return None
        response, raw = result
        record.upstream_request_id = response.headers.get("x-request-id")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise UpstreamInvalidResponseError("Databricks answered with a body that is not a JSON object.")
        record.usage = native.usage_of(data)
        record.ttfb = time.perf_counter() - record.started
        return NativeAnswer(raw, data)

    async def native_stream(
        self, call: Call, model: ResolvedModel, native: NativeRequest, dialect: Dialect
    ) -> NativeStream:
        """The native stream, relayed as received (``NotServedNatively`` as for ``native_answer``)."""
        record = call.record
        content, started = self._start_native(record, model, native)
        try:
            upstream: httpx.Response = await self._send_native(call, model, native, content)
        except BaseException:
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
            raise
        record.upstream_request_id = upstream.headers.get("x-request-id")
        record.ttfb = time.perf_counter() - record.started
        self.metrics.open_streams.inc()
        scan = native.scan()

        def on_end(error: ProxyError | None, completed: bool) -> None:
            self.metrics.open_streams.dec()
            self.limiter.release()
            record.upstream_latency = time.perf_counter() - started
            record.usage = scan.usage
            if error is not None:
                record.error_type = error.kind
                record.error_message = error.message
            elif not completed:
                record.error_type = "client_closed"

        media_type = upstream.headers.get("content-type", "text/event-stream")
        return NativeStream(media_type, pass_through(upstream, scan, dialect, self.streams, on_end), scan)

    async def _with_fallbacks(
        self,
        call: Call,
        model: ResolvedModel,
        plan: UpstreamRequest,
        content: bytes,
        send: Callable[[str, bytes], Awaitable[T]],
    ) -> T:
        """Send to the endpoint, or to its fallbacks while the answer is 429/503 (nothing relayed yet)."""
        record = call.record
        endpoint = model.endpoint
        candidates = [endpoint, *self.settings.fallbacks.get(endpoint, ())]
        last = len(candidates) - 1
        for position, candidate in enumerate(candidates):
            try:
                family = model.family if candidate == endpoint else family_of(candidate)
                result = await self._send_cached(call.record, candidate, family, plan, content, send)
            except ProxyError as exc:
                if position < last and exc.status in _FALLBACK_STATUSES:
                    self.metrics.fallbacks.labels(endpoint, candidates[position + 1]).inc()
                    continue
                raise await self._explained(exc, model, candidate, call.authorization) from None
            record.endpoint = candidate
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_cached(
        self,
        record: CallRecord,
        endpoint: str,
        family: Family,
        plan: UpstreamRequest,
        content: bytes,
        send: Callable[[str, bytes], Awaitable[T]],
    ) -> T:
        """Send with automatic cache breakpoints where they apply; an endpoint that refuses them (a 400 naming
        ``cache_control``: nothing was generated) gets the request again without them, once, and is remembered."""
        bodies = self.caching.bodies(endpoint, family, plan.body, content)
        if bodies.retry is None:
            return await send(endpoint, bodies.first)
        try:
            return await send(endpoint, bodies.first)
        except ProxyError as exc:
            if not is_refusal(exc):
                raise
        self.caching.refusals.remember(endpoint)
        self.metrics.cache_refusals.labels(self.metrics.models.label(endpoint, True)).inc()  # it answered: it exists
        note = "cache breakpoints refused, sent without"
        record.note = f"{record.note}; {note}" if record.note else note
        return await send(endpoint, bodies.retry())

    async def _explained(self, exc: ProxyError, model: ResolvedModel, endpoint: str, authorization: str) -> ProxyError:
        """Databricks' error, or a clearer one when the model name or the model's task is the problem."""
        if exc.status == 404 and not isinstance(exc, ModelNotFoundError):
            # Databricks: "Endpoint with name '...' does not exist."
            return await self.catalog.not_found(model.requested, authorization, model.models_path)
        if exc.status == 400:
            # Databricks' strict decoder: 'json: unknown field "prompt"' for a prompt sent to a chat model.
            actual = await self.catalog.task_of(endpoint, authorization)
            if actual is not None and actual != model.task and actual in _TASK_ROUTES:
                what, route = _TASK_ROUTES[actual]
                return InvalidRequestError(
                    f"'{model.requested}' is {what} (Databricks task {actual}): send it to {route}. "
                    f"Databricks said: {exc.message}"[:1000],
                    param="model",
                    code="wrong_endpoint_for_model",
                )
        return exc

    async def _bounded(self, call: Call, work: Awaitable[T]) -> T | None:
        """Await ``work``; cancel it when the client goes away (None) or after the deadline (504).

        Uvicorn does not cancel a handler whose client disconnected; this does, so that Databricks
        stops generating (and billing) for nobody. Plain asyncio: one small task and one timer.
        """
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        reason: list[str] = []
        receive = call.receive

        def stop(why: str) -> None:
            if not reason:
                reason.append(why)
                task.cancel()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            stop("disconnect")

        watcher = loop.create_task(watch())
        timer = loop.call_later(self.settings.request_timeout, stop, "timeout")
        try:
            return await work
        except asyncio.CancelledError:
            if not reason:
                raise
            task.uncancel()
            if reason[0] == "timeout":
                raise UpstreamTimeoutError("Databricks did not finish the answer in time.") from None
            call.record.status = CLIENT_CLOSED
            call.record.error_type = "client_closed"
            return None
        finally:
            timer.cancel()
            watcher.cancel()
