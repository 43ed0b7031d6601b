"""The per-request log line stays bounded whatever a client sent in the path, the model or a refused value."""

from __future__ import annotations

import logging
import time
from typing import Any

from services.call import CallRecord
from services.metrics import Metrics
from services.observability import RequestObserver


class Fields(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.fields)  # type: ignore[attr-defined]


def test_path_model_and_error_are_clipped_in_the_log_line() -> None:
    access = logging.getLogger("proxy.access")
    fields = Fields()
    access.addHandler(fields)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        record = CallRecord(request_id="r-1", route="/v1/" + "p" * 60_000, started=time.perf_counter())
        record.model, record.error_message, record.status = "m" * 5000, "e" * 50_000, 404
        observer = RequestObserver(Metrics(by_caller=False), enabled=False)
        observer.start(record)
        observer.finish(record)
    finally:
        access.removeHandler(fields)
        access.setLevel(level)
    [line] = fields.lines
    assert line["route"] == ("/v1/" + "p" * 60_000)[:256] + "..."
    assert line["model"] == "m" * 256 + "..."
    assert line["error"] == "e" * 1000 + "..."
    assert line["request_id"] == "r-1" and line["status"] == 404


def test_the_log_line_and_metrics_count_cached_tokens_from_raw_stream_usage() -> None:
    """A stream's record holds Databricks' own usage (Anthropic's cache names at the top), not the pivot's."""
    access = logging.getLogger("proxy.access")
    fields = Fields()
    access.addHandler(fields)
    level = access.level
    access.setLevel(logging.INFO)
    metrics = Metrics(by_caller=False, models=["databricks-claude-sonnet-4-5"])
    try:
        record = CallRecord(request_id="r-2", route="/v1/chat/completions", started=time.perf_counter())
        record.endpoint, record.status = "databricks-claude-sonnet-4-5", 200
        record.usage = {
            "prompt_tokens": 40,
            "completion_tokens": 2,
            "cache_read_input_tokens": 900,
            "cache_creation_input_tokens": 60,
        }
        observer = RequestObserver(metrics)
        observer.start(record)
        observer.finish(record)
    finally:
        access.removeHandler(fields)
        access.setLevel(level)
    [line] = fields.lines
    assert (line["prompt_tokens"], line["cached_tokens"], line["cache_write_tokens"]) == (1000, 900, 60)
    text = metrics.render()[0].decode()
    for direction, count in (("prompt", 1000), ("cache_read", 900), ("cache_write", 60)):
        series = f'proxy_tokens_total{{caller="",direction="{direction}",model="databricks-claude-sonnet-4-5"}}'
        assert f"{series} {count}.0" in text
