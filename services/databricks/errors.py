"""Databricks error bodies and transport failures -> proxy errors.

``from_databricks`` turns any Databricks error body (see the reference variants: ``error_code`` as
string or integer, code-prefixed messages, nested upstream JSON, HTML pages) into a ``ProxyError``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx
import orjson

from services.errors import ProxyError, UpstreamConnectionError, UpstreamTimeoutError, error_class_for

_CODE_PREFIX = re.compile(r"^(?:[A-Z][A-Z_]{2,}|Bad request):\s*")
_HTML_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_PRE = re.compile(r"<pre>(.*?)</pre>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 2000


def _nested_message(text: str) -> str:
    """Messages sometimes carry the upstream provider's JSON as a string; surface its message."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return stripped
    try:
        inner = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return stripped
    if isinstance(inner, dict):
        error = inner.get("error")
        nested = error.get("message") if isinstance(error, dict) else error
        for candidate in (inner.get("message"), nested):
            if isinstance(candidate, str) and candidate.strip():
                return candidate.strip()
    return stripped


def _clean(message: str) -> str:
    message = _nested_message(message)
    message = _CODE_PREFIX.sub("", message, count=1).strip()
    return message[:_MAX_MESSAGE]


def _parse_body(body: bytes) -> tuple[str | None, str | None]:
    """(message, code) from any Databricks error body variant."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None, None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        external = data.get("external_model_message")
        if isinstance(external, dict):
            data = external
        code_value = data.get("error_code")
        code = code_value if isinstance(code_value, str) else None
        message = data.get("message")
        if message is None:
            error = data.get("error")
            if isinstance(error, dict):
                message = error.get("message")
                code = code or (error.get("code") if isinstance(error.get("code"), str) else None)
            elif isinstance(error, str):
                message = error
            elif data.get("detail"):
                message = str(data["detail"])
        if isinstance(message, str) and message.strip():
            return _clean(message), code
        return None, code
    if "<" in text and ">" in text:
        for pattern in (_HTML_PRE, _HTML_TITLE):
            found = pattern.search(text)
            if found and found.group(1).strip():
                return found.group(1).strip()[:_MAX_MESSAGE], None
        return None, None
    return _clean(text), None


def parse_retry_after(value: str | None, cap: int, now: float | None = None) -> int | None:
    """Whole seconds to wait, capped: from delay-seconds or an HTTP date (RFC 9110); junk is 1 second."""
    if value is None:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        number = _seconds_until(text, time.time() if now is None else now)
    if math.isnan(number):
        number = 1.0
    return min(cap, max(0, int(min(number, cap))))


def _seconds_until(date: str, now: float) -> float:
    try:
        moment = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return 1.0
    if moment.tzinfo is None:  # HTTP dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return math.ceil(moment.timestamp() - now)


def from_databricks(status: int, body: bytes, retry_after: str | None = None, retry_after_cap: int = 60) -> ProxyError:
    message, code = _parse_body(body)
    if not message:
        message = f"Databricks answered HTTP {status}."
    headers: dict[str, str] = {}
    seconds = parse_retry_after(retry_after, retry_after_cap)
    if status in (429, 503):
        headers["Retry-After"] = str(seconds if seconds is not None else 1)
    return error_class_for(status)(message, code=code, status=status, headers=headers)


def transport_error(exc: httpx.HTTPError) -> ProxyError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return UpstreamTimeoutError("Databricks did not answer in time.")
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return UpstreamConnectionError("Could not connect to Databricks Model Serving.")
    if isinstance(exc, httpx.RemoteProtocolError):
        return UpstreamConnectionError("Databricks closed the connection before the answer was complete.")
    return UpstreamConnectionError("The connection to Databricks Model Serving failed.")


@contextmanager
def transport_errors() -> Iterator[None]:
    """``with transport_errors():`` any httpx failure inside leaves as the proxy's error."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc
