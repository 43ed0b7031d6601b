from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import ChatCompletion, ChatCompletionRequest
from routes.deps import read_payload, services_of
from routes.docs import ERROR_RESPONSES, json_body
from routes.forward import forward_json, forward_stream
from routes.lean import LeanRoute
from services.translate import responses
from services.translate.requests import chat_request
from services.translate.streams import ChatStream

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE chunks"}},
    openapi_extra=json_body(ChatCompletionRequest),
    summary="Create a chat completion",
)
async def create_chat_completion(request: Request) -> Response:
    services = services_of(request)
    payload = await read_payload(request, ChatCompletionRequest, services)
    model = payload["model"]
    endpoint = services.catalog.resolve(model)
    plan = chat_request(payload)
    if plan.stream:
        stream = ChatStream(model, plan.include_usage, plan.legacy_functions)
        return await forward_stream(request, services, plan, model, endpoint, stream)
    normalize = partial(responses.chat_completion, requested_model=model, legacy_functions=plan.legacy_functions)
    return await forward_json(request, services, plan, model, endpoint, normalize)
