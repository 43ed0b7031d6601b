"""The Gemini API door: ``generateContent``, ``streamGenerateContent``, ``countTokens`` and the models.

Built on the chat door like the Anthropic door: the request is translated to the chat pivot, served by
the same pipeline, and the pivot answer or chunks are translated back (``services/dialects/gemini``).
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
from routes.deps import read_payload, record_of, services_of, upstream_authorization
from routes.docs import error_responses, post_docs, stream_or_json
from routes.lean import LeanRoute, needs
from routes.respond import STREAM_HEADERS, json_response, respond_json, respond_stream
from services.dialects import Dialect
from services.dialects.gemini import answers as gemini_answers
from services.dialects.gemini.errors import error_body, json_path, validation_error
from services.dialects.gemini.fields import camel_keys
from services.dialects.gemini.model_ids import endpoint_for, is_gemini_id, model_list, strip_prefix
from services.dialects.gemini.requests import to_chat
from services.dialects.gemini.stream import ContentStream
from services.dialects.gemini.tokens import estimate_tokens
from services.errors import (
    AuthenticationError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamCredentialError,
)
from services.pipeline import Call
from services.translate import answers as chat_answers
from services.translate.chunks import ChatStream
from services.translate.requests import chat_request

router = APIRouter(tags=["Gemini"], route_class=LeanRoute)

ERRORS = error_responses(GeminiErrorResponse)
METHODS = ("generateContent", "streamGenerateContent", "countTokens")


def models_path(request: Request) -> str:
    """This door's list of models under the prefix the request came through (``/api/gemini/v1beta/models``)."""
    path = request.url.path
    index = path.find("/models")
    return path[:index] + "/models" if index > 0 else "/gemini/v1beta/models"


async def endpoint_of(request: Request, model: str) -> str:
    """The model name the pipeline resolves: as given, or the Gemini endpoint a Gemini id maps to."""
    services = services_of(request)
    catalog = services.catalog
    if model in catalog.aliases or not is_gemini_id(model):
        return model
    try:
        names = [m["id"] for m in await catalog.chat_models(upstream_authorization(request, services))]
    except (PermissionDeniedError, AuthenticationError, UpstreamCredentialError):
        return endpoint_for(model, [f"databricks-{model}"]) or model
    if model in names:
        return model
    endpoint = endpoint_for(model, names)
    if endpoint is None:
        raise NotFoundError(
            f"models/{model} is not found: it is a Gemini model id, and no Gemini serving endpoint is there to map "
            f"it to. Name a serving endpoint (GET {models_path(request)} lists them).",
            code="model_not_found",
        )
    return endpoint


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


async def generate_content(request: Request, model: str, *, stream: bool) -> Response:
    payload = camel_keys(await read_payload(request, GenerateContentRequest, validation_error, json_path))
    record = record_of(request)
    try:
        endpoint = await endpoint_of(request, model)
        translation = to_chat(payload, endpoint, stream=stream)
        if translation.dropped:
            record.note = "dropped: " + ", ".join(translation.dropped)
        plan = chat_request(translation.body)
        if stream:
            normalizer = ChatStream(model, include_usage=True, thinking_blocks=True)
            translator = ContentStream(model, thoughts=translation.thoughts)
            if request.query_params.get("alt") == "sse":
                return await respond_stream(request, endpoint, plan, normalizer, translator)
            return await _respond_array(request, endpoint, plan, normalizer, translator)
        normalize = partial(chat_answers.chat_completion, requested_model=model, thinking_blocks=True)
        render = partial(gemini_answers.generate_content_response, model=model, thoughts=translation.thoughts)
        return await respond_json(request, endpoint, plan, normalize, render)
    except ModelNotFoundError as exc:
        raise exc.listed_at(models_path(request)) from None
    finally:
        record.model = model


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
    request: Request, endpoint: str, plan: Any, normalizer: ChatStream, translator: ContentStream
) -> Response:
    services = services_of(request)
    call = Call(record_of(request), request.receive, upstream_authorization(request, services))
    events = await services.pipeline.stream(call, endpoint, plan, normalizer, translator, _array_dialect())
    return StreamingResponse(events, media_type="application/json", headers=STREAM_HEADERS)


async def count_tokens(request: Request, model: str) -> Response:
    payload = camel_keys(await read_payload(request, CountTokensRequest, validation_error, json_path))
    await _check_served(request, model)
    inner = payload.get("generateContentRequest")
    return json_response({"totalTokens": estimate_tokens(inner if isinstance(inner, dict) else payload)})


async def _check_served(request: Request, model: str) -> None:
    """A 404 for a model ``generateContent`` would not find, without calling it."""
    services = services_of(request)
    catalog = services.catalog
    try:
        endpoint = catalog.resolve(await endpoint_of(request, model))
        authorization = upstream_authorization(request, services)
        try:
            listed = {m["id"] for m in await catalog.models(authorization)}
        except (PermissionDeniedError, AuthenticationError, UpstreamCredentialError):
            return
        if endpoint not in listed and model not in listed:
            raise await catalog.not_found(model, authorization)
    except ModelNotFoundError as exc:
        raise exc.listed_at(models_path(request)) from None


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
