"""Composition root: ``uvicorn app:app`` serves the proxy; tests call ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from routes import chat, completions, embeddings, health, models
from routes import metrics as metrics_routes
from routes.docs import install_openapi
from routes.errors import register_error_handlers
from routes.lean import LeanRoute
from routes.middleware import ApiKeys, RequestContextMiddleware
from services.auth import CredentialError, UpstreamCredentials
from services.lifecycle import exit_on_startup_failure, start_services, stop_services
from services.metrics import Metrics
from services.observability import RequestObserver, configure_logging
from services.settings import Settings

API_PREFIXES = ("/api/v1", "/v1")


def create_app(settings: Settings | None = None, *, credentials: UpstreamCredentials | None = None) -> FastAPI:
    """``credentials`` replaces databricks-sdk resolution (tests inject a fixed token)."""
    settings = settings or Settings()
    configure_logging(settings)
    metrics = Metrics(settings.metrics_by_caller, settings.prometheus_multiproc_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            app.state.services = await start_services(settings, metrics, credentials)
        except CredentialError as exc:
            exit_on_startup_failure(exc)
        try:
            yield
        finally:
            await stop_services(app.state.services)

    app = FastAPI(
        title="Databricks OpenAI Proxy",
        version="0.1.0",
        description="OpenAI-compatible API for Databricks Model Serving.",
        lifespan=lifespan,
    )
    mounted = [(prefix, module.router) for prefix in API_PREFIXES for module in (chat, completions, embeddings, models)]
    mounted += [("", health.router), ("", metrics_routes.router)]
    for prefix, router in mounted:
        app.include_router(router, prefix=prefix)
    register_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        RequestContextMiddleware,
        api_keys=ApiKeys(key.get_secret_value() for key in settings.api_keys),
        protect_metrics=settings.metrics_require_key,
        observer=RequestObserver(metrics, settings.metrics_enabled),
        direct_routes={
            (method, prefix + route.path): route.endpoint
            for prefix, router in mounted
            for route in router.routes
            if isinstance(route, LeanRoute) and not route.param_convertors
            for method in route.methods or ()
        },
    )
    return app


app = create_app()
