"""What the proxy knows about one request while serving it (for the upstream call, logs and metrics)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
CLIENT_CLOSED = 499  # the status logged for a request whose client went away (nginx's convention)


def client_request_id_from(header: str | None) -> str | None:
    """A client's X-Request-Id for the proxy's own log line, when it is sane."""
    return header if header and _VALID_REQUEST_ID.fullmatch(header) else None


def request_id_from(header: str | None) -> str:
    """The platform's id when it is sane, else a new one (the id goes into logs and upstream bodies)."""
    if header and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@dataclass(slots=True)
class CallRecord:
    request_id: str
    route: str
    started: float
    label: str = "other"  # the route's metric label
    caller: str | None = None
    model: str | None = None
    endpoint: str | None = None
    stream: bool = False
    status: int = 0
    error_type: str | None = None
    error_message: str | None = None
    ttfb: float | None = None
    upstream_latency: float | None = None
    upstream_request_id: str | None = None
    client_request_id: str | None = None  # a client's own X-Request-Id where it is not trusted: only logged
    usage: dict[str, Any] | None = None
    note: str | None = None  # what the proxy left out of the request (e.g. tools it cannot run), for the log
