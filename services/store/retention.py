"""The periodic purge of expired stored objects (reads already ignore them; this frees the space)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from services.store.base import Store

logger = logging.getLogger("proxy.store")


class Purger:
    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def purge_once(self) -> int:
        try:
            deleted = await self.store.purge(int(time.time()))
        except Exception as exc:  # the next round tries again
            logger.error("purge of expired stored responses failed: %s", type(exc).__name__)
            return 0
        if deleted:
            logger.info("purged %d expired stored rows", deleted)
        return deleted

    async def _run(self) -> None:
        while True:
            await self.purge_once()
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
