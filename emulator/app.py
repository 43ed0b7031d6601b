"""The Databricks emulator ASGI app (Starlette): serving-endpoint invocations, the providers' own APIs (Anthropic
Messages, OpenAI Responses, Gemini) and Unity Gateway's paths (``surfaces.py``), the management API, OAuth M2M and
observability routes, speaking the Databricks wire formats with deterministic answers."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.invocations import Invocations
from emulator.management import Management
from emulator.native_anthropic import NativeMessages
from emulator.native_gemini import NativeGemini
from emulator.native_responses import NativeResponses
from emulator.oauth import OAuth
from emulator.state import EmulatorOptions, EmulatorState, json_response
from emulator.streams import install_log_filter

__all__ = ["EmulatorOptions", "create_emulator_app", "release_hangs"]


def release_hangs(app: Any) -> None:
    """Wake the ``fault-hang*`` requests of an emulator app (from its event loop), e.g. before shutdown."""
    state = getattr(getattr(app, "state", None), "emulator", None)
    if isinstance(state, EmulatorState):
        state.hangs.release()


def create_emulator_app(options: EmulatorOptions | None = None) -> Starlette:
    """Build the emulator ASGI app. ``app.state.emulator`` exposes the live state (``.stats``, ``.options``)."""
    install_log_filter()
    state = EmulatorState(options or EmulatorOptions())
    oauth, management, invocations = OAuth(state), Management(state), Invocations(state)
    messages = NativeMessages(state, invocations.gate)
    responses = NativeResponses(state, invocations.gate)
    gemini = NativeGemini(state, invocations.gate)

    async def stats_route(request: Request) -> Response:
        return json_response(200, state.stats.as_dict())

    async def reset_route(request: Request) -> Response:
        state.stats.reset()
        return json_response(200, state.stats.as_dict())

    any_method = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route("/serving-endpoints/anthropic/v1/messages", messages.serving, methods=["POST"]),
        Route("/serving-endpoints/responses", responses.serving, methods=["POST"]),
        Route("/serving-endpoints/gemini/v1beta/models/{model_method}", gemini.serving, methods=["POST"]),
        Route("/serving-endpoints/{name}/invocations", invocations.invocations, methods=["POST"]),
        # Unity Gateway (EmulatorOptions.unity_gateway): the same APIs, governed.
        Route("/ai-gateway/mlflow/v1/chat/completions", invocations.gateway, methods=["POST"]),
        Route("/ai-gateway/mlflow/v1/embeddings", invocations.gateway, methods=["POST"]),
        Route("/ai-gateway/anthropic/v1/messages", messages.gateway, methods=["POST"]),
        Route("/ai-gateway/codex/v1/responses", responses.gateway, methods=["POST"]),
        Route("/ai-gateway/gemini/v1beta/models/{model_method}", gemini.gateway, methods=["POST"]),
        Route("/api/2.0/serving-endpoints", management.list_endpoints, methods=["GET"]),
        Route("/api/2.0/serving-endpoints/{name}", management.get_endpoint, methods=["GET"]),
        Route("/emulator/stats", stats_route, methods=["GET"]),
        Route("/emulator/reset", reset_route, methods=["POST"]),
        Route("/.well-known/databricks-config", oauth.host_metadata, methods=["GET"]),
        Route("/oidc/.well-known/oauth-authorization-server", oauth.oidc_discovery, methods=["GET"]),
        Route("/oidc/v1/token", oauth.token, methods=["POST"]),
        Route("/{path:path}", management.fallback, methods=any_method),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = state
    return app
