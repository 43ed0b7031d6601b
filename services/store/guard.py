"""The store's failures as the API's: every statement bounded in time, and a database that fails or hangs is
a 503 in the door's envelope (or, after an answer was given, a failure that is logged and counted)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from services.errors import APIError
from services.store.sql import Database, Dialect, Migration

logger = logging.getLogger("proxy.store")


class StoreUnavailableError(APIError):
    status = 503
    default_code = "store_unavailable"


class GuardedDatabase:
    def __init__(self, db: Database, timeout: float) -> None:
        self._db = db
        self._timeout = timeout
        self.dialect: Dialect = db.dialect

    def _failed(self, exc: BaseException) -> StoreUnavailableError:
        # The driver's message may quote a statement or the server; the log names only the kind of failure.
        logger.error("store statement failed: %s", type(exc).__name__)
        return StoreUnavailableError("Stored responses are unavailable right now; retry the request.")

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._db.execute(sql, args)
        except Exception as exc:
            raise self._failed(exc) from exc

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._db.fetch(sql, args)
        except Exception as exc:
            raise self._failed(exc) from exc

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        await self._db.migrate(migrations)  # at start-up, bounded there

    async def close(self) -> None:
        await self._db.close()
