"""Start-up and shutdown of the process services (credentials, the one httpx client, the emulator)."""

from __future__ import annotations

import logging
import os
import resource
import time
from typing import NoReturn

from services.banner import announce_emulator
from services.container import Services
from services.databricks.catalog import ModelCatalog
from services.databricks.client import DatabricksClient, build_http_client
from services.databricks.credentials import UpstreamCredentials, resolve_credentials
from services.databricks.routing import UpstreamRouter
from services.databricks.surfaces import Surfaces
from services.limiter import ConcurrencyLimiter
from services.logs import flush_logs, stop_logging
from services.metrics import Metrics
from services.pipeline import Pipeline
from services.settings import Settings
from services.shutdown import StreamRegistry
from services.store.opening import open_store
from services.store.retention import Purger

logger = logging.getLogger("proxy.lifecycle")


_NR_OPEN_FALLBACK = 1_048_576  # Linux's default fs.nr_open


def raise_open_file_limit() -> int:
    """Soft open-file limit up to the hard one: each client socket is a descriptor, and the common
    default of 1024 lets a thousand slow clients starve every other caller (servers such as nginx
    and Go's runtime do the same at start)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit still stops at the kernel's per-process ceiling (fs.nr_open).
    target = _NR_OPEN_FALLBACK if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("open file limit: could not raise %d to %d (%s)", soft, target, exc)
    logger.info("open file limit: %d (hard limit %s)", soft, "unlimited" if hard == resource.RLIM_INFINITY else hard)
    return soft


async def start_services(
    settings: Settings, metrics: Metrics, credentials: UpstreamCredentials | None = None
) -> Services:
    raise_open_file_limit()
    emulator = None
    if credentials is not None:
        await credentials.start(settings.startup_timeout)
        upstream = "databricks"
    elif settings.workspace_configured:
        credentials = await resolve_credentials(settings)
        upstream = "databricks"
        logger.info("upstream: Databricks workspace %s (auth: %s)", credentials.host, credentials.auth_type)
    else:
        from emulator.app import EmulatorOptions
        from emulator.server import EmulatorServer

        announce_emulator()
        emulator = EmulatorServer(EmulatorOptions(chunk_delay=settings.emulator_chunk_delay))
        emulator.start()
        credentials = UpstreamCredentials.static(emulator.url, "local-emulator", auth_type="emulator")
        await credentials.start(settings.startup_timeout)
        upstream = "emulator"
        logger.warning("no Databricks workspace configured: answering from the built-in emulator")
    if not settings.api_keys and not settings.forwarded_identity_trusted:
        logger.warning(
            "the API is open: no PROXY_API_KEYS and not behind the Databricks Apps gateway, so anyone who can "
            "reach this address calls Databricks with the proxy's own credential"
        )
    store = await open_store(settings)
    purger = None
    if store is not None:
        purger = Purger(store, settings.store_purge_seconds)
        purger.start()
        if not settings.api_keys and not settings.forwarded_identity_trusted:
            logger.warning("stored responses: the API is open, so every caller shares one anonymous owner")
    streams = StreamRegistry(settings.shutdown_grace_seconds)
    streams.start()
    http = build_http_client(settings, metrics.retries.inc)
    client = DatabricksClient(http, credentials.host, settings, metrics, credentials.header)
    catalog = ModelCatalog(client, settings, on_listed=metrics.models.learn)
    limiter = ConcurrencyLimiter(settings.max_concurrency)
    surfaces = Surfaces(settings)
    router = UpstreamRouter(client, surfaces, settings.fallbacks)
    return Services(
        settings=settings,
        http=http,
        credentials=credentials,
        client=client,
        catalog=catalog,
        limiter=limiter,
        upstream=upstream,
        started_at=time.time(),
        emulator=emulator,
        metrics=metrics,
        streams=streams,
        surfaces=surfaces,
        pipeline=Pipeline(settings, client, router, catalog, limiter, metrics, streams),
        store=store,
        purger=purger,
    )


def exit_on_startup_failure(error: Exception) -> NoReturn:
    """One clear log line and exit status 3, instead of the server's traceback of the lifespan."""
    logger.critical("start-up failed: %s", error)
    flush_logs()
    os._exit(3)


async def stop_services(services: Services) -> None:
    await services.streams.close()
    if services.purger is not None:
        await services.purger.close()
    if services.store is not None:
        await services.store.close()
    await services.credentials.close()
    await services.http.aclose()
    if services.emulator is not None:
        services.emulator.stop()
    stop_logging()
