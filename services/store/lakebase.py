"""The password of a Lakebase database: a short-lived Databricks OAuth token, refreshed before it expires.

On Databricks Apps a database resource makes the runtime set ``PGHOST``, ``PGPORT``, ``PGDATABASE``,
``PGUSER`` (the app's service principal), ``PGSSLMODE`` and ``PGAPPNAME``; there is no password: the app
connects with an OAuth token of its own identity
(https://docs.databricks.com/aws/en/dev-tools/databricks-apps/lakebase). Those tokens last one hour and
the expiry is checked only at login, so a connection already open keeps working
(https://docs.databricks.com/aws/oltp/oauth); each new connection needs a token that is still valid.
``RefreshingPassword`` is asked on every new connection and fetches a new token once the cached one is
within ``margin`` of its expiry.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

logger = logging.getLogger("proxy.store")
_DEFAULT_LIFETIME = 3600.0  # what Databricks documents when a credential names no expiry


class LakebaseCredentialError(RuntimeError):
    """No token can be had for the database (the message holds no secret)."""


@dataclass(frozen=True, slots=True)
class Credential:
    token: str
    expires_at: float  # seconds since the epoch


class RefreshingPassword:
    """An async password callable for the connection pool; ``fetch`` blocks, so it runs in a thread."""

    def __init__(
        self, fetch: Callable[[], Credential], *, margin: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._current: Credential | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def __call__(self) -> str:
        async with self._lock:  # connections opened together share one fetch
            current = self._current
            if current is None or current.expires_at - self._margin <= self._clock():
                current = self._current = await asyncio.to_thread(self._fetch)
                self.fetches += 1
                logger.info("database credential refreshed (valid for %.0f s)", current.expires_at - self._clock())
            return current.token


def _expiry(value: Any, clock: Callable[[], float]) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return clock() + _DEFAULT_LIFETIME


def databricks_credential(config: Any, instance: str | None) -> Callable[[], Credential]:
    """A fetch over a databricks-sdk ``Config``: a database credential for ``instance`` when it is named
    (``generate_database_credential``), else the OAuth token of the app's own identity."""

    def fetch() -> Credential:
        if instance:
            from databricks.sdk import WorkspaceClient

            credential = WorkspaceClient(config=config).database.generate_database_credential(
                request_id=str(uuid.uuid4()), instance_names=[instance]
            )
            return Credential(str(credential.token or ""), _expiry(credential.expiration_time, time.time))
        try:
            token = config.oauth_token()
        except ValueError:  # databricks-sdk: the identity is not an OAuth one (e.g. a personal access token)
            raise LakebaseCredentialError(
                "the workspace identity has no OAuth token to log in to PostgreSQL with: set "
                "PROXY_LAKEBASE_INSTANCE (a database credential is then requested), PGPASSWORD, or a password "
                "in PROXY_STORE_URL"
            ) from None
        return Credential(str(token.access_token), _expiry(token.expiry, time.time))

    return fetch
