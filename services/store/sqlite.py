"""The embedded backend: one SQLite file (WAL), through aiosqlite (sqlite3 on its own thread)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from services.store.sql import SCHEMA_TABLE, Dialect, Migration


class SqliteDatabase:
    dialect: Dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level None: each statement commits on its own; migrations open their own transaction.
        connection = await aiosqlite.connect(path, isolation_level=None)
        # WAL lets readers run beside the writer; busy_timeout lets several worker processes share the file.
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA busy_timeout=5000")
        await connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection)

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        try:
            cursor = await self._connection.execute(sql, tuple(args))
        except asyncio.CancelledError:
            await self._interrupt()
            raise
        count = cursor.rowcount
        await cursor.close()
        return count

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]:
        try:
            async with self._connection.execute(sql, tuple(args)) as cursor:
                return list(await cursor.fetchall())
        except asyncio.CancelledError:
            await self._interrupt()
            raise

    async def _interrupt(self) -> None:
        """A statement given up on (its time ran out) is stopped too, not left to finish later on its thread."""
        await self._connection.interrupt()

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        await self.execute(SCHEMA_TABLE)
        for migration in migrations:
            # BEGIN IMMEDIATE takes the write lock first: another process migrating waits, then sees the version.
            await self.execute("BEGIN IMMEDIATE")
            try:
                done = await self.fetch("SELECT 1 FROM store_schema WHERE version = ?", (migration.version,))
                if not done:
                    for statement in migration.statements[self.dialect]:
                        await self.execute(statement)
                    await self.execute(
                        "INSERT INTO store_schema (version, applied_at) VALUES (?, ?)",
                        (migration.version, int(time.time())),
                    )
                await self.execute("COMMIT")
            except BaseException:
                await self.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self._connection.close()
