"""Input items as stored and listed: every item a typed object with an id (pure)."""

from __future__ import annotations

import uuid
from typing import Any

_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "custom_tool_call": "ctc",
    "custom_tool_call_output": "ctco",
    "reasoning": "rs",
}
_INPUT_ROLES = frozenset({"user", "system", "developer"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _content(role: str, content: Any) -> Any:
    if isinstance(content, str):
        kind = "input_text" if role in _INPUT_ROLES else "output_text"
        part: dict[str, Any] = {"type": kind, "text": content}
        if kind == "output_text":
            part["annotations"] = []
        return [part]
    return content


def stored_item(item: dict[str, Any]) -> dict[str, Any]:
    """One input item as OpenAI lists it: a message in the easy form (no ``type``, string content) written out."""
    out = dict(item)
    kind = out.get("type") or "message"
    out["type"] = kind
    if kind == "message":
        role = str(out.get("role") or "user")
        out["content"] = _content(role, out.get("content"))
        out.setdefault("status", "completed")
    if not isinstance(out.get("id"), str) or not out["id"]:
        out["id"] = new_id(_PREFIXES.get(kind, "item"))
    return out


def input_items(value: Any) -> list[dict[str, Any]]:
    """A request's ``input`` (a string or items) as stored items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [stored_item({"type": "message", "role": "user", "content": value})]
    return [stored_item(item) for item in value if isinstance(item, dict)]
