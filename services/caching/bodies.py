"""The upstream body for one endpoint: with automatic cache breakpoints when it is a Claude endpoint that
takes them, else as the door built it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.caching.breakpoints import with_breakpoints
from services.caching.refusals import RefusalMemory
from services.dialects.anthropic.family import Kind, family_of


@dataclass(frozen=True, slots=True)
class Bodies:
    plain: bytes  # as the door built it
    marked: bytes | None  # with automatic breakpoints; None when the request gets none


class PromptCaching:
    def __init__(self, enabled: bool, refusals: RefusalMemory | None = None) -> None:
        self.enabled = enabled
        self.refusals = refusals or RefusalMemory()

    def wants_breakpoints(self, endpoint: str) -> bool:
        """Claude only: other families refuse the field or cache prefixes by themselves."""
        return self.enabled and family_of(endpoint).kind is Kind.CLAUDE and not self.refusals.refuses(endpoint)

    def bodies(self, endpoint: str, body: dict[str, Any], plain: bytes) -> Bodies:
        if not self.wants_breakpoints(endpoint):
            return Bodies(plain, None)
        marked = with_breakpoints(body)
        return Bodies(plain, orjson.dumps(marked) if marked is not None else None)
