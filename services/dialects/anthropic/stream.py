"""Chat pivot chunks -> Anthropic Messages stream events, one chunk at a time (pure, no I/O).

Anthropic clients keep a list of content blocks and apply each delta to the block at its index:
a delta for an index never started ("Content block not found") or of another kind ("not a thinking
block") breaks them. So blocks are strictly sequential here: a block is opened with
``content_block_start`` at the next dense index, gets only deltas of its own kind, and is closed
before the next one opens. A thinking block that has received its signature is complete; more
thinking opens a new block. Databricks streams tool calls one after the other, so a call's
arguments always belong to the open ``tool_use`` block (Databricks' leading ``{}`` before a call's real
arguments is already taken care of by the pivot normaliser, ``ChatStream``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.dialects.anthropic.answers import message_id, stop_reason, usage
from services.dialects.anthropic.errors import error_body
from services.errors import ProxyError
from services.pivot.content import redacted_thinking, thinking

_TEXT, _THINKING, _TOOL = "text", "thinking", "tool_use"


class MessageStream:
    """One per stream: ``feed`` each pivot chunk, then ``finish`` (or ``fail`` after a failure)."""

    def __init__(self, model: str, *, thinking: bool, known_usage: Callable[[], Any] | None = None) -> None:
        """``known_usage`` gives the usage Databricks reported so far (its first chunk has the prompt tokens),
        so that ``message_start`` carries ``input_tokens`` as Anthropic's does."""
        self.model = model
        self.thinking = thinking
        self._known_usage = known_usage
        self.usage: dict[str, Any] | None = None
        self._started = False
        self._index = -1
        self._open: str | None = None
        self._open_call: Any = None
        self._signed = False
        self._finish: Any = None
        self._called = False

    # ------------------------------------------------------------------------------------- blocks

    def _start_block(self, block: dict[str, Any], kind: str | None, out: list[dict[str, Any]]) -> None:
        self._close(out)
        self._index += 1
        self._open = kind
        out.append({"type": "content_block_start", "index": self._index, "content_block": block})

    def _close(self, out: list[dict[str, Any]]) -> None:
        if self._open is not None:
            out.append({"type": "content_block_stop", "index": self._index})
            self._open = None

    def _delta(self, delta: dict[str, Any], out: list[dict[str, Any]]) -> None:
        out.append({"type": "content_block_delta", "index": self._index, "delta": delta})

    def _thinking_part(self, part: dict[str, Any], out: list[dict[str, Any]]) -> None:
        if part.get("type") == "redacted_thinking":
            data = part.get("data")
            if isinstance(data, str):
                self._start_block(redacted_thinking(data), "redacted", out)
                self._close(out)
            return
        text = part.get("thinking")
        signature = part.get("signature")
        text = text if isinstance(text, str) else ""
        signature = signature if isinstance(signature, str) else ""
        if not text and not signature:
            return
        if self._open != _THINKING or self._signed:
            self._start_block(thinking(""), _THINKING, out)
            self._signed = False
        if text:
            self._delta({"type": "thinking_delta", "thinking": text}, out)
        if signature:
            self._delta({"type": "signature_delta", "signature": signature}, out)
            self._signed = True

    def _text(self, text: str, out: list[dict[str, Any]]) -> None:
        if self._open != _TEXT:
            self._start_block({"type": "text", "text": ""}, _TEXT, out)
        self._delta({"type": "text_delta", "text": text}, out)

    def _tool_call(self, call: dict[str, Any], out: list[dict[str, Any]]) -> None:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        if call.get("id"):  # a call's first delta (the pivot's id/name appear only there)
            block = {"type": "tool_use", "id": call["id"], "name": function.get("name") or "", "input": {}}
            self._start_block(block, _TOOL, out)
            self._open_call = call.get("index")
            self._called = True
        elif self._open != _TOOL or call.get("index") != self._open_call:
            return
        if not isinstance(arguments, str) or not arguments:
            return
        self._delta({"type": "input_json_delta", "partial_json": arguments}, out)

    # ------------------------------------------------------------------------------------- message

    def _message_start(self, chunk: dict[str, Any]) -> dict[str, Any]:
        self._started = True
        return {
            "type": "message_start",
            "message": {
                "id": message_id(chunk.get("id")),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage(self._known_usage() if self._known_usage else self.usage), "output_tokens": 0},
            },
        }

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if not self._started:
            out.append(self._message_start(chunk))
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if self.thinking:
                parts = delta.get("thinking_blocks")
                if parts:
                    for part in parts:
                        self._thinking_part(part, out)
                elif delta.get("reasoning_content"):
                    self._thinking_part({"thinking": delta["reasoning_content"]}, out)
            text = delta.get("content")
            if isinstance(text, str) and text:
                self._text(text, out)
            for call in delta.get("tool_calls") or ():
                self._tool_call(call, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return out

    def finish(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self._started:
            out.append(self._message_start({}))
        self._close(out)
        reason = stop_reason(self._finish)
        if reason == "end_turn" and self._called:
            reason = "tool_use"
        out.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": None},
                "usage": usage(self.usage),
            }
        )
        out.append({"type": "message_stop"})
        return out

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        return [error_body(error)]
