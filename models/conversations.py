"""OpenAI's Conversations API: request bodies (validated) and answer shapes (documented)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.responses import InputItem, Metadata

MAX_ITEMS_PER_CALL = 20  # OpenAI: "You may add up to 20 items at a time."


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ConversationCreateRequest(_Open):
    metadata: Metadata | None = None
    items: Annotated[list[InputItem], Field(max_length=MAX_ITEMS_PER_CALL)] | None = None


class ConversationUpdateRequest(_Open):
    metadata: Metadata


class ConversationItemsCreateRequest(_Open):
    items: Annotated[list[InputItem], Field(min_length=1, max_length=MAX_ITEMS_PER_CALL)]


class Conversation(BaseModel):
    id: str
    object: Literal["conversation"] = "conversation"
    created_at: int
    metadata: dict[str, str]


class DeletedConversation(BaseModel):
    id: str
    object: Literal["conversation.deleted"] = "conversation.deleted"
    deleted: bool


class ItemList(BaseModel):
    object: Literal["list"] = "list"
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool
