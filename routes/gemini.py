"""The Gemini API door: ``generateContent``, ``streamGenerateContent``, ``countTokens`` and the models.

On Gemini endpoints the request goes to Databricks' Gemini API as sent (``native.py``); elsewhere, like the
Anthropic door, it is translated to the chat pivot, served by the same pipeline, and the pivot answer or chunks
are translated back (``services/dialects/gemini``).
Paths follow https://ai.google.dev/api: ``models/{model}:{method}``, ``{model}`` with or without ``models/``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from models.gemini import (
    CountTokensRequest,
    GeminiErrorResponse,
    GeminiModel,
    GenerateContentRequest,
    GenerateContentResponse,
    ListModelsResponse,
)
from routes.delivery import STREAM_HEADERS, json_response, respond_json, respond_native, respond_stream
from routes.deps import read_payload, record_of, resolve_model, services_of, upstream_authorization
from routes.lean import LeanRoute, needs
from routes.openapi import error_responses, post_docs, stream_or_json
from services.databricks.catalog import CHAT_TASK, ResolvedModel
from services.databricks.surfaces import GEMINI_DOOR
from services.dialects import Dialect
from services.dialects.gemini import answers as gemini_answers
from services.dialects.gemini import native as native_gemini
from services.dialects.gemini.errors import error_body, json_path, validation_error
from services.dialects.gemini.fields import camel_keys
from services.dialects.gemini.model_ids import gemini_ids, model_list, strip_prefix
from services.dialects.gemini.requests import to_chat
from services.dialects.gemini.stream import ContentStream
from services.dialects.gemini.tokens import estimate_tokens
from services.errors import NotFoundError
from services.pipeline import Call
from services.pivot import answers as chat_answers
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request

router = APIRouter(tags=["Gemini"], route_class=LeanRoute)

ERRORS = error_responses(GeminiErrorResponse)
METHODS = ("generateContent", "streamGenerateContent", "countTokens")


def models_path(request: Request) -> str:
    """This door's list of models under the prefix the request came through (``/api/gemini/v1beta/models``)."""
    path = request.url.path
    index = path.find("/models")
    return path[:index] + "/models" if index > 0 else "/gemini/v1beta/models"


def _split(model_method: str) -> tuple[str, str]:
    model, _, method = strip_prefix(model_method).rpartition(":")
    if not model or method not in METHODS:
        raise NotFoundError(
            f"'{model_method[:200]}' is not a method here: use models/{{model}}:generateContent, "
            ":streamGenerateContent or :countTokens."
        )
    return model, method


@router.post(
    "/models/{model_method:path}",
    **post_docs(
        GenerateContentRequest,
        GenerateContentResponse,
        "Generate content (Gemini API): models/{model}:generateContent, :streamGenerateContent, :countTokens",
        errors={**ERRORS, **stream_or_json(GenerateContentResponse)},
    ),
)
@needs(label="gemini/models/{model}")
async def model_method(model_method: str, request: Request) -> Response:
    model, method = _split(model_method)
    if method == "countTokens":
        return await count_tokens(request, model)
    return await generate_content(request, model, stream=method == "streamGenerateContent")


async def generate_content(request: Request, model_name: str, *, stream: bool) -> Response:
    payload = camel_keys(await read_payload(request, GenerateContentRequest, validation_error, json_path))
    model = await _resolve(request, model_name)
    sse = request.query_params.get("alt") == "sse"
    build = partial(native_gemini.native_request, payload=payload, endpoint=model.endpoint, stream=stream, sse=sse)
    reply = await respond_native(request, GEMINI_DOOR, model, build)
    if reply is not None:
        return reply
    translation = to_chat(payload, model.family, model=model.requested, stream=stream)
    if translation.dropped:
        record_of(request).note = "dropped: " + ", ".join(translation.dropped)
    plan = chat_request(translation.body)
    name = model.requested
    if stream:
        normalizer = ChatStream(name, include_usage=True, thinking_blocks=True)
        translator = ContentStream(name, thoughts=translation.thoughts)
        if sse:
            return await respond_stream(request, model, plan, normalizer, translator)
        return await _respond_array(request, model, plan, normalizer, translator)
    normalize = partial(chat_answers.chat_completion, requested_model=name, thinking_blocks=True)
    render = partial(gemini_answers.generate_content_response, model=name, thoughts=translation.thoughts)
    return await respond_json(request, model, plan, normalize, render)


async def _resolve(request: Request, model: str) -> ResolvedModel:
    """The request's model, Gemini ids included; errors about it point to this door's list."""
    listed_at = models_path(request)
    return await resolve_model(request, model, CHAT_TASK, listed_at, gemini_ids(listed_at))


def _array_dialect() -> Dialect:
    """Without ``alt=sse`` the stream is one JSON array written as it comes: ``[`` chunk ``,`` chunk ... ``]``;
    a failure after the first byte is the array's last element, an error object."""
    opened = False

    def frame(payload: dict[str, Any]) -> bytes:
        nonlocal opened
        head = b"," if opened else b"["
        opened = True
        tail = b"]" if "error" in payload and "candidates" not in payload else b""
        return head + b"\r\n" + orjson.dumps(payload) + tail

    return Dialect("gemini", error_body, frame, end_of_stream=b"]")


async def _respond_array(
    request: Request, model: ResolvedModel, plan: Any, normalizer: ChatStream, translator: ContentStream
) -> Response:
    services = services_of(request)
    call = Call(record_of(request), request.receive, upstream_authorization(request, services))
    events = await services.pipeline.stream(call, model, plan, normalizer, translator, _array_dialect())
    return StreamingResponse(events, media_type="application/json", headers=STREAM_HEADERS)


async def count_tokens(request: Request, model: str) -> Response:
    payload = camel_keys(await read_payload(request, CountTokensRequest, validation_error, json_path))
    services = services_of(request)
    # A 404 for a model ``generateContent`` would not find, without calling it.
    await services.catalog.check_served(await _resolve(request, model), upstream_authorization(request, services))
    inner = payload.get("generateContentRequest")
    return json_response({"totalTokens": estimate_tokens(inner if isinstance(inner, dict) else payload)})


async def _models(request: Request) -> list[dict[str, Any]]:
    services = services_of(request)
    return model_list(await services.catalog.chat_models(upstream_authorization(request, services)))


@router.get("/models", response_model=ListModelsResponse, responses=ERRORS, summary="List the models (Gemini)")
@needs(label="gemini/models")
async def list_models(request: Request) -> Response:
    return json_response({"models": await _models(request)})


@router.get("/models/{model:path}", response_model=GeminiModel, responses=ERRORS, summary="Get a model (Gemini)")
@needs(label="gemini/models/{model}")
async def get_model(model: str, request: Request) -> Response:
    name = "models/" + strip_prefix(model)
    for entry in await _models(request):
        if entry["name"] == name:
            return json_response(entry)
    raise NotFoundError(f"{name} is not found (GET {models_path(request)} lists the models).")
