"""What comes back from a model is bounded in depth like what goes in.

A model can return a tool input nested hundreds of levels deep (a prompt injection can steer it to). The
encoder that writes the door's answer stops at 255 levels (orjson's limit) and the door's envelope adds a few,
so such an answer is refused as Databricks' fault (502) rather than failing to encode (500).
"""

from __future__ import annotations

from typing import Any

from services.errors import UpstreamInvalidResponseError

# orjson encodes at most 255 levels; the deepest door envelope (an Anthropic tool_use block) adds 4.
MAX_ANSWER_DEPTH = 240


def deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` nests lists and objects more than ``limit`` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def too_deep_answer(what: str) -> UpstreamInvalidResponseError:
    return UpstreamInvalidResponseError(
        f"Databricks answered with {what} nested more than {MAX_ANSWER_DEPTH} levels deep, "
        "which the proxy does not pass on."
    )


def check_answer_depth(value: Any, what: str) -> None:
    if deeper_than(value, MAX_ANSWER_DEPTH):
        raise too_deep_answer(what)
