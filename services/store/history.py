"""The Responses step of the store: expand ``previous_response_id`` or ``conversation`` into a complete request
body, before any translation or pass-through, and keep the answer afterwards.

As OpenAI does, a chain is sent whole: each earlier turn's input items and output items, in order, then the
new input; only the new request's ``instructions`` apply (earlier ones are not carried over). The expanded
body is held to the bounds of a body a client may send.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from models.responses import ResponseCreateRequest
from services.bounds import check_bounds, openai_param
from services.errors import InvalidRequestError, NotFoundError, ProxyError
from services.metrics import Metrics
from services.settings import Settings
from services.store.base import ChainTooDeepError, ChainTooLargeError, Store, StoredResponse
from services.store.items import input_items

logger = logging.getLogger("proxy.store")
_STATEFUL = ("previous_response_id", "conversation")
_DAY = 86_400
_PAGE = 100  # conversation items read per query


class PreviousResponseNotFoundError(InvalidRequestError):
    default_code = "previous_response_not_found"

    def __init__(self, response_id: str) -> None:
        super().__init__(f"Previous response with id '{response_id[:100]}' not found.", param="previous_response_id")


class StoredObjectNotFoundError(NotFoundError):
    """OpenAI's 404 for an id it does not know: an ``invalid_request_error``."""

    kind = "invalid_request_error"


def expires_at(settings: Settings, now: int) -> int:
    return now + int(settings.store_ttl_days * _DAY)


def conversation_id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


@dataclass(slots=True)
class Turn:
    """One Responses request on its way through the store."""

    owner: str
    body: dict[str, Any]  # the complete request body: history expanded, the stateful fields removed
    store: bool = False
    previous_id: str | None = None
    conversation_id: str | None = None
    new_items: list[dict[str, Any]] = field(default_factory=list)

    def annotate(self, echo: dict[str, Any]) -> None:
        """What the Response object says about storing (``services/dialects/responses/common.py``)."""
        echo["store"] = self.store
        echo["previous_response_id"] = self.previous_id
        if self.conversation_id is not None:
            echo["conversation"] = {"id": self.conversation_id}


def _too_large(settings: Settings, param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"With its stored history the request would be larger than the limit of {settings.max_body_bytes} bytes.",
        param=param,
        code="stored_history_too_large",
    )


async def _chain_items(store: Store, turn: Turn, previous_id: str, settings: Settings, now: int) -> list[Any]:
    try:
        chain = await store.chain(turn.owner, previous_id, now, settings.store_max_chain_depth, settings.max_body_bytes)
    except ChainTooDeepError:
        raise InvalidRequestError(
            f"The chain of previous responses is longer than {settings.store_max_chain_depth}; "
            "start a new one or send the conversation in 'input'.",
            param="previous_response_id",
            code="previous_response_chain_too_long",
        ) from None
    except ChainTooLargeError:
        raise _too_large(settings, "previous_response_id") from None
    if chain is None:
        raise PreviousResponseNotFoundError(previous_id)
    if chain[0].previous_id is not None:  # an earlier link was deleted or expired: never a shorter history
        raise PreviousResponseNotFoundError(chain[0].previous_id)
    return [item for stored in chain for item in (*stored.input_items, *stored.body.get("output", ()))]


async def _conversation_items(
    store: Store, turn: Turn, conversation_id: str, settings: Settings, now: int
) -> list[Any]:
    """The conversation's items, read a page at a time and no further than a request may carry."""
    items: list[Any] = []
    size = 0
    after: str | None = None
    while True:
        page = await store.list_items(turn.owner, conversation_id, now, after=after, limit=_PAGE, order="asc")
        if page is None:
            raise StoredObjectNotFoundError(
                f"Conversation with id '{conversation_id[:100]}' not found.", param="conversation"
            )
        for item in page.items:
            size += len(orjson.dumps(item))
            if size > settings.max_body_bytes or len(items) >= settings.max_json_values:
                raise _too_large(settings, "conversation")
            items.append(item)
        if not page.has_more or not page.items:
            return items
        after = str(page.items[-1]["id"])


async def _history(store: Store, turn: Turn, settings: Settings, now: int) -> list[Any]:
    if turn.previous_id is not None:
        return await _chain_items(store, turn, turn.previous_id, settings, now)
    if turn.conversation_id is not None:
        return await _conversation_items(store, turn, turn.conversation_id, settings, now)
    return []


def _check_expanded(body: dict[str, Any], settings: Settings, param: str) -> None:
    """The expanded body within what a client may send: its size, nesting and number of values."""
    if len(orjson.dumps(body)) > settings.max_body_bytes:
        raise _too_large(settings, param)
    try:
        check_bounds(body, ResponseCreateRequest, settings.max_json_depth, settings.max_json_values, openai_param)
    except ProxyError as exc:
        raise InvalidRequestError(f"With its stored history: {exc.message}", param=param) from None


async def prepare(store: Store | None, settings: Settings, owner: str, payload: dict[str, Any]) -> Turn:
    """The request as it goes upstream. Without a store the payload is left as it is (the door refuses the
    stateful fields)."""
    if store is None:
        return Turn(owner, payload)
    previous_id = payload.get("previous_response_id")
    conversation_id = conversation_id_of(payload.get("conversation"))
    if previous_id is not None and payload.get("conversation") is not None:
        raise InvalidRequestError(
            "Mutually exclusive parameters: send either 'previous_response_id' or 'conversation', not both.",
            param="conversation",
            code="mutually_exclusive_parameters",
        )
    if payload.get("conversation") is not None and conversation_id is None:
        raise InvalidRequestError("'conversation' must be an id or an object with an 'id'.", param="conversation")
    turn = Turn(
        owner,
        {key: value for key, value in payload.items() if key not in _STATEFUL},
        store=payload.get("store") is not False,
        previous_id=previous_id,
        conversation_id=conversation_id,
        new_items=input_items(payload.get("input")),
    )
    history = await _history(store, turn, settings, int(time.time()))
    if history:
        turn.body["input"] = [*history, *turn.new_items]
        _check_expanded(turn.body, settings, "previous_response_id" if previous_id else "conversation")
    return turn


async def keep(store: Store | None, settings: Settings, metrics: Metrics, turn: Turn, response: dict[str, Any]) -> None:
    """Store the answer given; a failure is logged and counted, never raised (the client has its answer)."""
    if store is None or not (turn.store or turn.conversation_id):
        return
    now = int(time.time())
    output = list(response.get("output") or ())
    try:
        size = len(orjson.dumps(turn.new_items)) + len(orjson.dumps(response))
        if size > settings.store_max_response_bytes:
            metrics.store_failures.labels("too_large").inc()
            logger.warning(
                "response %s not stored: %d bytes, more than PROXY_STORE_MAX_RESPONSE_BYTES", response.get("id"), size
            )
            return
        if turn.store:
            await store.put_response(_stored(settings, turn, response, now))
        if turn.conversation_id is not None:
            await store.add_items(
                turn.owner, turn.conversation_id, [*turn.new_items, *output], now, expires_at(settings, now)
            )
    except Exception as exc:
        metrics.store_failures.labels("write").inc()
        logger.error("response %s not stored: %s", response.get("id"), type(exc).__name__)


def _stored(settings: Settings, turn: Turn, response: dict[str, Any], now: int) -> StoredResponse:
    return StoredResponse(
        id=str(response["id"]),
        owner=turn.owner,
        previous_id=turn.previous_id,
        created_at=now,
        expires_at=expires_at(settings, now),
        input_items=turn.new_items,
        body=response,
    )
