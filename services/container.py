"""Everything one process shares, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.auth import UpstreamCredentials
from services.catalog import ModelCatalog
from services.fmapi_client import FmapiClient
from services.limiter import ConcurrencyLimiter
from services.metrics import Metrics
from services.settings import Settings
from services.shutdown import StreamRegistry


@dataclass
class Services:
    settings: Settings
    http: httpx.AsyncClient
    credentials: UpstreamCredentials
    client: FmapiClient
    catalog: ModelCatalog
    limiter: ConcurrencyLimiter
    upstream: str  # "emulator" or "databricks"
    started_at: float
    metrics: Metrics
    streams: StreamRegistry
    emulator: Any = None  # the in-process EmulatorServer when no workspace is configured
