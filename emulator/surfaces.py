"""What a request to one of a workspace's other surfaces goes through before its answer: Unity Gateway's
``/ai-gateway/...`` paths and the providers' own APIs (Anthropic Messages, OpenAI Responses, Gemini).

A workspace without a surface answers its paths as any unknown path (404 ``ENDPOINT_NOT_FOUND``); an unknown model is
404 ``RESOURCE_DOES_NOT_EXIST``; a native API refuses another provider's endpoint with 400 "... passthrough is not
supported" (what Databricks answers a Claude model on the Responses API); the gateway's budgets answer 403 and its
rate limits 429 with ``Retry-After``. The switches are ``EmulatorOptions``' (``--no-unity-gateway``, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import catalog
from emulator.catalog import Endpoint, Provider
from emulator.state import EmulatorState, json_response, no_such_path, unauthorized

RETRY_AFTER_SECONDS = "7"


@dataclass(slots=True)
class Admitted:
    endpoint: Endpoint
    body: dict[str, Any]
    headers: dict[str, str]  # what every answer carries: x-request-id, served-model-name


def not_found(name: str, headers: dict[str, str]) -> Response:
    message = f"Endpoint with name '{name}' does not exist."
    return json_response(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": message}, headers)


class Gate:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def admit(
        self,
        request: Request,
        *,
        gateway: bool,
        native: tuple[Provider, str] | None = None,
        name: str | None = None,
    ) -> Admitted | Response:
        """The request's endpoint and body, or the answer that stops it. ``native``: (the provider whose API this
        is, the API's name for the refusal); ``name``: the model when the path names it (Gemini), else the body's."""
        options = self.state.options
        raw = await request.body()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        self.state.record(request, body)
        if (gateway and not options.unity_gateway) or (native is not None and not options.native_surfaces):
            return no_such_path(request)
        headers = {"x-request-id": str(uuid.uuid4())}
        if not self.state.authorized(request):
            return unauthorized(headers)
        if not isinstance(body, dict):
            return json_response(400, {"error_code": "BAD_REQUEST", "message": "Malformed JSON body."}, headers)
        model = name if name is not None else body.get("model")
        if not isinstance(model, str) or not model:
            message = "Missing required parameter: 'model'."
            return json_response(400, {"error_code": "BAD_REQUEST", "message": message}, headers)
        endpoint = catalog.lookup_model(model)
        if endpoint is None:
            return not_found(model, headers)
        headers["served-model-name"] = endpoint.served_model
        if gateway and endpoint.name in options.gateway_blocked:
            message = "Request blocked by Unity Gateway: the budget for this user is exhausted."
            return json_response(403, {"error_code": "PERMISSION_DENIED", "message": message}, headers)
        if gateway and endpoint.name in options.gateway_limited:
            message = "Rate limit exceeded for this user."
            limited = {**headers, "Retry-After": RETRY_AFTER_SECONDS}
            return json_response(429, {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": message}, limited)
        if native is not None:
            provider, api = native
            if catalog.provider_of(endpoint) != provider or endpoint.name in options.native_unserved:
                message = f"{api} passthrough is not supported for endpoint '{endpoint.name}'."
                return json_response(400, {"error_code": "BAD_REQUEST", "message": message}, headers)
        return Admitted(endpoint, body, headers)
