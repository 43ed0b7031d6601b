"""``PROXY_STORE_URL`` -> the process's store: ``sqlite:///<path>`` (relative; four slashes for an absolute
path), ``postgresql://...`` (``postgresql://`` alone takes the ``PG*`` settings a Databricks Apps database
resource sets), or ``off``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote, urlsplit

from services.databricks.credentials import build_sdk_config
from services.settings import Settings
from services.store.guard import GuardedDatabase
from services.store.lakebase import LakebaseCredentialError, RefreshingPassword, databricks_credential
from services.store.postgres import PasswordSource, PostgresDatabase
from services.store.sql import SqlStore
from services.store.sqlite import SqliteDatabase

logger = logging.getLogger("proxy.store")


class StoreConfigError(ValueError):
    """The store could not be opened: a wrong ``PROXY_STORE_URL`` or an unreachable database (start-up fails)."""


def sqlite_path(url: str) -> str:
    path = url.removeprefix("sqlite:///")
    if not path:
        raise StoreConfigError("PROXY_STORE_URL 'sqlite:///' names no file: use sqlite:///data/proxy.db")
    return path


def postgres_dsn(url: str, settings: Settings) -> str:
    """The URL as given, or, when it names no host, one built from the ``PG*`` settings."""
    if urlsplit(url).hostname:
        return url
    if not settings.pghost:
        raise StoreConfigError("PROXY_STORE_URL names no PostgreSQL host and PGHOST is not set")
    user = quote(settings.pguser or "", safe="")
    port = f":{settings.pgport}" if settings.pgport else ""
    dsn = f"postgresql://{user + '@' if user else ''}{settings.pghost}{port}/{quote(settings.pgdatabase or '')}"
    return dsn + (f"?sslmode={settings.pgsslmode}" if settings.pgsslmode else "")


def postgres_password(url: str, settings: Settings, sdk_config: Any | None) -> PasswordSource | None:
    """A password in the URL or PGPASSWORD is used as it is; otherwise, on a Databricks workspace, a
    refreshed OAuth token (Lakebase)."""
    if urlsplit(url).password:
        return None
    if settings.pgpassword is not None:
        secret = settings.pgpassword.get_secret_value()

        async def fixed() -> str:
            return secret

        return fixed
    if sdk_config is None:
        return None
    return RefreshingPassword(databricks_credential(sdk_config, settings.lakebase_instance))


async def _sdk_config(url: str, settings: Settings) -> Any | None:
    """The databricks-sdk ``Config`` whose identity gets Lakebase tokens, when one is needed and configured."""
    if urlsplit(url).password or settings.pgpassword is not None or not settings.workspace_configured:
        return None
    return await asyncio.to_thread(build_sdk_config, settings)


async def open_store(settings: Settings, sdk_config: Any | None = None) -> SqlStore | None:
    """The migrated store, or None when storing is off. ``sdk_config``: the databricks-sdk ``Config`` whose
    identity gets Lakebase tokens (by default resolved from the settings when a password is needed)."""
    try:
        return await _open(settings, sdk_config)
    except StoreConfigError:
        raise
    except LakebaseCredentialError as exc:
        raise StoreConfigError(f"the store could not be opened: {exc}") from exc
    except Exception as exc:  # the message names the kind of failure only: a DSN may hold a password
        raise StoreConfigError(
            f"the store ({settings.store_url.split(':', 1)[0]}) could not be opened: {type(exc).__name__}"
        ) from exc


async def _open(settings: Settings, sdk_config: Any | None) -> SqlStore | None:
    url = settings.store_url.strip()
    if url.lower() == "off":
        return None
    if url.startswith("sqlite:///"):
        store = SqlStore(GuardedDatabase(await SqliteDatabase.open(sqlite_path(url)), settings.store_timeout))
        where = "SQLite " + sqlite_path(url)
    elif url.startswith(("postgresql://", "postgres://")):
        dsn = postgres_dsn(url, settings)
        database = await PostgresDatabase.open(
            dsn,
            password=postgres_password(url, settings, sdk_config or await _sdk_config(url, settings)),
            max_size=settings.store_pool_size,
            connect_timeout=settings.startup_timeout,
        )
        store = SqlStore(GuardedDatabase(database, settings.store_timeout))
        where = "PostgreSQL " + (urlsplit(dsn).hostname or "")
    else:
        raise StoreConfigError("PROXY_STORE_URL must be sqlite:///<path>, postgresql://... or off")
    try:
        await store.start()
    except BaseException:
        await store.close()
        raise
    logger.info("stored responses: %s, kept %g days", where, settings.store_ttl_days)
    return store
