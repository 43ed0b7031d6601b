"""The OpenAI Responses API door (``POST /v1/responses``): GPT endpoints through Databricks' own Responses API,
the others over chat invocations; stored
responses (``GET``/``DELETE /v1/responses/{id}``, ``/input_items``) when a store is configured."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.responses import Response as ResponseObject
from models.responses import ResponseCreateRequest, ResponseEvent
from routes.delivery import json_response, respond_json, respond_native, respond_stream
from routes.deps import OPENAI_MODELS_PATH, read_payload, record_of, resolve_model, services_of
from routes.lean import LeanRoute, needs
from routes.openapi import ERROR_RESPONSES, post_docs
from routes.stateful import owner_of, store_of
from services.databricks.catalog import CHAT_TASK
from services.databricks.surfaces import RESPONSES_DOOR
from services.dialects.responses import RESPONSES, ResponsesStream, from_chat, to_chat
from services.dialects.responses import native as native_responses
from services.errors import InvalidRequestError
from services.pivot import answers
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request
from services.store import history
from services.store.history import StoredObjectNotFoundError
from services.store.pages import list_object, page_of, page_query
from services.store.streaming import FinalResponse, kept

router = APIRouter(tags=["OpenAI Responses"], route_class=LeanRoute)


@router.post(
    "/responses",
    **post_docs(ResponseCreateRequest, ResponseObject, "Create a model response", streams=ResponseEvent),
    description="`store` (true by default) keeps the response for `previous_response_id`, `GET` and `DELETE`; "
    "`conversation` continues a stored conversation. With `PROXY_STORE_URL=off` nothing is kept: send the "
    "whole conversation in `input` with `store: false`.",
)
@needs(label="responses")
async def create_response(request: Request) -> Response:
    services = services_of(request)
    payload = await read_payload(request, ResponseCreateRequest)
    # The stored history first: what follows (translation, or a native pass-through) gets a complete body.
    turn = await history.prepare(services.store, services.settings, owner_of(request), payload)
    model = await resolve_model(request, payload["model"], CHAT_TASK, OPENAI_MODELS_PATH)
    save = partial(history.keep, services.store, services.settings, services.metrics, turn)
    keeps = services.store is not None and (turn.store or turn.conversation_id is not None)
    build = partial(native_responses.native_request, body=turn.body, endpoint=model.endpoint, keep=keeps)
    reply = await respond_native(request, RESPONSES_DOOR, model, build, keep=save if keeps else None)
    if reply is not None:
        return reply
    call = to_chat(turn.body, model.family)
    turn.annotate(call.echo)
    if call.dropped_tools:
        record_of(request).note = "dropped hosted tools: " + ", ".join(call.dropped_tools)
    plan = chat_request(call.chat)
    if plan.stream:
        normalizer = ChatStream(model.requested, include_usage=True, thinking_blocks=True)
        final = FinalResponse(ResponsesStream(call))
        return await respond_stream(request, model, plan, normalizer, final, RESPONSES, wrap=kept(final, save))
    rendered: list[dict[str, Any]] = []

    def render(answer: dict[str, Any]) -> dict[str, Any]:
        response = from_chat(answer, call=call)
        rendered.append(response)
        return response

    normalize = partial(answers.chat_completion, requested_model=model.requested, thinking_blocks=True)
    reply = await respond_json(request, model, plan, normalize, render)
    if rendered:
        await save(rendered[0])
    return reply


def _not_found(response_id: str) -> StoredObjectNotFoundError:
    return StoredObjectNotFoundError(f"Response with id '{response_id[:100]}' not found.")


@router.get(
    "/responses/{response_id}",
    response_model=ResponseObject,
    responses=ERROR_RESPONSES,
    summary="Retrieve a stored response",
)
@needs(label="responses/{id}")
async def retrieve_response(request: Request, response_id: str) -> Response:
    stored = await store_of(request, "Response").get_response(owner_of(request), response_id, int(time.time()))
    if stored is None:
        raise _not_found(response_id)
    return json_response(stored.body)


@router.delete("/responses/{response_id}", responses=ERROR_RESPONSES, summary="Delete a stored response")
@needs(label="responses/{id}")
async def delete_response(request: Request, response_id: str) -> Response:
    if not await store_of(request, "Response").delete_response(owner_of(request), response_id):
        raise _not_found(response_id)
    return json_response({"id": response_id, "object": "response", "deleted": True})


@router.get(
    "/responses/{response_id}/input_items",
    responses=ERROR_RESPONSES,
    summary="List the input items of a stored response",
)
@needs(label="responses/{id}/input_items")
async def list_input_items(request: Request, response_id: str) -> Response:
    query = page_query(request.query_params)
    stored = await store_of(request, "Response").get_response(owner_of(request), response_id, int(time.time()))
    if stored is None:
        raise _not_found(response_id)
    return json_response(list_object(page_of(stored.input_items, query)))


@router.post("/responses/{response_id}/cancel", responses=ERROR_RESPONSES, summary="Cancel a background response")
@needs(label="responses/{id}")
async def cancel_response(request: Request, response_id: str) -> Response:
    stored = await store_of(request, "Response").get_response(owner_of(request), response_id, int(time.time()))
    if stored is None:
        raise _not_found(response_id)
    raise InvalidRequestError(
        "Only background responses can be cancelled, and this one was not.", code="invalid_request"
    )
