"""Composition root: ``uvicorn app:app`` serves the proxy; tests call ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from routes import anthropic, chat, completions, conversations, embeddings, gemini, health, models, responses
from routes import metrics as metrics_routes
from routes.errors import register_error_handlers
from routes.middleware import ApiKeys, RequestContextMiddleware, RouteTable
from routes.openapi import install_openapi
from routes.pages import ROUTERS as PAGE_ROUTERS
from services.databricks.credentials import CredentialError, UpstreamCredentials
from services.dialects import DialectMap
from services.dialects.anthropic import ANTHROPIC
from services.dialects.gemini import GEMINI
from services.dialects.openai import OPENAI
from services.lifecycle import exit_on_startup_failure, start_services, stop_services
from services.logs import configure_logging
from services.metrics import Metrics
from services.observability import RequestObserver
from services.settings import Settings
from services.store.opening import StoreConfigError

OPENAI_PREFIXES = ("/api/v1", "/v1")
ANTHROPIC_PREFIXES = ("/api/anthropic/v1", "/anthropic/v1")
GEMINI_PREFIXES = ("/api/gemini/v1beta", "/gemini/v1beta", "/api/gemini/v1", "/gemini/v1")


def create_app(settings: Settings | None = None, *, credentials: UpstreamCredentials | None = None) -> FastAPI:
    """``credentials`` replaces databricks-sdk resolution (tests inject a fixed token)."""
    settings = settings or Settings()
    configure_logging(settings)
    metrics = Metrics(settings.metrics_by_caller, settings.prometheus_multiproc_dir, settings.configured_endpoints)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            app.state.services = await start_services(settings, metrics, credentials)
        except (CredentialError, StoreConfigError) as exc:
            exit_on_startup_failure(exc)
        try:
            yield
        finally:
            await stop_services(app.state.services)

    app = FastAPI(
        title="Databricks OpenAI Proxy",
        version="0.1.0",
        description=(
            "OpenAI (chat, completions, embeddings, models, Responses), Anthropic Messages and Gemini APIs "
            "for Databricks Model Serving."
        ),
        lifespan=lifespan,
        docs_url=None,  # routes/pages serves /docs and /redoc from the app's own files
        redoc_url=None,
    )
    # Each door: its path prefixes, its dialect (errors and stream framing), its routers.
    dialects = DialectMap(default=OPENAI)
    doors = [
        (OPENAI_PREFIXES, OPENAI, (chat, completions, embeddings, models, responses, conversations)),
        (ANTHROPIC_PREFIXES, ANTHROPIC, (anthropic,)),
        (GEMINI_PREFIXES, GEMINI, (gemini,)),
    ]
    # /api/metrics too: behind Databricks Apps only /api/ paths take a bearer token, which a scraper sends.
    mounted = [
        ("", health.router),
        ("", metrics_routes.router),
        ("/api", metrics_routes.router),
        *(("", router) for router in PAGE_ROUTERS),
    ]
    for prefixes, dialect, modules in doors:
        for prefix in prefixes:
            dialects.register(prefix + "/", dialect)
            mounted += [(prefix, module.router) for module in modules]
    for prefix in ("/api/anthropic/", "/anthropic/"):  # unknown routes there answer in Anthropic's envelope too
        dialects.register(prefix, ANTHROPIC)
    for prefix in ("/api/gemini/", "/gemini/"):
        dialects.register(prefix, GEMINI)
    for prefix, router in mounted:
        app.include_router(router, prefix=prefix)
    register_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        RequestContextMiddleware,
        api_keys=ApiKeys(key.get_secret_value() for key in settings.api_keys),
        observer=RequestObserver(metrics, settings.metrics_enabled),
        routes=RouteTable(mounted, app.routes, settings, dialects),
        trust_forwarded_identity=settings.forwarded_identity_trusted,
    )
    return app


app = create_app()
