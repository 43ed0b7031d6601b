"""The store's schema, migrations and queries, shared by both backends (written with ``?`` placeholders;
the PostgreSQL backend numbers them)."""

# ruff: noqa: S608 -- queries are composed only of this module's constant column lists and placeholders;
# every value is bound as a parameter.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson

from services.store.base import (
    ChainTooDeepError,
    ChainTooLargeError,
    ItemPage,
    Order,
    StoredConversation,
    StoredResponse,
)

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    statements: dict[Dialect, tuple[str, ...]]


_COMMON_TABLES = (
    """CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        previous_id TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        input_items TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX responses_expiry ON responses (expires_at)",
    """CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        metadata TEXT NOT NULL
    )""",
    "CREATE INDEX conversations_expiry ON conversations (expires_at)",
)
_ITEMS = """CREATE TABLE conversation_items (
        seq {seq},
        conversation_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (conversation_id, item_id)
    )"""
_ITEMS_ORDER = "CREATE INDEX conversation_items_order ON conversation_items (conversation_id, seq)"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        {
            "sqlite": (*_COMMON_TABLES, _ITEMS.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT"), _ITEMS_ORDER),
            "postgresql": (*_COMMON_TABLES, _ITEMS.format(seq="BIGSERIAL PRIMARY KEY"), _ITEMS_ORDER),
        },
    ),
)
# Created before any migration runs; the versions applied, so that each runs once (also with several instances).
SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS store_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"


class Database(Protocol):
    """One backend's connection(s): statements with ``?`` placeholders and positional arguments."""

    dialect: Dialect

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """The number of rows the statement changed."""
        ...

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Sequence[Any]]: ...

    async def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the migrations not applied yet, each in its own transaction, one instance at a time."""
        ...

    async def close(self) -> None: ...


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def _response(row: Sequence[Any]) -> StoredResponse:
    return StoredResponse(
        id=row[0],
        owner=row[1],
        previous_id=row[2],
        created_at=int(row[3]),
        expires_at=int(row[4]),
        input_items=orjson.loads(row[5]),
        body=orjson.loads(row[6]),
    )


def _conversation(row: Sequence[Any]) -> StoredConversation:
    return StoredConversation(
        id=row[0], owner=row[1], created_at=int(row[2]), expires_at=int(row[3]), metadata=orjson.loads(row[4])
    )


_RESPONSE_COLUMNS = "id, owner, previous_id, created_at, expires_at, input_items, body"
_CONVERSATION_COLUMNS = "id, owner, created_at, expires_at, metadata"
# The chain, newest first, while it is within ``max_depth`` links and ``max_chars`` of stored text: the first
# link past either bound is the last one read, so the caller learns which bound it crossed without reading on.
_CHAIN = f"""
WITH RECURSIVE chain (id, previous_id, depth, chars) AS (
    SELECT id, previous_id, 1, length(input_items) + length(body)
    FROM responses WHERE id = ? AND owner = ? AND expires_at > ?
    UNION ALL
    SELECT r.id, r.previous_id, c.depth + 1, c.chars + length(r.input_items) + length(r.body)
    FROM responses r JOIN chain c ON r.id = c.previous_id
    WHERE r.owner = ? AND r.expires_at > ? AND c.depth <= ? AND c.chars <= ?
)
SELECT {", ".join("r." + column.strip() for column in _RESPONSE_COLUMNS.split(","))}, c.depth, c.chars
FROM chain c JOIN responses r ON r.id = c.id ORDER BY c.depth DESC
"""


class SqlStore:
    """The ``Store`` over a ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db  # services/store/guard.py bounds it and words its failures

    async def start(self) -> None:
        await self.db.migrate(MIGRATIONS)

    async def close(self) -> None:
        await self.db.close()

    # ------------------------------------------------------------------------------------ responses

    async def put_response(self, response: StoredResponse) -> None:
        await self.db.execute(
            f"INSERT INTO responses ({_RESPONSE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                response.id,
                response.owner,
                response.previous_id,
                response.created_at,
                response.expires_at,
                _dump(response.input_items),
                _dump(response.body),
            ),
        )

    async def get_response(self, owner: str, response_id: str, now: int) -> StoredResponse | None:
        rows = await self.db.fetch(
            f"SELECT {_RESPONSE_COLUMNS} FROM responses WHERE id = ? AND owner = ? AND expires_at > ?",
            (response_id, owner, now),
        )
        return _response(rows[0]) if rows else None

    async def chain(
        self, owner: str, response_id: str, now: int, max_depth: int, max_chars: int
    ) -> list[StoredResponse] | None:
        rows = await self.db.fetch(_CHAIN, (response_id, owner, now, owner, now, max_depth, max_chars))
        if not rows:
            return None
        if len(rows) > max_depth:
            raise ChainTooDeepError(f"the chain of '{response_id}' is longer than {max_depth} responses")
        if int(rows[0][8]) > max_chars:
            raise ChainTooLargeError(f"the chain of '{response_id}' holds more than {max_chars} characters")
        return [_response(row) for row in rows]

    async def delete_response(self, owner: str, response_id: str) -> bool:
        return await self.db.execute("DELETE FROM responses WHERE id = ? AND owner = ?", (response_id, owner)) > 0

    # ------------------------------------------------------------------------------------ conversations

    async def create_conversation(self, conversation: StoredConversation, items: list[dict[str, Any]]) -> None:
        await self.db.execute(
            f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (
                conversation.id,
                conversation.owner,
                conversation.created_at,
                conversation.expires_at,
                _dump(conversation.metadata),
            ),
        )
        if items:
            await self._insert_items(conversation.id, items)

    async def get_conversation(self, owner: str, conversation_id: str, now: int) -> StoredConversation | None:
        rows = await self.db.fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ? AND owner = ? AND expires_at > ?",
            (conversation_id, owner, now),
        )
        return _conversation(rows[0]) if rows else None

    async def update_conversation(
        self, owner: str, conversation_id: str, metadata: dict[str, str], now: int
    ) -> StoredConversation | None:
        changed = await self.db.execute(
            "UPDATE conversations SET metadata = ? WHERE id = ? AND owner = ? AND expires_at > ?",
            (_dump(metadata), conversation_id, owner, now),
        )
        return await self.get_conversation(owner, conversation_id, now) if changed else None

    async def delete_conversation(self, owner: str, conversation_id: str) -> bool:
        deleted = await self.db.execute(
            "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
        )
        if deleted:
            await self.db.execute("DELETE FROM conversation_items WHERE conversation_id = ?", (conversation_id,))
        return deleted > 0

    async def _insert_items(self, conversation_id: str, items: list[dict[str, Any]]) -> None:
        """One statement, so that a turn's items land together or not at all."""
        values = ", ".join("(?, ?, ?)" for _ in items)
        args: list[Any] = []
        for item in items:
            args += (conversation_id, item["id"], _dump(item))
        await self.db.execute(
            f"INSERT INTO conversation_items (conversation_id, item_id, body) VALUES {values} "
            "ON CONFLICT (conversation_id, item_id) DO NOTHING",  # an item sent again is kept once
            args,
        )

    async def add_items(
        self, owner: str, conversation_id: str, items: list[dict[str, Any]], now: int, expires_at: int
    ) -> bool:
        touched = await self.db.execute(
            "UPDATE conversations SET expires_at = ? WHERE id = ? AND owner = ? AND expires_at > ?",
            (expires_at, conversation_id, owner, now),
        )
        if not touched:
            return False
        if items:
            await self._insert_items(conversation_id, items)
        return True

    async def list_items(
        self, owner: str, conversation_id: str, now: int, *, after: str | None, limit: int, order: Order
    ) -> ItemPage | None:
        if await self.get_conversation(owner, conversation_id, now) is None:
            return None
        where = "conversation_id = ?"
        args: list[Any] = [conversation_id]
        if after is not None:
            compare = ">" if order == "asc" else "<"
            where += (
                f" AND seq {compare} (SELECT seq FROM conversation_items WHERE conversation_id = ? AND item_id = ?)"
            )
            args += (conversation_id, after)
        direction = "ASC" if order == "asc" else "DESC"
        rows = await self.db.fetch(
            f"SELECT body FROM conversation_items WHERE {where} ORDER BY seq {direction} LIMIT ?", (*args, limit + 1)
        )
        items = [orjson.loads(row[0]) for row in rows[:limit]]
        return ItemPage(items, len(rows) > limit)

    async def get_item(self, owner: str, conversation_id: str, item_id: str, now: int) -> dict[str, Any] | None:
        if await self.get_conversation(owner, conversation_id, now) is None:
            return None
        rows = await self.db.fetch(
            "SELECT body FROM conversation_items WHERE conversation_id = ? AND item_id = ?", (conversation_id, item_id)
        )
        if not rows:
            return None
        item: dict[str, Any] = orjson.loads(rows[0][0])
        return item

    async def delete_item(self, owner: str, conversation_id: str, item_id: str, now: int) -> bool:
        if await self.get_conversation(owner, conversation_id, now) is None:
            return False
        deleted = await self.db.execute(
            "DELETE FROM conversation_items WHERE conversation_id = ? AND item_id = ?", (conversation_id, item_id)
        )
        return deleted > 0

    # ------------------------------------------------------------------------------------ retention

    async def purge(self, now: int) -> int:
        deleted = await self.db.execute("DELETE FROM responses WHERE expires_at <= ?", (now,))
        deleted += await self.db.execute(
            "DELETE FROM conversation_items WHERE conversation_id IN "
            "(SELECT id FROM conversations WHERE expires_at <= ?)",
            (now,),
        )
        deleted += await self.db.execute("DELETE FROM conversations WHERE expires_at <= ?", (now,))
        return deleted
