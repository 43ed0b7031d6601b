"""OpenAPI documentation of request bodies that the routes read and validate themselves.

The routes parse the raw body (faster than FastAPI's body parameters, and errors come out as the
OpenAI envelope), so the request schemas are added to ``/openapi.json`` here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

from models.openai import ErrorResponse
from routes.lean import needs_of

_REF = "#/components/schemas/{model}"
_BODIES: dict[str, type[BaseModel]] = {}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body is ``model``."""
    _BODIES[model.__name__] = model
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}},
        }
    }


_ERROR_STATUSES = {
    400: "Invalid request",
    401: "Missing or wrong credentials",
    403: "Permission denied",
    404: "Unknown model",
    413: "Request body too large",
    429: "Rate limited (see Retry-After)",
    502: "Databricks unreachable or failing",
    504: "Databricks timed out",
}


def error_responses(envelope: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The documented error statuses of a route whose door answers errors in ``envelope``."""
    return {status: {"model": envelope, "description": text} for status, text in _ERROR_STATUSES.items()}


ERROR_RESPONSES = error_responses(ErrorResponse)


STREAM_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE chunks"}
}


def stream_or_json(event: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses`` of a route answering JSON or, with ``stream: true``, SSE events shaped like ``event``."""
    _BODIES[event.__name__] = event
    schema = {"schema": {"$ref": _REF.format(model=event.__name__)}}
    return {200: {"content": {"text/event-stream": schema}, "description": "JSON, or SSE events"}}


def post_docs(
    body: type[BaseModel],
    answer: type[BaseModel],
    summary: str,
    *,
    streams: bool | type[BaseModel] = False,
    errors: dict[int | str, dict[str, Any]] = ERROR_RESPONSES,
) -> dict[str, Any]:
    """The documentation keywords of a POST route that reads ``body`` and answers ``answer`` (or SSE; ``streams``
    may be the model of its events)."""
    if isinstance(streams, type):
        errors = {**errors, **stream_or_json(streams)}
    elif streams:
        errors = {**errors, **STREAM_OR_JSON}
    return {
        "response_model": answer,
        "responses": errors,
        "openapi_extra": json_body(body),
        "summary": summary,
    }


# How a client may send its key; /docs offers both under "Authorize" (OpenAI clients send a bearer token, Anthropic
# clients x-api-key). Behind Databricks Apps the bearer token is a Databricks OAuth token.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from PROXY_API_KEYS, or behind Databricks Apps a Databricks OAuth token",
    },
    "x-api-key": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "The same key, as Anthropic sends it",
    },
}


_CONVERTOR = re.compile(r"\{(\w+):[^}]+\}")


def _api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        nested = getattr(route, "original_router", None)
        if nested is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(nested.routes, prefix + str(getattr(context, "prefix", "")))


def _declare_keys(schema: dict[str, Any], app: FastAPI) -> None:
    """The security schemes, and on every operation that takes a key, either scheme."""
    schema["components"]["securitySchemes"] = SECURITY_SCHEMES
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for full_path, route in _api_routes(app.routes):
        path = _CONVERTOR.sub(r"{\1}", full_path)  # OpenAPI writes {model}, the route {model:path}
        if path not in paths or needs_of(route.endpoint).key is False:
            continue
        for method in route.methods or ():
            operation = paths[path].get(method.lower())
            if operation is not None:
                operation["security"] = [{"bearer": []}, {"x-api-key": []}]


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _BODIES.items():
            body_schema = model.model_json_schema(ref_template=_REF)
            for def_name, definition in body_schema.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            components[name] = body_schema
        _declare_keys(schema, app)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
