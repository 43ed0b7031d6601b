"""Message content in both dialects.

Databricks reasoning models answer with ``content`` as a list of parts
(``text`` and ``reasoning`` with ``summary_text`` / ``summary_encrypted_text``); OpenAI clients
expect a string plus, by the de-facto convention, ``reasoning_content``.
"""

from __future__ import annotations

from typing import Any

from services.errors import InvalidRequestError

# The parts Databricks takes in a message's content besides replayed reasoning: no audio, no files.
INPUT_PART_TYPES = frozenset({"text", "image_url"})


def split_content(content: Any) -> tuple[str | None, str | None]:
    """(text, reasoning) from a Databricks ``content`` value of any shape."""
    if content is None:
        return None, None
    if isinstance(content, str):
        return content, None
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return str(content), None
    texts: list[str] = []
    reasoning: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
        elif kind == "reasoning":
            for summary in part.get("summary") or ():
                if isinstance(summary, dict) and summary.get("type", "summary_text") == "summary_text":
                    text = summary.get("text")
                    if isinstance(text, str):
                        reasoning.append(text)
    return ("".join(texts) if texts else None), ("".join(reasoning) if reasoning else None)


def message_reasoning(message: dict[str, Any]) -> str | None:
    """Reasoning some models put beside ``content`` as a plain string."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def thinking(text: str, signature: Any = "") -> dict[str, Any]:
    """The pivot's thinking block (Anthropic's shape): ``signature`` verbatim, ``""`` when there is none."""
    return {"type": "thinking", "thinking": text, "signature": signature if isinstance(signature, str) else ""}


def redacted_thinking(data: str) -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": data}


def thinking_block_of(block: Any) -> dict[str, Any] | None:
    """A well-formed thinking or redacted-thinking block rebuilt from ``block`` (a missing signature is ``""``),
    or None."""
    if not isinstance(block, dict):
        return None
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        return redacted_thinking(data) if isinstance(data, str) else None
    text = block.get("thinking")
    return thinking(text, block.get("signature")) if isinstance(text, str) else None


def thinking_blocks(content: Any) -> list[dict[str, Any]]:
    """Databricks ``reasoning`` parts as the pivot's thinking blocks, in order, signatures verbatim.

    ``summary_text`` -> ``{"type": "thinking", "thinking", "signature"}`` (``""`` when none),
    ``summary_encrypted_text`` -> ``{"type": "redacted_thinking", "data"}``.
    """
    if isinstance(content, dict):
        content = [content]
    blocks: list[dict[str, Any]] = []
    if not isinstance(content, list):
        return blocks
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "reasoning":
            continue
        for summary in part.get("summary") or ():
            if not isinstance(summary, dict):
                continue
            kind = summary.get("type", "summary_text")
            if kind == "summary_text" and isinstance(summary.get("text"), str):
                blocks.append(thinking(summary["text"], summary.get("signature")))
            elif kind == "summary_encrypted_text" and isinstance(summary.get("data"), str):
                blocks.append(redacted_thinking(summary["data"]))
    return blocks


def reasoning_part(text: str, signature: str | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {"type": "summary_text", "text": text}
    if signature:
        summary["signature"] = signature
    return {"type": "reasoning", "summary": [summary]}


def redacted_reasoning_part(data: str) -> dict[str, Any]:
    return {"type": "reasoning", "summary": [{"type": "summary_encrypted_text", "data": data}]}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def unsupported_part(kind: Any, param: str, send: str) -> InvalidRequestError:
    """A content part Databricks would refuse, refused here first; ``send`` names the door's own part types."""
    return InvalidRequestError(
        f"Content parts of type '{str(kind)[:100]}' are not supported: Databricks Model Serving takes text and "
        f"images only; send {send}.",
        param=param,
    )
