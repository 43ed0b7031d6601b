"""What each finished request leaves behind: its log line and its metrics."""

from __future__ import annotations

import logging
import time

from services.caching.usage import cache_counts
from services.call import CallRecord
from services.metrics import Metrics

access_logger = logging.getLogger("proxy.access")


# Paths, model names and error messages can carry what a client sent: a log line stays bounded all the same.
_MAX_NAME = 256
_MAX_ERROR = 1000


def _clip(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit] + "..."


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 3) if seconds is not None else None


class RequestObserver:
    """Turns each finished request's record into its log line and its metrics."""

    def __init__(self, metrics: Metrics, enabled: bool = True) -> None:
        self.metrics = metrics
        self.enabled = enabled

    def start(self, record: CallRecord) -> None:
        if self.enabled:
            self.metrics.started()

    def finish(self, record: CallRecord) -> None:
        duration = time.perf_counter() - record.started
        if self.enabled:
            self.metrics.finished(record, duration)
        if not access_logger.isEnabledFor(logging.INFO):
            return
        usage = record.usage or {}
        fields = {
            "event": "request",
            "request_id": record.request_id,
            "caller": record.caller,
            "route": _clip(record.route, _MAX_NAME),
            "model": _clip(record.model, _MAX_NAME),
            "endpoint": record.endpoint,
            "stream": record.stream,
            "status": record.status,
            "error_type": record.error_type,
            "error": _clip(record.error_message, _MAX_ERROR),
            "latency_ms": _ms(duration),
            "ttfb_ms": _ms(record.ttfb),
            "upstream_latency_ms": _ms(record.upstream_latency),
            "prompt_tokens": usage.get("prompt_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "total_tokens": usage.get("total_tokens"),
            "upstream_request_id": record.upstream_request_id,
        }
        if record.client_request_id:
            fields["client_request_id"] = record.client_request_id
        cache = cache_counts(usage)
        if cache.read or cache.written:
            fields["prompt_tokens"] = cache.prompt
            fields["cached_tokens"] = cache.read
            fields["cache_write_tokens"] = cache.written
        if record.note:
            fields["note"] = record.note
        # Built directly: Logger.info would walk the stack for caller details this line does not use.
        entry = logging.LogRecord(access_logger.name, logging.INFO, "", 0, "request", None, None)
        entry.fields = fields
        access_logger.handle(entry)
