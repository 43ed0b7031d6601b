"""Output items of a Response, the same in JSON answers, stream events and ``response.completed``."""

from __future__ import annotations

from typing import Any

import orjson

from services.dialects.responses import reasoning
from services.dialects.responses.common import ToolName
from services.pivot.content import thinking


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    content = [text_part(text)] if text is not None else []
    return {"type": "message", "id": item_id, "role": "assistant", "status": status, "content": content}


def reasoning_item(item_id: str, blocks: list[dict[str, Any]] | None, status: str = "completed") -> dict[str, Any]:
    """Summaries from the thinking blocks' text; the blocks themselves ride in ``encrypted_content``."""
    if blocks is None:
        return {"type": "reasoning", "id": item_id, "summary": [], "status": status}
    summary = [
        {"type": "summary_text", "text": block["thinking"]}
        for block in blocks
        if block["type"] == "thinking" and block["thinking"]
    ]
    return {
        "type": "reasoning",
        "id": item_id,
        "summary": summary,
        "encrypted_content": reasoning.encode(blocks),
        "status": status,
    }


def custom_input(arguments: str) -> str:
    """A custom tool's raw input from the ``{"input": ...}`` arguments it was offered as."""
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
    if isinstance(value, dict) and isinstance(value.get("input"), str):
        return str(value["input"])
    return arguments


def tool_item(
    item_id: str, call_id: str, target: ToolName, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    if target.kind == "custom":
        return {
            "type": "custom_tool_call",
            "id": item_id,
            "call_id": call_id,
            "name": target.name,
            "input": custom_input(arguments),
            "status": status,
        }
    item = {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": target.name,
        "arguments": arguments,
        "status": status,
    }
    if target.namespace is not None:
        item["namespace"] = target.namespace
    return item


def target_of(names: dict[str, ToolName], chat_name: str) -> ToolName:
    """What a called chat function stands for (a name the request did not offer stays a plain function)."""
    return names.get(chat_name) or ToolName("function", chat_name)


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A pivot message's thinking blocks; plain reasoning text (no signature) becomes one block."""
    blocks = message.get("thinking_blocks")
    if isinstance(blocks, list) and blocks:
        return [dict(block) for block in blocks if isinstance(block, dict)]
    text = message.get("reasoning_content")
    if isinstance(text, str) and text:
        return [thinking(text)]
    return None
