"""Chat pivot chunks -> Gemini ``streamGenerateContent`` chunks (pure, no I/O).

Each event is a whole ``GenerateContentResponse`` (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent):
text and thought text as they arrive; a function call once its arguments are complete (Gemini sends
``args`` as an object, never in pieces); the last chunk carries ``finishReason`` and ``usageMetadata``.
Signed thinking blocks ride on the next answer part's ``thoughtSignature`` (``signatures.py``).
A failure after the first byte is an ``{"error": ...}`` event, which Google's SDKs raise on.
"""

from __future__ import annotations

from typing import Any

from services.dialects.gemini import signatures
from services.dialects.gemini.answers import finish_reason, function_call_part, response_id, usage_metadata
from services.dialects.gemini.errors import error_body
from services.errors import ProxyError


class ContentStream:
    """One per stream: ``feed`` each pivot chunk, then ``finish`` (or ``fail`` after a failure)."""

    def __init__(self, model: str, *, thoughts: bool) -> None:
        self.model = model
        self.thoughts = thoughts
        self.usage: Any = None
        self._id: str | None = None
        self._finish: Any = None
        self._thinking = ""  # the open thinking block's text, until its signature arrives
        self._blocks: list[dict[str, Any]] = []  # signed blocks waiting for the next answer part
        self._call: dict[str, Any] | None = None  # the tool call whose arguments are arriving

    def _chunk(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
            "modelVersion": self.model,
            "responseId": self._id or response_id(None),
        }

    def _signed(self, part: dict[str, Any]) -> dict[str, Any]:
        if not self._blocks:
            return part
        signature = signatures.encode(self._blocks)
        self._blocks = []
        return {**part, "thoughtSignature": signature}

    def _thinking_part(self, block: dict[str, Any], parts: list[dict[str, Any]]) -> None:
        if block.get("type") == "redacted_thinking":
            self._blocks += signatures.signed([block])
            return
        text, signature = block.get("thinking"), block.get("signature")
        if isinstance(text, str) and text:
            self._thinking += text
            if self.thoughts:
                parts.append({"text": text, "thought": True})
        if isinstance(signature, str) and signature:
            self._blocks.append({"type": "thinking", "thinking": self._thinking, "signature": signature})
            self._thinking = ""

    def _flush_call(self, parts: list[dict[str, Any]]) -> None:
        if self._call is not None:
            parts.append(self._signed(function_call_part(self._call)))
            self._call = None

    def _tool_call(self, call: dict[str, Any], parts: list[dict[str, Any]]) -> None:
        function = call.get("function") or {}
        if call.get("id"):
            self._flush_call(parts)
            self._call = {"id": call["id"], "function": {"name": function.get("name") or "", "arguments": ""}}
        if self._call is not None and isinstance(function.get("arguments"), str):
            self._call["function"]["arguments"] += function["arguments"]

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        if self._id is None:
            self._id = response_id(chunk.get("id"))
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        parts: list[dict[str, Any]] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            blocks = delta.get("thinking_blocks")
            if blocks:
                for block in blocks:
                    if isinstance(block, dict):
                        self._thinking_part(block, parts)
            elif self.thoughts and isinstance(delta.get("reasoning_content"), str) and delta["reasoning_content"]:
                parts.append({"text": delta["reasoning_content"], "thought": True})
            text = delta.get("content")
            if isinstance(text, str) and text:
                self._flush_call(parts)
                parts.append(self._signed({"text": text}))
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    self._tool_call(call, parts)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return [self._chunk(parts)] if parts else []

    def finish(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        self._flush_call(parts)
        if self._blocks:
            parts.append(self._signed({"text": ""}))
        last = self._chunk(parts or [{"text": ""}])
        last["candidates"][0]["finishReason"] = finish_reason(self._finish)
        last["usageMetadata"] = usage_metadata(self.usage)
        return [last]

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        return [error_body(error)]
