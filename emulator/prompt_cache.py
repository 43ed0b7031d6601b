"""Claude's prompt cache, as the emulator plays it.

A request's prefix is the chain tools -> system -> messages, block by block (a message's text parts, or its
whole content). Each block marked ``cache_control`` is a breakpoint: the prefix up to it is read when a
request wrote it before (Claude also finds a prefix written up to 20 blocks before a breakpoint), and the
prefix up to the last breakpoint is written otherwise, for ``ttl`` seconds from its last use. Prefixes
shorter than the model's minimum cacheable length are neither read nor written. Token counts are the
emulator's own (words of message text; tools count none, as in its ``prompt_tokens``).

Usage is reported as Databricks' chat API reports Claude's: ``cache_read_input_tokens`` and
``cache_creation_input_tokens`` at the top of ``usage`` with ``prompt_tokens_details.cache_creation_tokens``
(reference: LiteLLM's Databricks fixtures), ``prompt_tokens`` counting every input token.
Anthropic's figures: https://platform.claude.com/docs/en/build-with-claude/prompt-caching
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

LOOKBACK_BLOCKS = 20
TTL_SECONDS = 300.0
_MAX_ENTRIES = 10_000
# Minimum cacheable prompt length by model (Anthropic's table); other Claude endpoints: 1024.
MINIMUM_TOKENS = {
    "databricks-claude-opus-4-6": 4096,
    "databricks-claude-haiku-4-5": 4096,
}
DEFAULT_MINIMUM = 1024


@dataclass(frozen=True, slots=True)
class CacheUse:
    read: int
    written: int

    def usage_fields(self) -> dict[str, Any]:
        return {"cache_read_input_tokens": self.read, "cache_creation_input_tokens": self.written}


@dataclass(frozen=True, slots=True)
class _Block:
    content: bytes
    tokens: int
    marked: bool


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def _blocks(body: dict[str, Any]) -> Iterator[_Block]:
    for tool in body.get("tools") or ():
        yield _Block(
            orjson.dumps(tool, option=orjson.OPT_SORT_KEYS), 0, isinstance(tool, dict) and "cache_control" in tool
        )
    for message in body.get("messages") or ():
        if not isinstance(message, dict):
            continue
        head = orjson.dumps({k: v for k, v in message.items() if k != "content"}, option=orjson.OPT_SORT_KEYS)
        content = message.get("content")
        if isinstance(content, str):  # shorthand for one text block, as Claude reads it
            content = [{"type": "text", "text": content}]
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                plain = {k: v for k, v in part.items() if k != "cache_control"}
                text = part.get("text") if part.get("type") == "text" else None
                yield _Block(
                    head + orjson.dumps(plain, option=orjson.OPT_SORT_KEYS), _words(text), "cache_control" in part
                )
        else:
            yield _Block(head + orjson.dumps(content), _words(content), False)


class PromptCache:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[bytes, float] = OrderedDict()

    def _alive(self, key: bytes, now: float) -> bool:
        expires = self._entries.get(key)
        if expires is None:
            return False
        if expires <= now:
            del self._entries[key]
            return False
        self._entries[key] = now + self.ttl  # a hit refreshes the entry
        self._entries.move_to_end(key)
        return True

    def use(self, endpoint: str, body: dict[str, Any]) -> CacheUse:
        """Read and write the cache for one request; what it read and wrote, in tokens."""
        minimum = MINIMUM_TOKENS.get(endpoint, DEFAULT_MINIMUM)
        now = self._clock()
        digest = hashlib.sha256(endpoint.encode()).digest()
        keys: list[bytes] = []
        totals: list[int] = []
        breakpoints: list[int] = []
        tokens = 0
        for block in _blocks(body):
            digest = hashlib.sha256(digest + block.content).digest()
            tokens += block.tokens
            keys.append(digest)
            totals.append(tokens)
            if block.marked:
                breakpoints.append(len(keys) - 1)
        if not breakpoints:
            return CacheUse(0, 0)
        read = 0
        for point in breakpoints:
            for index in range(point, max(point - LOOKBACK_BLOCKS, -1), -1):
                if totals[index] >= minimum and self._alive(keys[index], now):
                    read = max(read, totals[index])
                    break
        last = breakpoints[-1]
        written = 0
        if totals[last] >= minimum and totals[last] > read:
            written = totals[last] - read
            for point in breakpoints:
                if totals[point] >= minimum:
                    self._store(keys[point], now)
        return CacheUse(read, written)

    def _store(self, key: bytes, now: float) -> None:
        self._entries[key] = now + self.ttl
        self._entries.move_to_end(key)
        while len(self._entries) > _MAX_ENTRIES:
            self._entries.popitem(last=False)


def has_cache_control(body: dict[str, Any]) -> bool:
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and "cache_control" in p for p in content):
            return True
    return any(isinstance(t, dict) and "cache_control" in t for t in body.get("tools") or ())
