from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import EmbeddingList, EmbeddingRequest
from routes.deps import read_payload, services_of
from routes.docs import ERROR_RESPONSES, json_body
from routes.forward import forward_json
from routes.lean import LeanRoute
from services.translate import responses
from services.translate.requests import embedding_request

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.post(
    "/embeddings",
    response_model=EmbeddingList,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(EmbeddingRequest),
    summary="Create embeddings",
)
async def create_embeddings(request: Request) -> Response:
    services = services_of(request)
    payload = await read_payload(request, EmbeddingRequest, services)
    model = payload["model"]
    endpoint = services.catalog.resolve(model)
    plan = embedding_request(payload)
    normalize = partial(responses.embeddings, requested_model=model, encoding_format=plan.encoding_format)
    return await forward_json(request, services, plan, model, endpoint, normalize)
