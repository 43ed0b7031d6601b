"""The PostgreSQL backend (Lakebase on Databricks Apps), through asyncpg's connection pool."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from services.store.sql import SCHEMA_TABLE, Dialect, Migration

_PLACEHOLDER = re.compile(r"\?")
_MIGRATION_LOCK = 0x70726F7879  # the advisory lock key of migrations
PasswordSource = Callable[[], Awaitable[str]]


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (the shared queries hold no literal ``?``)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _count(status: str) -> int:
    """Rows changed, from a command status such as ``DELETE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._numbered: dict[str, str] = {}

    @classmethod
    async def open(
        cls, dsn: str, *, password: PasswordSource | None, max_size: int, connect_timeout: float
    ) -> PostgresDatabase:
        """``password``: asked for on every new connection (a short-lived token stays fresh that way)."""
        pool = await asyncpg.create_pool(
            dsn,
            password=password,
            min_size=1,
            max_size=max_size,
            timeout=connect_timeout,
            # Closed before the server's idle limit; the next connection authenticates afresh.
            max_inactive_connection_lifetime=300,
        )
        return cls(pool)

    def _sql(self, sql: str) -> str:
        found = self._numbered.get(sql)
        if found is None:
            found = self._numbered[sql] = numbered(sql)
        return found

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        status: str = await self._pool.execute(self._sql(sql), *args)
        return _count(status)

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        rows = await self._pool.fetch(self._sql(sql), *args)
        return [tuple(row) for row in rows]

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        async with self._pool.acquire() as connection:
            # One instance at a time (several app instances may start together); released with the session lock.
            await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await connection.execute(SCHEMA_TABLE)
                for migration in migrations:
                    done = await connection.fetchval("SELECT 1 FROM store_schema WHERE version = $1", migration.version)
                    if done:
                        continue
                    async with connection.transaction():
                        for statement in migration.statements[self.dialect]:
                            await connection.execute(statement)
                        await connection.execute(
                            "INSERT INTO store_schema (version, applied_at) VALUES ($1, $2)",
                            migration.version,
                            int(time.time()),
                        )
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)

    async def close(self) -> None:
        await self._pool.close()
