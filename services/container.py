"""Everything one process shares, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.databricks.catalog import ModelCatalog
from services.databricks.client import DatabricksClient
from services.databricks.credentials import UpstreamCredentials
from services.databricks.surfaces import Surfaces
from services.limiter import ConcurrencyLimiter
from services.metrics import Metrics
from services.pipeline import Pipeline
from services.settings import Settings
from services.shutdown import StreamRegistry
from services.store.base import Store
from services.store.retention import Purger


@dataclass
class Services:
    settings: Settings
    http: httpx.AsyncClient
    credentials: UpstreamCredentials
    client: DatabricksClient
    catalog: ModelCatalog
    limiter: ConcurrencyLimiter
    upstream: str  # "emulator" or "databricks"
    started_at: float
    metrics: Metrics
    streams: StreamRegistry
    surfaces: Surfaces  # which upstream surface serves a call, as far as the workspace has answered
    pipeline: Pipeline
    store: Store | None = None  # stored responses and conversations (None: PROXY_STORE_URL=off)
    purger: Purger | None = None
    emulator: Any = None  # the in-process EmulatorServer when no workspace is configured
