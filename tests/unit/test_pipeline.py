"""The call pipeline on its own: fallbacks, attribution, the usage record, the limiter, deadline and disconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from services.call import CLIENT_CLOSED, CallRecord
from services.databricks.catalog import CHAT_TASK, ModelCatalog, ResolvedModel
from services.databricks.client import UpstreamAnswer
from services.databricks.families import family_of
from services.databricks.routing import UpstreamRouter
from services.databricks.surfaces import Surfaces
from services.dialects.openai import OPENAI, ChunkPassThrough
from services.errors import InvalidRequestError, RateLimitError, UpstreamTimeoutError
from services.limiter import ConcurrencyLimiter
from services.metrics import Metrics
from services.pipeline import Call, Pipeline
from services.pivot.answers import chat_completion
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request
from services.settings import Settings
from services.shutdown import StreamRegistry

ANSWER = {
    "id": "chatcmpl_1",
    "created": 1,
    "model": "served",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


class Upstream:
    """Stands in for the Databricks client: answers per endpoint, records what was sent."""

    def __init__(self, failures: dict[str, Exception] | None = None, delay: float = 0.0) -> None:
        self.failures = failures or {}
        self.delay = delay
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.cancelled = False

    async def _attempt(self, endpoint: str, content: bytes) -> None:
        self.sent.append((endpoint, orjson.loads(content)))
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if endpoint in self.failures:
            raise self.failures[endpoint]

    async def invoke(self, endpoint: str, content: bytes, authorization: str) -> UpstreamAnswer:
        await self._attempt(endpoint, content)
        return UpstreamAnswer(ANSWER, "req-1")

    async def open_stream(self, endpoint: str, content: bytes, authorization: str) -> httpx.Response:
        await self._attempt(endpoint, content)
        chunks = [
            {"id": "c", "created": 1, "model": "served", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
            {
                "id": "c",
                "created": 1,
                "model": "served",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            },
        ]
        body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
        return httpx.Response(200, content=body, headers={"x-request-id": "req-2"})

    async def list_endpoints(self, authorization: str) -> list[dict[str, Any]]:
        return [{"name": name, "task": "llm/v1/chat"} for name in ("primary", "backup")]


def pipeline(upstream: Upstream, **settings: Any) -> tuple[Pipeline, ConcurrencyLimiter, Metrics]:
    config = Settings(**{"unity_gateway": "off", **settings})
    limiter = ConcurrencyLimiter(4)
    metrics = Metrics(by_caller=False)
    catalog = ModelCatalog(upstream, config)  # type: ignore[arg-type]
    router = UpstreamRouter(upstream, Surfaces(config))  # type: ignore[arg-type]
    return Pipeline(config, upstream, router, catalog, limiter, metrics, StreamRegistry(1.0)), limiter, metrics  # type: ignore[arg-type]


async def connected() -> dict[str, Any]:
    await asyncio.Event().wait()  # the client never goes away
    raise AssertionError("unreachable")


def call(receive: Any = connected) -> Call:
    record = CallRecord(request_id="rid-1", route="/v1/chat/completions", started=0.0, caller="ana@example.com")
    return Call(record, receive, "Bearer app")


PRIMARY = ResolvedModel(
    requested="primary", endpoint="primary", task=CHAT_TASK, family=family_of("primary"), models_path="/v1/models"
)


def plan(stream: bool = False) -> Any:
    return chat_request({"model": "primary", "messages": [{"role": "user", "content": "Q"}], "stream": stream})


@pytest.mark.anyio
async def test_a_429_goes_to_the_fallback_and_usage_is_recorded_from_the_pivot() -> None:
    upstream = Upstream({"primary": RateLimitError("slow down")})
    pipe, limiter, metrics = pipeline(upstream, fallbacks="primary=backup")
    current = call()
    out = await pipe.answer(current, PRIMARY, plan(), lambda data: chat_completion(data, requested_model="primary"))
    assert out is not None and out["choices"][0]["message"]["content"] == "Hi"
    assert [endpoint for endpoint, _ in upstream.sent] == ["primary", "backup"]
    sent = upstream.sent[1][1]
    assert (sent["client_request_id"], sent["usage_context"]) == ("rid-1", {"end_user": "ana@example.com"})
    record = current.record
    assert (record.endpoint, record.upstream_request_id) == ("backup", "req-1")
    assert record.usage == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert metrics.fallbacks.labels("primary", "backup")._value.get() == 1
    assert limiter.active == 0


@pytest.mark.anyio
async def test_other_errors_are_not_retried_and_release_the_limiter() -> None:
    upstream = Upstream({"primary": InvalidRequestError("bad")})
    pipe, limiter, _ = pipeline(upstream, fallbacks="primary=backup")
    with pytest.raises(InvalidRequestError):
        await pipe.answer(call(), PRIMARY, plan(), lambda data: data)
    assert [endpoint for endpoint, _ in upstream.sent] == ["primary"]
    assert limiter.active == 0


@pytest.mark.anyio
async def test_the_deadline_is_a_504_and_cancels_the_upstream_call() -> None:
    upstream = Upstream(delay=5)
    pipe, limiter, _ = pipeline(upstream, request_timeout=0.05)
    with pytest.raises(UpstreamTimeoutError):
        await pipe.answer(call(), PRIMARY, plan(), lambda data: data)
    assert upstream.cancelled and limiter.active == 0


@pytest.mark.anyio
async def test_a_client_that_goes_away_cancels_the_upstream_call() -> None:
    async def gone() -> dict[str, Any]:
        await asyncio.sleep(0.02)
        return {"type": "http.disconnect"}

    upstream = Upstream(delay=5)
    pipe, limiter, _ = pipeline(upstream)
    current = call(gone)
    assert await pipe.answer(current, PRIMARY, plan(), lambda data: data) is None
    assert upstream.cancelled and limiter.active == 0
    assert (current.record.status, current.record.error_type) == (CLIENT_CLOSED, "client_closed")


@pytest.mark.anyio
async def test_a_stream_holds_the_limiter_until_it_ends_and_records_usage() -> None:
    upstream = Upstream()
    pipe, limiter, metrics = pipeline(upstream)
    current = call()
    events: AsyncIterator[bytes] = await pipe.stream(
        current, PRIMARY, plan(stream=True), ChatStream("primary", True), ChunkPassThrough(), OPENAI
    )
    assert limiter.active == 1 and metrics.open_streams._value.get() == 1
    body = b"".join([part async for part in events])
    assert body.endswith(b"data: [DONE]\n\n")
    assert limiter.active == 0 and metrics.open_streams._value.get() == 0
    assert current.record.usage == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert (current.record.upstream_request_id, current.record.error_type) == ("req-2", None)
