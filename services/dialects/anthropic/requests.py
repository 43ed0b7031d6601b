"""Anthropic Messages request -> chat pivot request (pure, over an already validated dictionary).

The pivot is an OpenAI chat request; the chat translation turns it into the Databricks body. Only
fields with a chat meaning are written, so Anthropic-only fields never reach Databricks' strict
decoder. Choices that are not obvious:

- ``system`` (string or text blocks) and ``system``-role messages (Claude Code's mid-conversation
  context) become one leading system message, in order: Databricks' Claude takes one system prompt.
- A user message's ``tool_result`` blocks become ``tool`` messages (in order), the rest of its blocks
  one user message after them, as chat expects.
- Thinking blocks are replayed verbatim as ``thinking_blocks`` for Claude (signatures untouched, in
  order; unsigned ones, which Claude refuses, are left out); other families cannot verify them and get none.
- ``cache_control`` stays on text blocks and tool results for Claude (Databricks honours it) and is
  dropped elsewhere; a request that marks nothing gets the proxy's automatic breakpoints (``services/caching``).
- Empty text blocks are dropped (Databricks' Claude rejects them); an empty tool result says so.
- Server tools (Anthropic runs them, Databricks cannot) and blocks the pivot cannot carry (PDF documents,
  server tool results, ...) are dropped and named in ``dropped`` (the log line notes them); a tool result
  whose every block was dropped says so to the model rather than "(no output)".
- A user message left with nothing to send is refused (400 naming ``messages.<i>.content``): Databricks
  would otherwise answer with an error naming no field, or the model would answer a message it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.databricks.families import Family, Kind
from services.dialects.anthropic.thinking import reasoning_fields, wants_thinking
from services.errors import InvalidRequestError
from services.pivot.content import redacted_thinking, thinking

EMPTY_TOOL_RESULT = "(no output)"
UNSENT_TOOL_RESULT = "(the tool's output could not be passed on: {})"
# Claude Code's first system block is billing metadata for Anthropic, not instructions for a model.
_BILLING_HEADER = "x-anthropic-billing-header:"


@dataclass(frozen=True, slots=True)
class ChatTranslation:
    """The pivot request and what the door must remember for the answer."""

    body: dict[str, Any]
    stream: bool
    thinking: bool  # reasoning goes back to the client as thinking blocks
    dropped: tuple[str, ...] = ()  # server tools and block types the proxy cannot serve, for the log line


def _text_part(block: dict[str, Any], claude: bool) -> dict[str, Any] | None:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        return None
    part: dict[str, Any] = {"type": "text", "text": text}
    if claude and block.get("cache_control") is not None:
        part["cache_control"] = block["cache_control"]
    return part


def _image_part(block: dict[str, Any]) -> dict[str, Any] | None:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif source.get("type") == "url":
        url = str(source.get("url"))
    else:
        return None
    return {"type": "image_url", "image_url": {"url": url}}


def _document_text(block: dict[str, Any]) -> dict[str, Any] | None:
    source = block.get("source") or {}
    if source.get("type") == "text" and isinstance(source.get("data"), str) and source["data"]:
        return {"type": "text", "text": source["data"]}
    return None


class _Builder:
    def __init__(self, family: Family) -> None:
        self.claude = family.kind is Kind.CLAUDE
        self.system: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.dropped: list[str] = []

    def drop(self, what: str) -> None:
        if what not in self.dropped:
            self.dropped.append(what)

    def add_system(self, content: Any) -> None:
        if isinstance(content, str):
            if content:
                self.system.append({"type": "text", "text": content})
            return
        for block in content or ():
            if block.get("type") != "text" or str(block.get("text", "")).startswith(_BILLING_HEADER):
                continue
            part = _text_part(block, self.claude)
            if part is not None:
                self.system.append(part)

    def _parts(self, blocks: list[dict[str, Any]], where: str = "") -> tuple[list[dict[str, Any]], list[str]]:
        """The chat parts of the blocks, and what was dropped (``where`` qualifies it for the log)."""
        parts: list[dict[str, Any]] = []
        dropped: list[str] = []
        for block in blocks:
            kind = block.get("type")
            part: dict[str, Any] | None
            lost: str | None = None
            if kind == "text":
                part = _text_part(block, self.claude)
            elif kind == "image":
                part = _image_part(block)
                lost = None if part else "image source " + str(block["source"].get("type"))
            elif kind == "document":
                part = _document_text(block)
                lost = None if part else "document source " + str(block["source"].get("type"))
            elif kind in ("thinking", "redacted_thinking"):
                part = None  # only meaningful in assistant turns
            else:
                part = None
                lost = str(kind)
            if part is not None:
                parts.append(part)
            elif lost is not None:
                dropped.append(lost)
                self.drop(lost + where)
        return parts, dropped

    def add_user(self, content: Any, position: int) -> None:
        if isinstance(content, str):
            if not content:
                raise _nothing_to_send(position, [])
            self.messages.append({"role": "user", "content": content})
            return
        rest: list[dict[str, Any]] = []
        sent = False
        for block in content:
            if block.get("type") == "tool_result":
                self.messages.append(self._tool_message(block))
                sent = True
            else:
                rest.append(block)
        parts, dropped = self._parts(rest)
        if parts:
            self.messages.append({"role": "user", "content": parts})
        elif not sent:
            raise _nothing_to_send(position, dropped)

    def _tool_message(self, block: dict[str, Any]) -> dict[str, Any]:
        content = block.get("content")
        value: Any
        if isinstance(content, list):
            parts, dropped = self._parts(content, " in tool_result")
            value = parts if any(p["type"] != "text" for p in parts) else "\n".join(p["text"] for p in parts)
            if not value and dropped:
                value = UNSENT_TOOL_RESULT.format(", ".join(dropped))
        else:
            value = content if isinstance(content, str) else ""
        value = value or EMPTY_TOOL_RESULT
        if self.claude and block.get("cache_control") is not None:
            value = _with_cache_control(value, block["cache_control"])
        return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": value}

    def add_assistant(self, content: Any) -> None:
        if isinstance(content, str):
            if content:
                self.messages.append({"role": "assistant", "content": content})
            return
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        replayed: list[dict[str, Any]] = []
        for block in content:
            kind = block.get("type")
            if kind == "text":
                if block.get("text"):
                    texts.append(block["text"])
            elif kind == "tool_use":
                arguments = orjson.dumps(block.get("input") or {}).decode()
                calls.append(
                    {"id": block["id"], "type": "function", "function": {"name": block["name"], "arguments": arguments}}
                )
            elif kind == "thinking":
                # Unsigned thinking (another model's, or cut by max_tokens) is refused by Claude: left out.
                if self.claude and block["signature"]:
                    replayed.append(thinking(block["thinking"], block["signature"]))
            elif kind == "redacted_thinking":
                if self.claude:
                    replayed.append(redacted_thinking(block["data"]))
            else:
                self.drop(str(kind))
        if not texts and not calls:
            return  # nothing a model can be shown; Databricks' Claude rejects an empty turn
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
        if calls:
            message["tool_calls"] = calls
        if replayed:
            message["thinking_blocks"] = replayed
        self.messages.append(message)

    def tools(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for tool in tools:
            if tool.get("type") not in (None, "custom") or tool.get("input_schema") is None:
                self.drop(f"server tool {tool.get('type') or tool.get('name')}")
                continue
            function: dict[str, Any] = {"name": tool["name"], "parameters": tool["input_schema"]}
            if tool.get("description"):
                function["description"] = tool["description"]
            out.append({"type": "function", "function": function})
        return out


def _with_cache_control(value: str | list[dict[str, Any]], cache_control: Any) -> list[dict[str, Any]]:
    """A tool result's content with the client's breakpoint on its last text part (Claude Code marks the
    last block of the conversation, often a tool result)."""
    parts = [{"type": "text", "text": value}] if isinstance(value, str) else list(value)
    for index in range(len(parts) - 1, -1, -1):
        if parts[index].get("type") == "text":
            parts[index] = {**parts[index], "cache_control": cache_control}
            break
    return parts


def _nothing_to_send(position: int, dropped: list[str]) -> InvalidRequestError:
    field = f"messages.{position}.content"
    unsent = f" ({', '.join(dropped)} cannot be sent to this model)" if dropped else ""
    return InvalidRequestError(
        f"{field}: the message has no content to send{unsent}; send at least one non-empty text, image or "
        "tool_result block.",
        param=field,
    )


def _check_named_tool(choice: dict[str, Any], tools: list[dict[str, Any]]) -> None:
    """``{"type": "tool"}`` must name one of the tools sent (else Databricks' error would name no field)."""
    if choice.get("type") != "tool":
        return
    name = choice.get("name")
    if not name:
        raise InvalidRequestError("tool_choice.name: Field required", param="tool_choice.name")
    if all(tool["function"]["name"] != name for tool in tools):
        raise InvalidRequestError(
            f"tool_choice.name: '{str(name)[:256]}' names none of the client tools in tools.", param="tool_choice.name"
        )


def _tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "any":
        return "required"
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return kind  # "auto" and "none" mean the same in chat


def to_chat(payload: dict[str, Any], family: Family) -> ChatTranslation:
    """The chat pivot request for a validated Messages request going to an endpoint of ``family``."""
    builder = _Builder(family)
    builder.add_system(payload.get("system"))
    for position, message in enumerate(payload["messages"]):
        role = message["role"]
        if role == "system":
            builder.add_system(message["content"])
        elif role == "user":
            builder.add_user(message["content"], position)
        else:
            builder.add_assistant(message["content"])
    messages = builder.messages
    if not messages:
        raise InvalidRequestError(
            "messages: no message has content to send; send at least one user message.", param="messages"
        )
    if builder.system:
        if builder.claude and any("cache_control" in p for p in builder.system):
            system: Any = builder.system
        else:
            system = "\n\n".join(p["text"] for p in builder.system)
        messages = [{"role": "system", "content": system}, *messages]

    body: dict[str, Any] = {"model": payload["model"], "messages": messages, "max_tokens": payload["max_tokens"]}
    for key in ("temperature", "top_p", "top_k"):
        if payload.get(key) is not None:
            body[key] = payload[key]
    if payload.get("stop_sequences"):
        body["stop"] = payload["stop_sequences"]
    tools = builder.tools(payload.get("tools") or [])
    choice = payload.get("tool_choice")
    if tools:
        body["tools"] = tools
        if choice is not None:
            _check_named_tool(choice, tools)
            body["tool_choice"] = _tool_choice(choice)
    # ``metadata.user_id`` and ``disable_parallel_tool_use`` have no Databricks field: the pivot gets neither.
    body.update(reasoning_fields(payload, family))
    stream = payload.get("stream") is True
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return ChatTranslation(body=body, stream=stream, thinking=wants_thinking(payload), dropped=tuple(builder.dropped))
