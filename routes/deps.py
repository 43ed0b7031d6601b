"""Helpers every route shares: the process services, the call record and dialect, the bounded body, validation,
the caller's identity."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from routes.errors import validation_error
from routes.identity import user_token_of
from services.bounds import Path, check_bounds, openai_param
from services.call import CallRecord
from services.container import Services
from services.databricks.catalog import ProviderIds, ResolvedModel
from services.databricks.credentials import user_authorization
from services.dialects import Dialect
from services.dialects.openai import OPENAI
from services.errors import (
    InvalidRequestError,
    ProxyError,
    RequestTimeoutError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
)
from services.prescan import check_price

# The OpenAI doors' list of models, as OpenAI names it (the same list is under /api/v1 too).
OPENAI_MODELS_PATH = "/v1/models"


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def record_of(request: Request) -> CallRecord:
    record: CallRecord = request.scope["state"]["call"]
    return record


def dialect_of(request: Request) -> Dialect:
    """The dialect of the route's door, as the middleware found it for the path."""
    dialect: Dialect = request.scope.get("state", {}).get("dialect", OPENAI)
    return dialect


def upstream_authorization(request: Request, services: Services) -> str:
    """The caller's own Databricks token when a trusted gateway forwards one (and that is enabled)."""
    forwarded = user_authorization(user_token_of(request), services.settings.forward_user_token)
    return forwarded or services.credentials.header()


async def resolve_model(
    request: Request, model: str, task: str, models_path: str, ids: ProviderIds | None = None
) -> ResolvedModel:
    """The request's model, resolved once (``ModelCatalog.resolve``) with the caller's upstream credentials;
    ``models_path`` is the door's list of models, which errors about the model name."""
    services = services_of(request)
    record_of(request).model = model  # the log names the model asked for; ``endpoint`` says what served it
    return await services.catalog.resolve(model, task, upstream_authorization(request, services), models_path, ids)


def _too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"The request body is larger than the limit of {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_json_media_type(request: Request) -> None:
    """Only JSON bodies: a cross-site form (form-encoded, multipart, text/plain) or a body of no declared type
    never reaches the API. curl's ``-H 'Content-Type: application/json'`` and every SDK send this."""
    declared = request.headers.get("content-type", "")
    media = declared.partition(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        shown = f"'{declared[:100]}'" if declared else "none"
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Type {shown}: send the request body as 'application/json'."
        )


def _check_identity_encoding(request: Request) -> None:
    """A compressed body would be read as JSON text; say so rather than fail to parse it."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Encoding '{encoding[:100]}': send the request body uncompressed."
        )


def _parse(raw: bytes) -> Any:
    """``orjson.loads`` with the garbage collector held off: a parse only allocates, and a collection run inside
    one walks every object built so far, again and again (three times the parse's own cost on many small
    containers)."""
    if not gc.isenabled():
        return orjson.loads(raw)
    gc.disable()
    try:
        return orjson.loads(raw)
    finally:
        gc.enable()


async def read_payload(
    request: Request,
    model: type[BaseModel],
    invalid: Callable[[list[dict[str, Any]]], ProxyError] = validation_error,
    path_name: Callable[[Path], str] = openai_param,
) -> dict[str, Any]:
    """The JSON body as a dictionary, validated against ``model`` (``invalid`` words the error, naming the field
    as ``path_name`` writes a path)."""
    _check_json_media_type(request)
    _check_identity_encoding(request)
    settings = services_of(request).settings
    try:
        async with asyncio.timeout(settings.body_timeout):  # a body sent a byte at a time holds no task for ever
            raw = await read_body(request, settings.max_body_bytes)
    except TimeoutError:
        raise RequestTimeoutError(
            f"The request body did not arrive within {settings.body_timeout:g} seconds."
        ) from None
    if not raw.strip():
        raise InvalidRequestError("The request body is empty; send a JSON object.")
    check_price(raw, settings.max_json_values)  # before the parse: its cost is the client's choice
    try:
        payload = _parse(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"The request body is not valid JSON: {exc}"[:300], code="invalid_json") from None
    if not isinstance(payload, dict):
        raise InvalidRequestError("The request body must be a JSON object.", code="invalid_json")
    check_bounds(payload, model, settings.max_json_depth, settings.max_json_values, path_name)
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        raise invalid([dict(e) for e in exc.errors(include_url=False, include_input=False)]) from None
    return payload
