from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import Completion, CompletionRequest
from routes.deps import read_payload
from routes.docs import post_docs
from routes.lean import LeanRoute, needs
from routes.respond import respond_openai
from services.translate import answers
from services.translate.chunks import CompletionStream
from services.translate.requests import completion_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/completions",
    **post_docs(CompletionRequest, Completion, "Create a (legacy) text completion", streams=True),
)
@needs(label="completions")
async def create_completion(request: Request) -> Response:
    payload = await read_payload(request, CompletionRequest)
    model, plan = payload["model"], completion_request(payload)
    return await respond_openai(
        request,
        model,
        plan,
        stream=lambda: CompletionStream(model, plan.include_usage),
        normalize=partial(answers.completion, requested_model=model),
    )
