"""The upstream body for one endpoint, and the one to send instead should the endpoint refuse breakpoints.

A Claude endpoint gets automatic breakpoints (``breakpoints.py``) when the request carries none, else the
client's own as sent; should it refuse them (``refusals.py``), the same request goes again without any
``cache_control``, and the endpoint gets none until the refusal is forgotten. Other families get the body
as the door built it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from services.caching.breakpoints import has_breakpoints, with_breakpoints, without_breakpoints
from services.caching.refusals import RefusalMemory
from services.databricks.families import Family


@dataclass(frozen=True, slots=True)
class Bodies:
    first: bytes  # what is sent
    retry: Callable[[], bytes] | None = None  # the body without breakpoints, should the endpoint refuse them


class PromptCaching:
    def __init__(self, enabled: bool, refusals: RefusalMemory | None = None) -> None:
        self.enabled = enabled
        self.refusals = refusals or RefusalMemory()

    def bodies(self, endpoint: str, family: Family, body: dict[str, Any], content: bytes) -> Bodies:
        """``content`` is ``body`` serialised, as the door built it; ``family`` is the endpoint's."""
        if not self.enabled or not family.claude:
            return Bodies(content)  # other families refuse the field or cache prefixes by themselves
        if self.refusals.refuses(endpoint):
            return Bodies(orjson.dumps(without_breakpoints(body)) if has_breakpoints(body) else content)
        if has_breakpoints(body):  # the client's own, as sent
            return Bodies(content, lambda: orjson.dumps(without_breakpoints(body)))
        marked = with_breakpoints(body)
        return Bodies(orjson.dumps(marked), lambda: content) if marked is not None else Bodies(content)
