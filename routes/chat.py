from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import ChatCompletion, ChatCompletionRequest
from routes.deps import read_payload
from routes.docs import ERROR_RESPONSES, STREAM_OR_JSON, json_body
from routes.lean import LeanRoute, needs
from routes.respond import respond_json, respond_stream
from services.dialects.openai import ChunkPassThrough
from services.translate import answers
from services.translate.chunks import ChatStream
from services.translate.requests import chat_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**ERROR_RESPONSES, **STREAM_OR_JSON},
    openapi_extra=json_body(ChatCompletionRequest),
    summary="Create a chat completion",
)
@needs(label="chat/completions")
async def create_chat_completion(request: Request) -> Response:
    payload = await read_payload(request, ChatCompletionRequest)
    model, plan = payload["model"], chat_request(payload)
    if plan.stream:
        normalizer = ChatStream(model, plan.include_usage, plan.legacy_functions)
        return await respond_stream(request, model, plan, normalizer, ChunkPassThrough())
    normalize = partial(answers.chat_completion, requested_model=model, legacy_functions=plan.legacy_functions)
    return await respond_json(request, model, plan, normalize)
