"""Google's error envelope, built from the dialect-neutral ``ProxyError``.

``{"error": {"code": <HTTP status>, "message": <text>, "status": <google.rpc.Code name>}}`` as the Gemini
API answers (https://ai.google.dev/gemini-api/docs/troubleshooting lists the statuses); the SDKs raise
``ClientError`` for 4xx and ``ServerError`` for 5xx from it. Statuses and ``Retry-After`` pass through.
"""

from __future__ import annotations

from typing import Any

from services.errors import InvalidRequestError, ProxyError

# HTTP status -> google.rpc.Code name (https://cloud.google.com/apis/design/errors#handling_errors).
STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_status(status: int) -> str:
    return STATUSES.get(status, "INVALID_ARGUMENT" if status < 500 else "INTERNAL")


def error_body(error: ProxyError) -> dict[str, Any]:
    return {"error": {"code": error.status, "message": error.message, "status": google_status(error.status)}}


def json_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Google names fields as ``contents[0].parts[1].text``; pydantic's union branches are left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part not in ("body", "str") and not part.startswith(_BRANCHES):
            out += ("." if out else "") + part
    return out


_BRANCHES = ("list[", "function-", "<", "dict[", "nullable[", "literal[", "Content")


def validation_error(errors: list[dict[str, Any]]) -> InvalidRequestError:
    """The deepest of pydantic's errors, worded as the Gemini API words a bad field."""
    if not errors:
        return InvalidRequestError("Invalid JSON payload received.")
    located = [(json_path(e.get("loc", ())), e) for e in errors]
    where, error = max(located, key=lambda pair: len(pair[0]))
    reason = str(error.get("msg", "Invalid value"))[:300]
    return InvalidRequestError(
        f"Invalid JSON payload received. {where}: {reason}" if where else f"Invalid JSON payload received. {reason}",
        param=where or None,
    )
