"""Exception handlers: every error leaves in the envelope of the route's dialect, with the status a client expects."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.bounds import openai_param
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
    fields = [
        part
        for part in location
        if isinstance(part, int)
        or (
            isinstance(part, str)
            and part not in ("body", "query", "path")
            and part not in _TYPE_NAMES
            and "[" not in part
            and not part.startswith("function-")
            and not part[:1].isupper()
        )
    ]  # pydantic also names union branches, models and validators (``str``, ``list[...]``): not fields
    return openai_param(tuple(fields)) or None


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


# Where each door lives: a client whose base URL lacks the prefix sends the bare path.
_DOOR_PREFIXES = ("/v1", "/api/v1", "/anthropic", "/api/anthropic", "/anthropic/v1", "/api/anthropic/v1")
_MAX_PATH_SHOWN = 200


def _route_methods(request: Request) -> dict[str, set[str]]:
    """Path -> methods of the documented routes (the app's cached OpenAPI description)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    return {path: {method.upper() for method in operations} for path, operations in paths.items()}


def unknown_route(request: Request) -> NotFoundError:
    method, path = request.method, request.url.path
    routes = _route_methods(request)
    meant = [prefix + path for prefix in _DOOR_PREFIXES if method in routes.get(prefix + path, ())]
    message = f"Unknown route: {method} {path[:_MAX_PATH_SHOWN]}."
    if meant:
        message += (
            f" Did you mean {method} {' or '.join(meant[:2])}? The base URL of an OpenAI client ends in /v1"
            " (/api/v1 behind Databricks Apps); Anthropic clients use /anthropic (/api/anthropic)."
        )
    return NotFoundError(message, code="unknown_route")


def method_not_allowed(request: Request, allowed: str | None) -> ProxyError:
    path = request.url.path[:_MAX_PATH_SHOWN]
    methods = allowed or ", ".join(sorted(_route_methods(request).get(request.url.path, ())))
    error = error_class_for(405)(
        f"{request.method} is not allowed on {path}: use {methods or 'another method'}.",
        status=405,
        code="method_not_allowed",
    )
    if methods:
        error.headers["Allow"] = methods
    return error


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error: ProxyError = unknown_route(request)
    elif exc.status_code == 405:
        error = method_not_allowed(request, headers.pop("Allow", None))
    else:
        error = error_class_for(exc.status_code)(str(exc.detail), status=exc.status_code)
    error.headers.update(headers)
    return error_response(error, request)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProxyError, _proxy_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
