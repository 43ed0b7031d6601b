"""The Anthropic Messages door: ``messages``, ``messages/count_tokens`` and ``models`` in Anthropic's shapes.

On Claude endpoints the request goes to Databricks' Anthropic Messages API as sent (``native.py``); elsewhere it
is translated to the chat pivot, served by the same pipeline, and the pivot answer or chunks are translated back
(``services/dialects/anthropic``).
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.anthropic import (
    AnthropicErrorResponse,
    AnthropicModelInfo,
    AnthropicModelList,
    CountTokensRequest,
    Message,
    MessagesRequest,
    MessageStreamEvent,
    TokenCount,
)
from routes.delivery import json_response, respond_json, respond_native, respond_stream
from routes.deps import read_payload, record_of, resolve_model, services_of, upstream_authorization
from routes.lean import LeanRoute, needs
from routes.openapi import error_responses, post_docs, stream_or_json
from services.databricks.catalog import CHAT_TASK, ResolvedModel
from services.databricks.surfaces import ANTHROPIC_DOOR
from services.dialects.anthropic import answers, native
from services.dialects.anthropic.errors import json_path, validation_error
from services.dialects.anthropic.model_ids import anthropic_ids, model_infos, model_page
from services.dialects.anthropic.requests import to_chat
from services.dialects.anthropic.stream import MessageStream
from services.dialects.anthropic.tokens import estimate_input_tokens
from services.errors import InvalidRequestError, NotFoundError
from services.pivot import answers as chat_answers
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request

router = APIRouter(tags=["Anthropic"], route_class=LeanRoute)

ERRORS = error_responses(AnthropicErrorResponse)


def models_path(request: Request) -> str:
    """This door's list of models under the prefix the request came through (``/api/anthropic/v1/models``)."""
    path = request.url.path
    return path[: path.index("/v1/") + 4] + "models" if "/v1/" in path else "/anthropic/v1/models"


async def _resolve(request: Request, model: str) -> ResolvedModel:
    """The request's model, Anthropic ids included; errors about it point to this door's list."""
    listed_at = models_path(request)
    return await resolve_model(request, model, CHAT_TASK, listed_at, anthropic_ids(listed_at))


@router.post(
    "/messages",
    **post_docs(
        MessagesRequest,
        Message,
        "Create a message (Anthropic Messages API)",
        errors={**ERRORS, **stream_or_json(MessageStreamEvent)},
    ),
)
@needs(label="anthropic/messages")
async def create_message(request: Request) -> Response:
    payload = await read_payload(request, MessagesRequest, validation_error, json_path)
    model = await _resolve(request, payload["model"])
    build = partial(native.native_request, payload=payload, endpoint=model.endpoint, headers=request.headers)
    reply = await respond_native(request, ANTHROPIC_DOOR, model, build)
    if reply is not None:
        return reply
    translation = to_chat(payload, model.family)
    if translation.dropped:
        record_of(request).note = "dropped: " + ", ".join(translation.dropped)
    plan = chat_request(translation.body)
    name = model.requested
    if plan.stream:
        normalizer = ChatStream(name, include_usage=True, thinking_blocks=True)
        translator = MessageStream(name, thinking=translation.thinking, known_usage=lambda: normalizer.usage)
        return await respond_stream(request, model, plan, normalizer, translator)
    normalize = partial(chat_answers.chat_completion, requested_model=name, thinking_blocks=True)
    render = partial(answers.message, model=name, thinking=translation.thinking)
    return await respond_json(request, model, plan, normalize, render)


@router.post(
    "/messages/count_tokens",
    **post_docs(CountTokensRequest, TokenCount, "Count the input tokens of a message (an estimate)", errors=ERRORS),
)
@needs(label="anthropic/count_tokens")
async def count_tokens(request: Request) -> Response:
    payload = await read_payload(request, CountTokensRequest, validation_error, json_path)
    services = services_of(request)
    # A 404 for a model ``messages`` would not find (aliases, allow-list, the serving endpoints).
    await services.catalog.check_served(
        await _resolve(request, payload["model"]), upstream_authorization(request, services)
    )
    return json_response({"input_tokens": estimate_input_tokens(payload)})


def _limit(value: str | None) -> int:
    if value is None:
        return 20
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise InvalidRequestError("limit: Input should be an integer between 1 and 1000", param="limit")
    return int(value)


@router.get("/models", response_model=AnthropicModelList, responses=ERRORS, summary="List the models (Anthropic)")
@needs(label="anthropic/models")
async def list_models(request: Request) -> Response:
    services = services_of(request)
    query = request.query_params
    infos = model_infos(await services.catalog.chat_models(upstream_authorization(request, services)))
    page = model_page(
        infos, limit=_limit(query.get("limit")), after_id=query.get("after_id"), before_id=query.get("before_id")
    )
    return json_response(page)


@router.get(
    "/models/{model_id:path}", response_model=AnthropicModelInfo, responses=ERRORS, summary="Get a model (Anthropic)"
)
@needs(label="anthropic/models/{model}")
async def retrieve_model(model_id: str, request: Request) -> Response:
    services = services_of(request)
    for info in model_infos(await services.catalog.chat_models(upstream_authorization(request, services))):
        if info["id"] == model_id:
            return json_response(info)
    raise NotFoundError(f"The model '{model_id}' is not served here (GET {models_path(request)} lists them).")
