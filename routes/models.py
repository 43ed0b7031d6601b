from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.openai import Model, ModelList
from routes.delivery import json_response
from routes.deps import OPENAI_MODELS_PATH, services_of, upstream_authorization
from routes.lean import LeanRoute, needs
from routes.openapi import ERROR_RESPONSES

router = APIRouter(tags=["OpenAI"], route_class=LeanRoute)


@router.get("/models", response_model=ModelList, responses=ERROR_RESPONSES, summary="List the models")
@needs(label="models")
async def list_models(request: Request) -> Response:
    services = services_of(request)
    models = await services.catalog.models(upstream_authorization(request, services))
    return json_response({"object": "list", "data": models})


@router.get("/models/{model:path}", response_model=Model, responses=ERROR_RESPONSES, summary="Retrieve a model")
@needs(label="models/{model}")
async def retrieve_model(model: str, request: Request) -> Response:
    services = services_of(request)
    authorization = upstream_authorization(request, services)
    return json_response(await services.catalog.model(model, authorization, OPENAI_MODELS_PATH))
