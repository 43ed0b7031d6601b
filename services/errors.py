"""Errors that know their HTTP status and their OpenAI error type.

    ProxyError
    ├── InvalidRequestError          400 invalid_request_error
    │   └── UnsupportedParameterError    400, names the parameter
    ├── AuthenticationError          401 authentication_error
    ├── PermissionDeniedError        403 permission_error
    ├── NotFoundError                404 not_found_error
    │   └── ModelNotFoundError           404, code model_not_found
    ├── RequestTooLargeError         413 invalid_request_error
    ├── UnprocessableError           422 invalid_request_error
    ├── RateLimitError               429 rate_limit_error (carries Retry-After)
    ├── OverloadedError              429 rate_limit_error, the proxy's own concurrency bound
    └── APIError                     5xx api_error
        ├── UpstreamConnectionError      502
        └── UpstreamTimeoutError         504

``from_databricks`` turns any Databricks error body (see the reference variants: ``error_code`` as
string or integer, code-prefixed messages, nested upstream JSON, HTML pages) into one of these.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson


class ProxyError(Exception):
    status: int = 500
    type: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def body_bytes(self) -> bytes:
        return orjson.dumps(self.body())


class InvalidRequestError(ProxyError):
    status = 400
    type = "invalid_request_error"


class UnsupportedParameterError(InvalidRequestError):
    default_code = "unsupported_parameter"


class AuthenticationError(ProxyError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(ProxyError):
    status = 403
    type = "permission_error"


class NotFoundError(ProxyError):
    status = 404
    type = "not_found_error"


class ModelNotFoundError(NotFoundError):
    type = "invalid_request_error"
    default_code = "model_not_found"

    def __init__(self, model: str) -> None:
        super().__init__(f"The model '{model}' does not exist or you do not have access to it.", param="model")


class RequestTooLargeError(ProxyError):
    status = 413
    type = "invalid_request_error"
    default_code = "request_too_large"


class UnprocessableError(ProxyError):
    status = 422
    type = "invalid_request_error"


class RateLimitError(ProxyError):
    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class OverloadedError(RateLimitError):
    default_code = "proxy_overloaded"


class APIError(ProxyError):
    status = 500
    type = "api_error"


class UpstreamConnectionError(APIError):
    status = 502
    default_code = "upstream_unreachable"


class UpstreamTimeoutError(APIError):
    status = 504
    default_code = "upstream_timeout"


_BY_STATUS: dict[int, type[ProxyError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    422: UnprocessableError,
    429: RateLimitError,
}

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


def parse_retry_after(value: str | None, cap: int) -> int | None:
    """Integer seconds, capped; HTTP-date forms and junk are treated as 1 second."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        number = 1.0
    if math.isnan(number):
        number = 1.0
    return min(cap, max(0, int(min(number, cap))))


def from_databricks(status: int, body: bytes, retry_after: str | None = None, retry_after_cap: int = 60) -> ProxyError:
    message, code = _parse_body(body)
    if not message:
        message = f"Databricks answered HTTP {status}."
    headers: dict[str, str] = {}
    seconds = parse_retry_after(retry_after, retry_after_cap)
    if status in (429, 503):
        headers["Retry-After"] = str(seconds if seconds is not None else 1)
    error_class = _BY_STATUS.get(status)
    if error_class is None:
        error_class = APIError if status >= 500 else InvalidRequestError
    error = error_class(message, code=code, status=status, headers=headers)
    return error
