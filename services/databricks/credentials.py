"""Upstream credentials.

One databricks-sdk ``Config`` is resolved at start-up (PAT, OAuth M2M, profile: whatever unified
auth finds). Its ``authenticate()`` may refresh an OAuth token over the network, so it only ever
runs in a worker thread: a background task calls it ahead of expiry and the request path reads the
cached ``Authorization`` value, which costs nothing and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from services.settings import Settings

logger = logging.getLogger("proxy.auth")


class CredentialError(RuntimeError):
    """Credentials are missing or wrong for a configured workspace (message carries no secret)."""


def build_sdk_config(settings: Settings) -> Any:
    """Resolve databricks-sdk unified auth from the settings (makes network calls: run in a thread)."""
    from databricks.sdk.core import Config

    kwargs: dict[str, Any] = {
        "http_timeout_seconds": max(1, int(settings.connect_timeout * 2)),
        # The SDK retries failed probes (host metadata, OIDC discovery) for this long; keep it well
        # inside the start-up budget so a wrong host gives a clear error, not a hang.
        "retry_timeout_seconds": max(1, int(settings.startup_timeout / 4)),
    }
    if settings.databricks_host:
        kwargs["host"] = settings.databricks_host
    if settings.databricks_config_profile:
        kwargs["profile"] = settings.databricks_config_profile
    if settings.databricks_client_id:
        kwargs["client_id"] = settings.databricks_client_id
    if settings.databricks_client_secret:
        kwargs["client_secret"] = settings.databricks_client_secret.get_secret_value()
    if settings.databricks_token:
        kwargs["token"] = settings.databricks_token.get_secret_value()
    auth_type = settings.databricks_auth_type
    if auth_type is None and settings.databricks_token:
        # Databricks Apps inject client credentials too; an explicit PAT wins over them.
        auth_type = "pat"
    if auth_type:
        kwargs["auth_type"] = auth_type
    return Config(**kwargs)


class UpstreamCredentials:
    """Produces the ``Authorization`` header value for upstream calls."""

    def __init__(
        self,
        authenticate: Callable[[], dict[str, str]],
        *,
        host: str,
        auth_type: str,
        refresh_seconds: float,
        refresh: bool = True,
    ) -> None:
        self._authenticate = authenticate
        self.host = host.rstrip("/")
        self.auth_type = auth_type
        self._refresh_seconds = refresh_seconds
        self._refresh = refresh
        self._header: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.refresh_failures = 0

    @classmethod
    def static(cls, host: str, token: str, auth_type: str = "static") -> UpstreamCredentials:
        header = {"Authorization": f"Bearer {token}"}
        return cls(lambda: header, host=host, auth_type=auth_type, refresh_seconds=3600, refresh=False)

    @property
    def ready(self) -> bool:
        return self._header is not None

    def header(self) -> str:
        if self._header is None:
            raise CredentialError("Upstream credentials are not resolved yet.")
        return self._header

    async def _fetch(self) -> None:
        headers = await asyncio.to_thread(self._authenticate)
        value = headers.get("Authorization")
        if not value:
            raise CredentialError("databricks-sdk produced no Authorization header.")
        self._header = value

    async def start(self, limit_seconds: float) -> None:
        try:
            await asyncio.wait_for(self._fetch(), limit_seconds)
        except TimeoutError as exc:
            raise CredentialError(f"Resolving Databricks credentials took longer than {limit_seconds:g} s.") from exc
        if self._refresh:
            self._task = asyncio.create_task(self._refresh_loop(), name="credential-refresh")

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self._fetch()
            except Exception as exc:
                self.refresh_failures += 1
                logger.warning("credential refresh failed: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def normalize_host(host: str) -> str:
    """As databricks-sdk does: a bare workspace name means https."""
    host = host.strip().rstrip("/")
    return host if "://" in host else f"https://{host}"


async def resolve_credentials(settings: Settings) -> UpstreamCredentials:
    """Build the SDK config in a worker thread, bounded in time, and warm the first header."""
    token = settings.databricks_token
    if token is not None and settings.databricks_host and settings.databricks_auth_type in (None, "pat"):
        # A PAT is a constant header: unified auth would resolve it to exactly this, after importing
        # the SDK and probing the host (seconds of start-up for nothing).
        credentials = UpstreamCredentials.static(
            normalize_host(settings.databricks_host), token.get_secret_value(), auth_type="pat"
        )
        await credentials.start(settings.startup_timeout)
        return credentials
    try:
        config = await asyncio.wait_for(asyncio.to_thread(build_sdk_config, settings), settings.startup_timeout)
    except TimeoutError as exc:
        raise CredentialError(
            f"Resolving Databricks credentials took longer than {settings.startup_timeout:g} s; "
            "check DATABRICKS_HOST and network access."
        ) from exc
    except Exception as exc:
        raise CredentialError(f"Databricks credentials could not be resolved: {_safe_reason(exc)}") from exc
    host = str(config.host or "")
    if not host:
        raise CredentialError("No Databricks host configured: set DATABRICKS_HOST.")
    auth_type = str(config.auth_type or "unknown")
    credentials = UpstreamCredentials(
        config.authenticate,
        host=host,
        auth_type=auth_type,
        refresh_seconds=settings.credential_refresh_seconds,
        refresh=auth_type != "pat",
    )
    try:
        await credentials.start(settings.startup_timeout)
    except CredentialError:
        raise
    except Exception as exc:
        raise CredentialError(f"Databricks credentials could not be used: {_safe_reason(exc)}") from exc
    return credentials


def _safe_reason(exc: BaseException) -> str:
    """The SDK's messages name the missing setting, never a secret value; keep the first line short."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def user_authorization(forwarded_token: str | None, enabled: bool) -> str | None:
    """``Authorization`` for acting as the calling user (Databricks Apps user authorization)."""
    if enabled and forwarded_token:
        return f"Bearer {forwarded_token.strip()}"
    return None
