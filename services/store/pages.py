"""OpenAI's cursor pages (``after``, ``limit``, ``order``) and list objects (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.errors import InvalidRequestError
from services.store.base import ItemPage, Order

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class PageQuery:
    after: str | None
    limit: int
    order: Order


def page_query(query: Mapping[str, str]) -> PageQuery:
    """Checked query parameters (a wrong one is a 400 naming it)."""
    raw_limit = query.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise InvalidRequestError(
                f"Invalid 'limit': expected an integer from 1 to {MAX_LIMIT}.", param="limit", code="invalid_value"
            )
        limit = int(raw_limit)
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequestError("Invalid 'order': expected 'asc' or 'desc'.", param="order", code="invalid_value")
    after = query.get("after") or None
    return PageQuery(after[:200] if after else None, limit, "asc" if order == "asc" else "desc")


def page_of(items: list[dict[str, Any]], query: PageQuery) -> ItemPage:
    """A page of an in-memory list (the input items of one response, bounded by the per-response cap)."""
    ordered = items if query.order == "asc" else items[::-1]
    if query.after is not None:
        ids = [item.get("id") for item in ordered]
        ordered = ordered[ids.index(query.after) + 1 :] if query.after in ids else []
    return ItemPage(ordered[: query.limit], len(ordered) > query.limit)


def list_object(page: ItemPage) -> dict[str, Any]:
    data = page.items
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": page.has_more,
    }
