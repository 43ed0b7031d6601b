"""Automatic prompt-cache breakpoints on a chat pivot body going to a Claude endpoint (pure).

Claude caches a prompt prefix only up to the content blocks marked ``cache_control``, at most 4 per
request, over the prefix tools -> system -> messages; a breakpoint also finds a cache written up to 20
blocks before it (Anthropic, "Prompt caching":
https://platform.claude.com/docs/en/build-with-claude/prompt-caching). Following Anthropic's guidance for
multi-turn conversations, a request that carries no breakpoint of its own gets up to three:

- the end of the system prompt (tools and system: the part every turn shares);
- the end of the previous turn (the last message before the last assistant message), so the cache the
  previous request wrote is read exactly, however many blocks the last turn added;
- the final block of the final message, so the next turn reads everything up to here.

Only ``system``, ``user`` and ``tool`` messages are marked (never an assistant turn), and only a non-empty
text part (Claude refuses empty text blocks). A request with a breakpoint of its own is left as the
client sent it (and loses them only where the endpoint refuses them: ``without_breakpoints``).
Short prefixes are marked too: below the model's minimum cacheable length (1024 to 4096
tokens, by model) Claude processes the request without caching it, at no extra cost and with no error,
so the proxy need not count tokens to decide.
"""

from __future__ import annotations

from typing import Any

MAX_BREAKPOINTS = 4
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
_MARKABLE_ROLES = frozenset({"system", "user", "tool"})


def has_breakpoints(body: dict[str, Any]) -> bool:
    """Whether the client marked anything itself (a content part, a tool, or Anthropic's top-level field)."""
    if "cache_control" in body:
        return True
    for tool in body.get("tools") or ():
        if isinstance(tool, dict) and "cache_control" in tool:
            return True
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(isinstance(p, dict) and "cache_control" in p for p in content):
            return True
    return False


def _last_text_index(content: Any) -> int | None:
    """Where a breakpoint goes in a message's content: its last non-empty text (-1 for a plain string)."""
    if isinstance(content, str):
        return -1 if content else None
    if isinstance(content, list):
        for index in range(len(content) - 1, -1, -1):
            part = content[index]
            if (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
                and part["text"]
            ):
                return index
    return None


def _markable(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and message.get("role") in _MARKABLE_ROLES
        and _last_text_index(message.get("content")) is not None
    )


def _marked(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` with a breakpoint on its last text (the client's dictionaries are not changed)."""
    content = message["content"]
    index = _last_text_index(content)
    if index == -1:
        parts: list[Any] = [{"type": "text", "text": content, "cache_control": EPHEMERAL}]
    else:
        assert index is not None
        parts = list(content)
        parts[index] = {**parts[index], "cache_control": EPHEMERAL}
    return {**message, "content": parts}


def _positions(messages: list[Any]) -> list[int]:
    """The messages to mark, in order: system end, previous turn end, final message (each at most once)."""
    chosen: list[int] = []
    system_end = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "system":
            break
        system_end = index
    if system_end is not None and _markable(messages[system_end]):
        chosen.append(system_end)
    roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
    last_assistant = next((i for i in range(len(roles) - 1, -1, -1) if roles[i] == "assistant"), None)
    if last_assistant is not None:
        previous = next((i for i in range(last_assistant - 1, -1, -1) if _markable(messages[i])), None)
        if previous is not None and previous not in chosen:
            chosen.append(previous)
    final = next((i for i in range(len(messages) - 1, -1, -1) if _markable(messages[i])), None)
    if final is not None and final not in chosen:
        chosen.append(final)
    return chosen[-MAX_BREAKPOINTS:]


def with_breakpoints(body: dict[str, Any]) -> dict[str, Any] | None:
    """A copy of ``body`` with automatic breakpoints, or None when the client marked its own or none fits."""
    messages = body.get("messages")
    if not isinstance(messages, list) or has_breakpoints(body):
        return None
    positions = _positions(messages)
    if not positions:
        return None
    marked = list(messages)
    for index in positions:
        marked[index] = _marked(messages[index])
    return {**body, "messages": marked}


def _unmarked(value: Any) -> Any:
    if isinstance(value, dict) and "cache_control" in value:
        return {key: item for key, item in value.items() if key != "cache_control"}
    return value


def without_breakpoints(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` without any ``cache_control`` (for an endpoint that refuses the field)."""
    out: dict[str, Any] = _unmarked(body)
    if isinstance(out.get("tools"), list):
        out = {**out, "tools": [_unmarked(tool) for tool in out["tools"]]}
    messages = out.get("messages")
    if isinstance(messages, list):
        out = {
            **out,
            "messages": [
                {**m, "content": [_unmarked(part) for part in m["content"]]}
                if isinstance(m, dict) and isinstance(m.get("content"), list)
                else m
                for m in messages
            ],
        }
    return out
