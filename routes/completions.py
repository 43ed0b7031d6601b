from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import Completion, CompletionRequest
from routes.deps import read_payload, services_of
from routes.docs import ERROR_RESPONSES, json_body
from routes.forward import forward_json, forward_stream
from routes.lean import LeanRoute
from services.translate import responses
from services.translate.requests import completion_request
from services.translate.streams import CompletionStream

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/completions",
    response_model=Completion,
    responses={**ERROR_RESPONSES, 200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE chunks"}},
    openapi_extra=json_body(CompletionRequest),
    summary="Create a (legacy) text completion",
)
async def create_completion(request: Request) -> Response:
    services = services_of(request)
    payload = await read_payload(request, CompletionRequest, services)
    model = payload["model"]
    endpoint = services.catalog.resolve(model)
    plan = completion_request(payload)
    if plan.stream:
        return await forward_stream(
            request, services, plan, model, endpoint, CompletionStream(model, plan.include_usage)
        )
    normalize = partial(responses.completion, requested_model=model)
    return await forward_json(request, services, plan, model, endpoint, normalize)
