"""Exception handlers: every error leaves in the envelope of the route's dialect, with the status a client expects."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.call import CallRecord
from services.dialects import Dialect
from services.dialects.openai import OPENAI
from services.errors import InvalidRequestError, NotFoundError, ProxyError, error_class_for


def error_response(exc: ProxyError, request: Request | None = None) -> Response:
    dialect: Dialect = OPENAI
    if request is not None:
        state = request.scope.get("state", {})
        dialect = state.get("dialect", OPENAI)
        record: CallRecord | None = state.get("call")
        if record is not None:
            record.error_type = exc.kind
            record.error_message = exc.message
    return Response(
        dialect.error_bytes(exc), status_code=exc.status, headers=exc.headers, media_type="application/json"
    )


_TYPE_NAMES = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def param_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    """Pydantic's error location as OpenAI names parameters: ``messages[0].content``."""
    parts = [p for p in location if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not isinstance(part, str) or part in _TYPE_NAMES or "[" in part or part.startswith("function-"):
            continue  # pydantic's name of a union branch or validator (``str``, ``list[...]``), not a field
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
        error = error_class_for(exc.status_code)(str(exc.detail), status=exc.status_code)
    error.headers.update(exc.headers or {})
    return error_response(error, request)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProxyError, _proxy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
