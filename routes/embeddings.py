from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import EmbeddingList, EmbeddingRequest
from routes.delivery import respond_json
from routes.deps import OPENAI_MODELS_PATH, read_payload, resolve_model
from routes.lean import LeanRoute, needs
from routes.openapi import post_docs
from services.databricks.catalog import EMBEDDINGS_TASK
from services.pivot import answers
from services.pivot.requests import embedding_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post("/embeddings", **post_docs(EmbeddingRequest, EmbeddingList, "Create embeddings"))
@needs(label="embeddings")
async def create_embeddings(request: Request) -> Response:
    payload = await read_payload(request, EmbeddingRequest)
    model, plan = (
        await resolve_model(request, payload["model"], EMBEDDINGS_TASK, OPENAI_MODELS_PATH),
        embedding_request(payload),
    )
    normalize = partial(answers.embeddings, requested_model=model.requested, encoding_format=plan.encoding_format)
    return await respond_json(request, model, plan, normalize)
