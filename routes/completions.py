from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import Completion, CompletionRequest
from routes.deps import read_payload
from routes.docs import ERROR_RESPONSES, STREAM_OR_JSON, json_body
from routes.lean import LeanRoute, needs
from routes.respond import respond_json, respond_stream
from services.dialects.openai import ChunkPassThrough
from services.translate import answers
from services.translate.chunks import CompletionStream
from services.translate.requests import completion_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/completions",
    response_model=Completion,
    responses={**ERROR_RESPONSES, **STREAM_OR_JSON},
    openapi_extra=json_body(CompletionRequest),
    summary="Create a (legacy) text completion",
)
@needs(label="completions")
async def create_completion(request: Request) -> Response:
    payload = await read_payload(request, CompletionRequest)
    model, plan = payload["model"], completion_request(payload)
    if plan.stream:
        normalizer = CompletionStream(model, plan.include_usage)
        return await respond_stream(request, model, plan, normalizer, ChunkPassThrough())
    return await respond_json(request, model, plan, partial(answers.completion, requested_model=model))
