"""The Claude endpoints that refused cache breakpoints, remembered for a while (in memory, per process).

One report says Databricks refused ``cache_control`` outright on some Claude endpoints while others honour
it: an endpoint that answers 400 naming the field gets the same request again without breakpoints (a 400
means nothing was generated or billed), and then none for ``ttl`` seconds, after which it is tried again
(endpoints change with their configuration).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.errors import ProxyError

REFUSAL_SECONDS = 3600.0
_MAX_REMEMBERED = 1024
_FIELD = "cache_control"


def is_refusal(error: ProxyError) -> bool:
    """A 400 naming ``cache_control``: the endpoint does not take breakpoints (nothing was generated)."""
    return error.status == 400 and (_FIELD in error.message or error.param == _FIELD)


class RefusalMemory:
    def __init__(self, ttl: float = REFUSAL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._until: dict[str, float] = {}

    def refuses(self, endpoint: str) -> bool:
        until = self._until.get(endpoint)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[endpoint]
            return False
        return True

    def remember(self, endpoint: str) -> None:
        if len(self._until) >= _MAX_REMEMBERED:  # bounded: forget the oldest entry
            self._until.pop(next(iter(self._until)))
        self._until[endpoint] = self._clock() + self.ttl
