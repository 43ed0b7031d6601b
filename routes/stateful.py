"""What the Responses and Conversations routes share about the store: who owns, and the store itself."""

from __future__ import annotations

from fastapi import Request

from routes.deps import record_of, services_of
from services.store.base import ANONYMOUS, Store
from services.store.history import StoredObjectNotFoundError


def owner_of(request: Request) -> str:
    """Every stored object belongs to its caller: the Apps user or the API key's label (open mode: one owner)."""
    return record_of(request).caller or ANONYMOUS


def store_of(request: Request, what: str) -> Store:
    """The store, or OpenAI's 404 for ``what`` when storing is off (nothing can have been stored)."""
    store = services_of(request).store
    if store is None:
        raise StoredObjectNotFoundError(f"{what} not found: nothing is stored (PROXY_STORE_URL=off).")
    return store
