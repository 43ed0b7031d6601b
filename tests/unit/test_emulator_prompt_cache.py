"""The emulator's Claude prompt cache: a prefix seen up to a breakpoint is read, else written."""

from __future__ import annotations

from typing import Any

from emulator.prompt_cache import CacheUse, PromptCache

SONNET = "databricks-claude-sonnet-4-5"
SYSTEM = "word " * 1100  # above Sonnet 4.5's 1024-token minimum (the emulator counts words)


def mark(message: dict[str, Any]) -> dict[str, Any]:
    return {
        **message,
        "content": [{"type": "text", "text": message["content"], "cache_control": {"type": "ephemeral"}}],
    }


def test_a_prefix_is_written_then_read_then_extended() -> None:
    cache = PromptCache()
    system = {"role": "system", "content": SYSTEM}
    first = {"messages": [mark(system), mark({"role": "user", "content": "one two"})]}
    assert cache.use(SONNET, first) == CacheUse(read=0, written=1102)
    assert cache.use(SONNET, first) == CacheUse(read=1102, written=0)
    second = {
        "messages": [
            mark(system),
            mark({"role": "user", "content": "one two"}),
            {"role": "assistant", "content": "three"},
            mark({"role": "user", "content": "four five"}),
        ]
    }
    assert cache.use(SONNET, second) == CacheUse(read=1102, written=3)


def test_short_prefixes_and_unmarked_requests_are_not_cached() -> None:
    cache = PromptCache()
    short = {"messages": [mark({"role": "user", "content": "hi"})]}
    assert cache.use(SONNET, short) == CacheUse(0, 0)
    assert cache.use(SONNET, short) == CacheUse(0, 0)
    plain = {"messages": [{"role": "system", "content": SYSTEM}]}
    assert cache.use(SONNET, plain) == CacheUse(0, 0)
    # Opus 4.6 needs 4096 tokens.
    assert cache.use(
        "databricks-claude-opus-4-6", {"messages": [mark({"role": "system", "content": SYSTEM})]}
    ) == CacheUse(0, 0)


def test_entries_expire() -> None:
    now = [0.0]
    cache = PromptCache(ttl=300, clock=lambda: now[0])
    body = {"messages": [mark({"role": "system", "content": SYSTEM})]}
    assert cache.use(SONNET, body).written == 1100
    now[0] = 299.0
    assert cache.use(SONNET, body).read == 1100
    now[0] = 599.0 + 1
    assert cache.use(SONNET, body).written == 1100
