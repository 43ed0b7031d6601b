"""The OpenAI Responses API door (``POST /v1/responses``), served over Databricks chat invocations."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.responses import Response as ResponseObject
from models.responses import ResponseCreateRequest, ResponseEvent
from routes.deps import read_payload, record_of, services_of
from routes.docs import ERROR_RESPONSES, post_docs
from routes.lean import LeanRoute, needs
from routes.respond import respond_json, respond_stream
from services.dialects.responses import RESPONSES, ResponsesStream, from_chat, to_chat
from services.errors import NotFoundError
from services.translate import answers
from services.translate.chunks import ChatStream
from services.translate.requests import chat_request

router = APIRouter(tags=["OpenAI Responses"], route_class=LeanRoute)


@router.post(
    "/responses",
    **post_docs(ResponseCreateRequest, ResponseObject, "Create a model response", streams=ResponseEvent),
    description="Stateless: send the whole conversation in `input` (`store: false`); nothing is kept.",
)
@needs(label="responses")
async def create_response(request: Request) -> Response:
    payload = await read_payload(request, ResponseCreateRequest)
    model = payload["model"]
    call = to_chat(payload, services_of(request).catalog.resolve(model))
    if call.dropped_tools:
        record_of(request).note = "dropped hosted tools: " + ", ".join(call.dropped_tools)
    plan = chat_request(call.chat)
    if plan.stream:
        normalizer = ChatStream(model, include_usage=True, thinking_blocks=True)
        return await respond_stream(request, model, plan, normalizer, ResponsesStream(call), RESPONSES)
    normalize = partial(answers.chat_completion, requested_model=model, thinking_blocks=True)
    return await respond_json(request, model, plan, normalize, partial(from_chat, call=call))


async def _not_stored(request: Request, response_id: str) -> Response:
    raise NotFoundError(
        f"Response '{response_id[:100]}' was not stored: the proxy keeps no responses, so none can be retrieved, "
        "listed, cancelled or deleted. Send the whole conversation in 'input' (with 'store: false') instead.",
        param="response_id",
    )


for method, path, summary in (
    ("GET", "/responses/{response_id}", "Retrieve a response (not available: nothing is stored)"),
    ("DELETE", "/responses/{response_id}", "Delete a response (not available: nothing is stored)"),
    ("GET", "/responses/{response_id}/input_items", "List input items (not available: nothing is stored)"),
    ("POST", "/responses/{response_id}/cancel", "Cancel a response (not available: nothing is stored)"),
):
    router.add_api_route(
        path,
        needs(label="responses")(_not_stored),
        methods=[method],
        responses=ERROR_RESPONSES,
        summary=summary,
    )
