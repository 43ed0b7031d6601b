"""Exception handlers: every error leaves as the OpenAI envelope with the status a client expects."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.call import CallRecord
from services.errors import InvalidRequestError, NotFoundError, ProxyError

_STATUS_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}


def error_response(exc: ProxyError, request: Request | None = None) -> Response:
    if request is not None:
        record: CallRecord | None = request.scope.get("state", {}).get("call")
        if record is not None:
            record.error_type = exc.type
            record.error_message = exc.message
    return Response(exc.body_bytes(), status_code=exc.status, headers=exc.headers, media_type="application/json")


def param_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    """Pydantic's error location as OpenAI names parameters: ``messages[0].content``."""
    parts = [p for p in location if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not isinstance(part, str) or part.startswith(("function-", "list[", "str", "int", "float", "bool")):
            continue
        else:
            text += f".{part}" if text else part
    return text or None


def validation_error(errors: list[dict[str, Any]] | Any) -> InvalidRequestError:
    first = errors[0] if errors else {}
    param = param_of(first.get("loc", ()))
    if first.get("type") == "missing":
        return InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
    message = str(first.get("msg", "Invalid request."))
    where = f"Invalid value for '{param}': " if param else "Invalid request: "
    return InvalidRequestError(where + message[:500], param=param, code="invalid_value")


async def _proxy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProxyError)
    return error_response(exc, request)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(validation_error(list(exc.errors())), request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error: ProxyError = NotFoundError(f"Unknown route: {request.method} {request.url.path}", code="unknown_route")
    else:
        error = ProxyError(str(exc.detail), status=exc.status_code)
        error.type = _STATUS_TYPES.get(
            exc.status_code, "invalid_request_error" if exc.status_code < 500 else "api_error"
        )
    error.headers.update(exc.headers or {})
    return error_response(error, request)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProxyError, _proxy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
