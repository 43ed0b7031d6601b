"""Prometheus metrics (prometheus-client).

With several uvicorn workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before start:
prometheus-client then shares the values between workers and ``/metrics`` reports the totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from services.caching.usage import cache_counts
from services.call import CallRecord

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
_CHILDREN_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Children:
    requests: Any
    latency: Any
    ttfb: Any
    upstream_latency: Any


class ModelLabels:
    """The values of the ``model`` label, from a bounded set.

    A client can name any well-formed model, so a name becomes a label only once it is known to be a
    real endpoint: configured (allow-list, aliases, fallbacks), listed by Databricks, or one that has
    answered successfully; at most ``limit`` of them. Everything else is counted as ``other``.
    """

    def __init__(self, configured: Iterable[str] = (), limit: int = 1000) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self.learn(configured)

    def learn(self, names: Iterable[str]) -> None:
        for name in names:
            if len(self._known) >= self.limit:
                return
            self._known.add(name)

    def label(self, endpoint: str | None, answered: bool) -> str:
        if endpoint is None:
            return "none"
        if endpoint in self._known:
            return endpoint
        if answered and len(self._known) < self.limit:
            self._known.add(endpoint)
            return endpoint
        return "other"


class Metrics:
    def __init__(self, by_caller: bool, multiprocess_dir: str | None = None, models: Iterable[str] = ()) -> None:
        self.by_caller = by_caller
        self.models = ModelLabels(models)
        self._cache: dict[tuple[str, str, str], _Children] = {}
        self.multiprocess = bool(multiprocess_dir)
        self.registry = CollectorRegistry(auto_describe=True)
        registry = None if self.multiprocess else self.registry
        if self.multiprocess:
            multiprocess.MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        self.requests = Counter(
            "proxy_requests_total",
            "Requests by route, model and status class",
            ("route", "model", "status_class"),
            registry=registry,
        )
        self.latency = Histogram(
            "proxy_request_duration_seconds",
            "Time from request to the end of the answer",
            ("route", "model"),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.ttfb = Histogram(
            "proxy_time_to_first_byte_seconds",
            "Time from request to the first byte of the answer",
            ("route", "model"),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.upstream_latency = Histogram(
            "proxy_upstream_duration_seconds",
            "Time spent waiting on Databricks",
            ("model",),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        gauge_mode = {"multiprocess_mode": "livesum"} if self.multiprocess else {}
        self.in_flight = Gauge("proxy_in_flight_requests", "Requests being served", registry=registry, **gauge_mode)  # type: ignore[arg-type]
        self.open_streams = Gauge("proxy_open_streams", "Streams being relayed", registry=registry, **gauge_mode)  # type: ignore[arg-type]
        self.tokens = Counter(
            "proxy_tokens_total",
            "Tokens by model, direction (prompt|completion; cache_read|cache_write: the part of prompt read from "
            "or written to the prompt cache) and caller (when enabled)",
            ("model", "direction", "caller"),
            registry=registry,
        )
        self.errors = Counter(
            "proxy_errors_total",
            "Failed requests by error kind (client_closed for disconnects)",
            ("type",),
            registry=registry,
        )
        self.retries = Counter(
            "proxy_upstream_retries_total",
            "Requests sent again: the connection failed, or the upstream had dropped the pooled connection, "
            "before any answer",
            registry=registry,
        )
        self.cache_refusals = Counter(
            "proxy_cache_breakpoints_refused_total",
            "Requests sent again without automatic cache breakpoints because the endpoint refused them",
            ("model",),
            registry=registry,
        )
        self.fallbacks = Counter(
            "proxy_fallbacks_total", "Requests sent to a fallback endpoint", ("model", "fallback"), registry=registry
        )

        self.store_failures = Counter(
            "proxy_store_failures_total",
            "Answers given but not stored (write: the store failed; too_large: over the per-response cap)",
            ("reason",),
            registry=registry,
        )

    def started(self) -> None:
        self.in_flight.inc()

    def _children(self, route: str, model: str, status_class: str) -> _Children:
        """The labelled series one kind of request updates, looked up once per combination."""
        key = (route, model, status_class)
        children = self._cache.get(key)
        if children is None:
            if len(self._cache) >= _CHILDREN_CACHE_SIZE:
                self._cache.clear()
            children = _Children(
                self.requests.labels(route, model, status_class),
                self.latency.labels(route, model),
                self.ttfb.labels(route, model),
                self.upstream_latency.labels(model),
            )
            self._cache[key] = children
        return children

    def finished(self, record: CallRecord, duration: float) -> None:
        self.in_flight.dec()
        status = record.status or 500
        model = self.models.label(record.endpoint, 200 <= status < 300)
        children = self._children(record.label, model, _STATUS_CLASSES.get(status // 100, "5xx"))
        children.requests.inc()
        children.latency.observe(duration)
        if record.ttfb is not None:
            children.ttfb.observe(record.ttfb)
        if record.upstream_latency is not None:
            children.upstream_latency.observe(record.upstream_latency)
        if record.error_type is not None:
            self.errors.labels(record.error_type).inc()
        usage = record.usage
        if usage:
            caller = (record.caller or "") if self.by_caller else ""
            cache = cache_counts(usage)
            prompt = cache.prompt
            completion = usage.get("completion_tokens")
            if prompt > 0:
                self.tokens.labels(model, "prompt", caller).inc(prompt)
            if cache.read > 0:
                self.tokens.labels(model, "cache_read", caller).inc(cache.read)
            if cache.written > 0:
                self.tokens.labels(model, "cache_write", caller).inc(cache.written)
            if isinstance(completion, int) and completion > 0:
                self.tokens.labels(model, "completion", caller).inc(completion)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
