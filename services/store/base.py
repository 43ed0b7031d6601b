"""What a store keeps and the operations the routes need; every operation is scoped to one owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Order = Literal["asc", "desc"]
ANONYMOUS = "anonymous"  # the one owner of open mode (no API keys, no trusted gateway)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    id: str
    owner: str
    previous_id: str | None
    created_at: int
    expires_at: int
    input_items: list[dict[str, Any]]  # this turn's own input, with item ids
    body: dict[str, Any]  # the Response object as answered


@dataclass(frozen=True, slots=True)
class StoredConversation:
    id: str
    owner: str
    created_at: int
    expires_at: int
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[dict[str, Any]]
    has_more: bool


class ChainTooDeepError(Exception):
    """A ``previous_response_id`` chain longer than the store's bound."""


class ChainTooLargeError(Exception):
    """A ``previous_response_id`` chain holding more stored text than a request may carry."""


class Store(Protocol):
    """Expired objects are invisible; ``now`` is seconds since the epoch."""

    async def put_response(self, response: StoredResponse) -> None: ...

    async def get_response(self, owner: str, response_id: str, now: int) -> StoredResponse | None: ...

    async def chain(
        self, owner: str, response_id: str, now: int, max_depth: int, max_chars: int
    ) -> list[StoredResponse] | None:
        """The response and its predecessors, oldest first; None when the response itself is not there.
        Reading stops past ``max_depth`` links (``ChainTooDeepError``) or ``max_chars`` of stored text
        (``ChainTooLargeError``)."""
        ...

    async def delete_response(self, owner: str, response_id: str) -> bool: ...

    async def create_conversation(self, conversation: StoredConversation, items: list[dict[str, Any]]) -> None: ...

    async def get_conversation(self, owner: str, conversation_id: str, now: int) -> StoredConversation | None: ...

    async def update_conversation(
        self, owner: str, conversation_id: str, metadata: dict[str, str], now: int
    ) -> StoredConversation | None: ...

    async def delete_conversation(self, owner: str, conversation_id: str) -> bool: ...

    async def add_items(
        self, owner: str, conversation_id: str, items: list[dict[str, Any]], now: int, expires_at: int
    ) -> bool:
        """Append ``items``; False when the conversation is not there."""
        ...

    async def list_items(
        self, owner: str, conversation_id: str, now: int, *, after: str | None, limit: int, order: Order
    ) -> ItemPage | None: ...

    async def get_item(self, owner: str, conversation_id: str, item_id: str, now: int) -> dict[str, Any] | None: ...

    async def delete_item(self, owner: str, conversation_id: str, item_id: str, now: int) -> bool: ...

    async def purge(self, now: int) -> int:
        """Delete what has expired; the number of rows deleted."""
        ...

    async def close(self) -> None: ...
