"""A bound on concurrent upstream requests that refuses instead of queueing without limit."""

from __future__ import annotations

from services.errors import OverloadedError


class ConcurrencyLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def acquire(self) -> None:
        if self.active >= self.limit:
            raise OverloadedError(
                f"The proxy is handling its maximum of {self.limit} concurrent requests; retry shortly.",
                headers={"Retry-After": "1"},
            )
        self.active += 1

    def release(self) -> None:
        self.active -= 1
