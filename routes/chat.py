from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import ChatCompletion, ChatCompletionRequest
from routes.delivery import respond_openai
from routes.deps import OPENAI_MODELS_PATH, read_payload, resolve_model
from routes.lean import LeanRoute, needs
from routes.openapi import post_docs
from services.databricks.catalog import CHAT_TASK
from services.pivot import answers
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/chat/completions",
    **post_docs(ChatCompletionRequest, ChatCompletion, "Create a chat completion", streams=True),
)
@needs(label="chat/completions")
async def create_chat_completion(request: Request) -> Response:
    payload = await read_payload(request, ChatCompletionRequest)
    model = await resolve_model(request, payload["model"], CHAT_TASK, OPENAI_MODELS_PATH)
    plan = chat_request(payload, model.family)
    legacy, name = plan.legacy_functions, model.requested
    return await respond_openai(
        request,
        model,
        plan,
        stream=lambda: ChatStream(name, plan.include_usage, legacy),
        normalize=partial(answers.chat_completion, requested_model=name, legacy_functions=legacy),
    )
