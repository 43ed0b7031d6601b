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
