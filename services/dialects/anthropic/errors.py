"""The Anthropic error envelope, built from the dialect-neutral ``ProxyError``.

``{"type": "error", "error": {"type": <type>, "message": <text>}, "request_id": <id>}`` with the type
Anthropic's SDKs map to their exception classes. Statuses pass through (with ``Retry-After``); only
the type depends on the door.
"""

from __future__ import annotations

from typing import Any

from services.errors import InvalidRequestError, ProxyError

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")


def error_body(error: ProxyError, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type(error.status), "message": error.message}}
    if request_id:
        body["request_id"] = request_id
    return body


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Anthropic names fields with dots and indices (``messages.0.content.1.text``): pydantic's union
    branches (``str``, ``list[...]``, ``function-...``) and block tags (``<text>``) are left out."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(str(part))
        elif isinstance(part, str) and part not in ("body", "str") and not part.startswith(_BRANCHES):
            parts.append(part)
    return ".".join(parts)


_BRANCHES = ("list[", "function-", "<", "dict[", "nullable[")
# pydantic's wording that names its own classes or types, in words a client understands.
_REASONS = {
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dict_type": "Input should be an object",
    "list_type": "Input should be a list",
    "string_type": "Input should be a string",
}


def _reason(error: dict[str, Any]) -> str:
    return _REASONS.get(str(error.get("type")), str(error.get("msg", "Invalid value")))


def validation_error(errors: list[dict[str, Any]]) -> InvalidRequestError:
    """The most specific of pydantic's errors (the deepest JSON path), as Anthropic words them; where the
    value matched none of a field's shapes (a string or a list of blocks), the shapes it may take."""
    if not errors:
        return InvalidRequestError("Invalid request.")
    located = [(json_path(e.get("loc", ())), e) for e in errors]
    where = max(located, key=lambda pair: pair[0].count(".") + bool(pair[0]))[0]
    reasons: list[str] = []
    for path, error in located:
        reason = _reason(error)
        if path == where and reason not in reasons:
            reasons.append(reason)
    message = reasons[0] + "".join(" or " + r.removeprefix("Input should be ") for r in reasons[1:])
    message = message[:300]
    return InvalidRequestError(f"{where}: {message}" if where else message, param=where or None)
