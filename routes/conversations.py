"""OpenAI's Conversations API (``/v1/conversations``) over the store; every conversation belongs to its caller."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from models.conversations import (
    Conversation,
    ConversationCreateRequest,
    ConversationItemsCreateRequest,
    ConversationUpdateRequest,
    DeletedConversation,
    ItemList,
)
from routes.delivery import json_response
from routes.deps import read_payload, services_of
from routes.lean import LeanRoute, needs
from routes.openapi import ERROR_RESPONSES
from routes.stateful import owner_of, store_of
from services.store.base import ItemPage, StoredConversation
from services.store.history import StoredObjectNotFoundError, expires_at
from services.store.items import input_items, new_id
from services.store.pages import list_object, page_query

router = APIRouter(tags=["OpenAI Conversations"], route_class=LeanRoute)


def _conversation(conversation: StoredConversation) -> dict[str, object]:
    return {
        "id": conversation.id,
        "object": "conversation",
        "created_at": conversation.created_at,
        "metadata": conversation.metadata,
    }


def _not_found(conversation_id: str) -> StoredObjectNotFoundError:
    return StoredObjectNotFoundError(f"Conversation with id '{conversation_id[:100]}' not found.")


@router.post("/conversations", response_model=Conversation, responses=ERROR_RESPONSES, summary="Create a conversation")
@needs(label="conversations")
async def create_conversation(request: Request) -> Response:
    store = store_of(request, "Conversation")
    payload = await read_payload(request, ConversationCreateRequest)
    now = int(time.time())
    conversation = StoredConversation(
        id=new_id("conv"),
        owner=owner_of(request),
        created_at=now,
        expires_at=expires_at(services_of(request).settings, now),
        metadata=payload.get("metadata") or {},
    )
    await store.create_conversation(conversation, input_items(payload.get("items")))
    return json_response(_conversation(conversation))


@router.get(
    "/conversations/{conversation_id}",
    response_model=Conversation,
    responses=ERROR_RESPONSES,
    summary="Retrieve a conversation",
)
@needs(label="conversations/{id}")
async def retrieve_conversation(request: Request, conversation_id: str) -> Response:
    store = store_of(request, "Conversation")
    conversation = await store.get_conversation(owner_of(request), conversation_id, int(time.time()))
    if conversation is None:
        raise _not_found(conversation_id)
    return json_response(_conversation(conversation))


@router.post(
    "/conversations/{conversation_id}",
    response_model=Conversation,
    responses=ERROR_RESPONSES,
    summary="Update a conversation's metadata",
)
@needs(label="conversations/{id}")
async def update_conversation(request: Request, conversation_id: str) -> Response:
    store = store_of(request, "Conversation")
    payload = await read_payload(request, ConversationUpdateRequest)
    updated = await store.update_conversation(owner_of(request), conversation_id, payload["metadata"], int(time.time()))
    if updated is None:
        raise _not_found(conversation_id)
    return json_response(_conversation(updated))


@router.delete(
    "/conversations/{conversation_id}",
    response_model=DeletedConversation,
    responses=ERROR_RESPONSES,
    summary="Delete a conversation",
)
@needs(label="conversations/{id}")
async def delete_conversation(request: Request, conversation_id: str) -> Response:
    if not await store_of(request, "Conversation").delete_conversation(owner_of(request), conversation_id):
        raise _not_found(conversation_id)
    return json_response({"id": conversation_id, "object": "conversation.deleted", "deleted": True})


@router.get(
    "/conversations/{conversation_id}/items",
    response_model=ItemList,
    responses=ERROR_RESPONSES,
    summary="List a conversation's items",
)
@needs(label="conversations/{id}/items")
async def list_items(request: Request, conversation_id: str) -> Response:
    query = page_query(request.query_params)
    store = store_of(request, "Conversation")
    page = await store.list_items(
        owner_of(request), conversation_id, int(time.time()), after=query.after, limit=query.limit, order=query.order
    )
    if page is None:
        raise _not_found(conversation_id)
    return json_response(list_object(page))


@router.post(
    "/conversations/{conversation_id}/items",
    response_model=ItemList,
    responses=ERROR_RESPONSES,
    summary="Add items to a conversation",
)
@needs(label="conversations/{id}/items")
async def create_items(request: Request, conversation_id: str) -> Response:
    store = store_of(request, "Conversation")
    payload = await read_payload(request, ConversationItemsCreateRequest)
    items = input_items(payload["items"])
    now = int(time.time())
    settings = services_of(request).settings
    if not await store.add_items(owner_of(request), conversation_id, items, now, expires_at(settings, now)):
        raise _not_found(conversation_id)
    return json_response(list_object(ItemPage(items, has_more=False)))


@router.get("/conversations/{conversation_id}/items/{item_id}", responses=ERROR_RESPONSES, summary="Retrieve an item")
@needs(label="conversations/{id}/items/{item_id}")
async def retrieve_item(request: Request, conversation_id: str, item_id: str) -> Response:
    store = store_of(request, "Conversation")
    item = await store.get_item(owner_of(request), conversation_id, item_id, int(time.time()))
    if item is None:
        raise StoredObjectNotFoundError(f"Item with id '{item_id[:100]}' not found.")
    return json_response(item)


@router.delete(
    "/conversations/{conversation_id}/items/{item_id}",
    response_model=Conversation,
    responses=ERROR_RESPONSES,
    summary="Delete an item (answers the conversation)",
)
@needs(label="conversations/{id}/items/{item_id}")
async def delete_item(request: Request, conversation_id: str, item_id: str) -> Response:
    store = store_of(request, "Conversation")
    owner, now = owner_of(request), int(time.time())
    if not await store.delete_item(owner, conversation_id, item_id, now):
        raise StoredObjectNotFoundError(f"Item with id '{item_id[:100]}' not found.")
    conversation = await store.get_conversation(owner, conversation_id, now)
    if conversation is None:
        raise _not_found(conversation_id)
    return json_response(_conversation(conversation))
