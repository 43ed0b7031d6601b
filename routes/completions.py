from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import Completion, CompletionRequest
from routes.delivery import respond_openai
from routes.deps import OPENAI_MODELS_PATH, read_payload, resolve_model
from routes.lean import LeanRoute, needs
from routes.openapi import post_docs
from services.databricks.catalog import COMPLETIONS_TASK
from services.pivot import answers
from services.pivot.chunks import CompletionStream
from services.pivot.requests import completion_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/completions",
    **post_docs(CompletionRequest, Completion, "Create a (legacy) text completion", streams=True),
)
@needs(label="completions")
async def create_completion(request: Request) -> Response:
    payload = await read_payload(request, CompletionRequest)
    model, plan = (
        await resolve_model(request, payload["model"], COMPLETIONS_TASK, OPENAI_MODELS_PATH),
        completion_request(payload),
    )
    name = model.requested
    return await respond_openai(
        request,
        model,
        plan,
        stream=lambda: CompletionStream(name, plan.include_usage),
        normalize=partial(answers.completion, requested_model=name),
    )
