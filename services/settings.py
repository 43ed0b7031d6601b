"""The one place that reads the environment.

Databricks credentials use the names databricks-sdk documents (``DATABRICKS_HOST``,
``DATABRICKS_TOKEN``, ``DATABRICKS_CLIENT_ID``, ...); everything the proxy itself adds is
prefixed ``PROXY_``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Annotated, Literal

import orjson
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _databricks(name: str) -> AliasChoices:
    return AliasChoices(f"DATABRICKS_{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROXY_",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    # --- Databricks workspace and credentials (databricks-sdk unified auth) ---
    databricks_host: str | None = Field(default=None, validation_alias=_databricks("HOST"))
    databricks_token: SecretStr | None = Field(default=None, validation_alias=_databricks("TOKEN"))
    databricks_client_id: str | None = Field(default=None, validation_alias=_databricks("CLIENT_ID"))
    databricks_client_secret: SecretStr | None = Field(default=None, validation_alias=_databricks("CLIENT_SECRET"))
    databricks_config_profile: str | None = Field(default=None, validation_alias=_databricks("CONFIG_PROFILE"))
    databricks_auth_type: str | None = Field(default=None, validation_alias=_databricks("AUTH_TYPE"))
    databricks_app_name: str | None = Field(default=None, validation_alias=_databricks("APP_NAME"))
    databricks_app_port: int | None = Field(default=None, validation_alias=_databricks("APP_PORT"))

    # --- Upstream HTTP ---
    connect_timeout: float = Field(default=5.0, gt=0)
    upstream_timeout: float = Field(default=300.0, gt=0)
    request_timeout: float = Field(default=600.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
    max_keepalive_connections: int = Field(default=200, ge=0)
    upstream_idle_seconds: float = Field(default=4.0, gt=0)
    max_concurrency: int = Field(default=1000, ge=1)
    connect_retries: int = Field(default=2, ge=0, le=10)
    retry_after_cap_seconds: int = Field(default=60, ge=1)
    upstream_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    fallbacks: Annotated[dict[str, list[str]], NoDecode] = Field(default_factory=dict)
    # Upstream surfaces (services/databricks/surfaces.py): Unity Gateway's /ai-gateway paths, and the providers'
    # own APIs for a door that speaks its model's dialect.
    unity_gateway: Literal["auto", "on", "off"] = "auto"
    native_surfaces: bool = True
    surface_memory_seconds: float = Field(default=600.0, ge=0)

    # --- Inbound ---
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=128, ge=8, le=200)
    max_json_values: int = Field(default=50_000, ge=1000)
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=120.0, gt=0)
    max_header_bytes: int = Field(default=64 * 1024, ge=4096)
    max_headers: int = Field(default=100, ge=16)
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    forward_user_token: bool = True
    trust_forwarded_identity: bool | None = None
    send_usage_context: bool = True
    prompt_caching: bool = True  # automatic cache breakpoints on requests to Claude endpoints

    # --- Models ---
    models_cache_seconds: float = Field(default=60.0, ge=0)
    model_aliases: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    allowed_models: Annotated[tuple[str, ...], NoDecode] = ()

    # --- Streams ---
    keepalive_seconds: float = Field(default=10.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    # --- Start-up ---
    startup_timeout: float = Field(default=20.0, gt=0)
    credential_refresh_seconds: float = Field(default=30.0, gt=0)
    emulator_chunk_delay: float = Field(default=0.02, ge=0)

    # --- Stored responses and conversations (services/store/) ---
    store_url: str = "sqlite:///data/proxy.db"
    store_ttl_days: float = Field(default=30.0, gt=0)
    store_max_response_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    store_max_chain_depth: int = Field(default=100, ge=1, le=10_000)
    store_purge_seconds: float = Field(default=3600.0, gt=0)
    store_pool_size: int = Field(default=10, ge=1, le=100)
    store_timeout: float = Field(default=5.0, gt=0)
    lakebase_instance: str | None = None
    # What the Databricks Apps runtime sets for a database resource (libpq's names).
    pghost: str | None = Field(default=None, validation_alias=AliasChoices("PGHOST"))
    pgport: int | None = Field(default=None, validation_alias=AliasChoices("PGPORT"))
    pgdatabase: str | None = Field(default=None, validation_alias=AliasChoices("PGDATABASE"))
    pguser: str | None = Field(default=None, validation_alias=AliasChoices("PGUSER"))
    pgpassword: SecretStr | None = Field(default=None, validation_alias=AliasChoices("PGPASSWORD"))
    pgsslmode: str | None = Field(default=None, validation_alias=AliasChoices("PGSSLMODE"))

    # --- Logs and metrics ---
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "plain"] = "json"
    metrics_enabled: bool = True
    metrics_require_key: bool = False
    metrics_by_caller: bool = False
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR")
    )

    service_name: str = "databricks-openai-proxy"

    @field_validator("unity_gateway", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("model_aliases", mode="before")
    @classmethod
    def _parse_aliases(cls, value: object) -> object:
        """``alias=endpoint,alias2=endpoint2`` or a JSON object."""
        if isinstance(value, str):
            return _parse_mapping(value, lambda v: v.strip())
        return value

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _parse_fallbacks(cls, value: object) -> object:
        """``endpoint=fallback1|fallback2,other=fallback`` or a JSON object of lists."""
        if isinstance(value, str):
            return _parse_mapping(value, lambda v: [p.strip() for p in v.split("|") if p.strip()])
        return value

    @cached_property
    def configured_endpoints(self) -> frozenset[str]:
        """Every endpoint the configuration names (allow-list, alias targets, fallbacks)."""
        fallbacks = {name for endpoint, chain in self.fallbacks.items() for name in (endpoint, *chain)}
        return frozenset({*self.allowed_models, *self.model_aliases.values(), *fallbacks})

    @cached_property
    def behind_apps_gateway(self) -> bool:
        """The Databricks Apps runtime started the proxy (it names the app and the port in the environment)."""
        return bool(self.databricks_app_name and self.databricks_app_port)

    @cached_property
    def forwarded_identity_trusted(self) -> bool:
        """Whether X-Forwarded-Email/-User/-Access-Token come from a gateway that strips and sets them:
        the explicit setting, else whether the proxy runs behind the Databricks Apps gateway."""
        if self.trust_forwarded_identity is not None:
            return self.trust_forwarded_identity
        return self.behind_apps_gateway

    @cached_property
    def workspace_configured(self) -> bool:
        """True when any databricks-sdk credential source is configured."""
        return bool(
            self.databricks_host or self.databricks_token or self.databricks_client_id or self.databricks_config_profile
        )


def _parse_mapping(raw: str, convert: Callable[[str], object]) -> object:
    text = raw.strip()
    if not text:
        return {}
    if text.startswith("{"):
        return orjson.loads(text)
    result: dict[str, object] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        key, sep, val = pair.partition("=")
        if not sep:
            raise ValueError(f"expected name=value, got {pair.strip()!r}")
        result[key.strip()] = convert(val)
    return result
