"""Chat pivot chunks -> Responses stream events, one translator per stream (pure, no I/O).

What clients rely on (each broke some other bridge): ``response.created`` then ``response.in_progress``
first; every item announced by ``output_item.added`` before any of its deltas and closed by its
``.done`` events and ``output_item.done`` (Codex builds the turn from those); dense ``output_index``
in emission order (the SDKs index ``output[output_index]``); the same ids in every event and in
``response.completed``, which carries the full output and usage; ``sequence_number`` on every event.
"""

from __future__ import annotations

from typing import Any

from services.dialects.responses.common import (
    ChatTranslation,
    Ids,
    failure_of,
    response_object,
    status_of,
    usage_of,
)
from services.dialects.responses.items import message_item, reasoning_item, target_of, text_part, tool_item
from services.errors import ProxyError
from services.pivot.content import redacted_thinking, thinking

_MESSAGE, _REASONING, _TOOL = 0, 1, 2


class _Item:
    __slots__ = ("blocks", "call_id", "chat_name", "held", "id", "index", "kind", "open_block", "parts", "summaries")

    def __init__(self, kind: int, item_id: str, index: int) -> None:
        self.kind = kind
        self.id = item_id
        self.index = index
        self.parts: list[str] = []  # text, or arguments
        self.blocks: list[dict[str, Any]] = []  # reasoning: thinking blocks so far
        self.open_block: dict[str, Any] | None = None  # reasoning: the block still receiving text
        self.summaries = 0  # reasoning: summary parts finished (the open one's summary_index)
        self.call_id = ""
        self.chat_name = ""
        self.held = False  # tool: a first "{}" held back (Databricks may send it before the real arguments)


class ResponsesStream:
    def __init__(self, call: ChatTranslation, ids: Ids | None = None) -> None:
        self.call = call
        self.ids = ids or Ids()
        self.seq = 0
        self.started = False
        self.created_at = 0
        self.model = str(call.chat["model"])
        self.items: list[_Item] = []
        self.done: list[dict[str, Any]] = []  # finished output items, by output_index
        self.open: list[_Item] = []
        self.tools: dict[int, _Item] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    # ------------------------------------------------------------------------------------ events

    def _event(self, out: list[dict[str, Any]], payload: dict[str, Any]) -> None:
        payload["sequence_number"] = self.seq
        self.seq += 1
        out.append(payload)

    def _response(self, status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        usage = usage_of(self.usage) if status != "in_progress" else None
        return response_object(
            self.call, self.ids.response, self.created_at, self.model, status, output, usage, **extra
        )

    def _start(self, chunk: dict[str, Any], out: list[dict[str, Any]]) -> None:
        self.started = True
        created = chunk.get("created")
        self.created_at = created if isinstance(created, int) else 0
        model = chunk.get("model")
        if isinstance(model, str) and model:
            self.model = model
        self._event(out, {"type": "response.created", "response": self._response("in_progress", [])})
        self._event(out, {"type": "response.in_progress", "response": self._response("in_progress", [])})

    # ------------------------------------------------------------------------------------ items

    def _open(self, kind: int, prefix: str) -> _Item:
        item = _Item(kind, self.ids.item(prefix), len(self.items))
        self.items.append(item)
        self.done.append({})
        self.open.append(item)
        return item

    def _close_open(self, out: list[dict[str, Any]], keep_tools: bool = False) -> None:
        """Close the open items; ``keep_tools`` keeps open tool calls (several may still receive arguments)."""
        if keep_tools and self.open and self.open[-1].kind == _TOOL:
            return  # only tool calls are open: a message or reasoning item is closed before a call opens
        for item in self.open:
            self._close(item, out)
        self.open = []

    def _close(self, item: _Item, out: list[dict[str, Any]], status: str = "completed") -> None:
        base = {"item_id": item.id, "output_index": item.index}
        if item.kind == _MESSAGE:
            text = "".join(item.parts)
            self._event(
                out, {"type": "response.output_text.done", **base, "content_index": 0, "text": text, "logprobs": []}
            )
            self._event(
                out, {"type": "response.content_part.done", **base, "content_index": 0, "part": text_part(text)}
            )
            final = message_item(item.id, text, status)
        elif item.kind == _REASONING:
            self._end_summary(item, out)
            final = reasoning_item(item.id, item.blocks, status)
        else:
            final = self._close_tool(item, base, out, status)
        self.done[item.index] = final
        self._event(out, {"type": "response.output_item.done", "output_index": item.index, "item": final})

    # ------------------------------------------------------------------------------------ text

    def _text(self, text: str, out: list[dict[str, Any]]) -> None:
        item = self.open[-1] if self.open else None
        if item is None or item.kind != _MESSAGE:
            self._close_open(out)
            item = self._open(_MESSAGE, "msg")
            self._event(
                out,
                {
                    "type": "response.output_item.added",
                    "output_index": item.index,
                    "item": message_item(item.id, None, "in_progress"),
                },
            )
            self._event(
                out,
                {
                    "type": "response.content_part.added",
                    "item_id": item.id,
                    "output_index": item.index,
                    "content_index": 0,
                    "part": text_part(""),
                },
            )
        item.parts.append(text)
        payload = {
            "type": "response.output_text.delta",
            "sequence_number": self.seq,
            "item_id": item.id,
            "output_index": item.index,
            "content_index": 0,
            "delta": text,
            "logprobs": [],
        }
        self.seq += 1
        out.append(payload)

    # ------------------------------------------------------------------------------------ reasoning

    def _reasoning_item(self, out: list[dict[str, Any]]) -> _Item:
        item = self.open[-1] if self.open else None
        if item is not None and item.kind == _REASONING:
            return item
        self._close_open(out)
        item = self._open(_REASONING, "rs")
        self._event(
            out,
            {
                "type": "response.output_item.added",
                "output_index": item.index,
                "item": reasoning_item(item.id, None, "in_progress"),
            },
        )
        return item

    def _end_summary(self, item: _Item, out: list[dict[str, Any]]) -> None:
        block = item.open_block
        if block is None:
            return
        item.open_block = None
        text = "".join(item.parts)
        item.parts = []
        block["thinking"] = text
        index = item.summaries
        item.blocks.append(block)
        if not text:
            return
        item.summaries += 1
        base = {"item_id": item.id, "output_index": item.index, "summary_index": index}
        self._event(out, {"type": "response.reasoning_summary_text.done", **base, "text": text})
        part = {"type": "summary_text", "text": text}
        self._event(out, {"type": "response.reasoning_summary_part.done", **base, "part": part})

    def _thinking(self, text: str, signature: str, out: list[dict[str, Any]]) -> None:
        item = self._reasoning_item(out)
        if text:
            if item.open_block is None:
                item.open_block = thinking("")
                base = {"item_id": item.id, "output_index": item.index, "summary_index": item.summaries}
                self._event(
                    out,
                    {
                        "type": "response.reasoning_summary_part.added",
                        **base,
                        "part": {"type": "summary_text", "text": ""},
                    },
                )
            item.parts.append(text)
            self._event(
                out,
                {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": item.id,
                    "output_index": item.index,
                    "summary_index": item.summaries,
                    "delta": text,
                },
            )
        if signature:  # a signature ends its thinking block (as Anthropic's signature_delta does)
            if item.open_block is None:
                item.open_block = thinking("")
            item.open_block["signature"] = signature
            self._end_summary(item, out)

    def _reasoning(self, delta: dict[str, Any], out: list[dict[str, Any]]) -> None:
        blocks = delta.get("thinking_blocks")
        if isinstance(blocks, list) and blocks:
            for block in blocks:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "redacted_thinking":
                    item = self._reasoning_item(out)
                    self._end_summary(item, out)
                    item.blocks.append(redacted_thinking(str(block.get("data") or "")))
                else:
                    thinking, signature = block.get("thinking"), block.get("signature")
                    self._thinking(
                        thinking if isinstance(thinking, str) else "",
                        signature if isinstance(signature, str) else "",
                        out,
                    )
            return
        text = delta.get("reasoning_content")
        if isinstance(text, str) and text:
            self._thinking(text, "", out)

    # ------------------------------------------------------------------------------------ tool calls

    def _tool_calls(self, calls: list[Any], out: list[dict[str, Any]]) -> None:
        for call in calls:
            if not isinstance(call, dict):
                continue
            index = call.get("index", 0)
            function = call.get("function") or {}
            item = self.tools.get(index)
            if item is None:
                self._close_open(out, keep_tools=True)
                chat_name = str(function.get("name") or "")
                target = target_of(self.call.names, chat_name)
                item = self._open(_TOOL, "ctc" if target.kind == "custom" else "fc")
                item.call_id = str(call.get("id") or self.ids.item("call"))
                item.chat_name = chat_name
                self.tools[index] = item
                added = tool_item(item.id, item.call_id, target, "", "in_progress")
                self._event(out, {"type": "response.output_item.added", "output_index": item.index, "item": added})
            arguments = function.get("arguments")
            if isinstance(arguments, str) and arguments:
                self._arguments(item, arguments, out)

    def _arguments(self, item: _Item, arguments: str, out: list[dict[str, Any]]) -> None:
        if not item.parts and not item.held and arguments == "{}":
            # Sent only if nothing else follows: "{}" + "{...}" would be invalid JSON. The pivot (ChatStream) holds
            # Databricks' leading "{}" too, but releases it as soon as the next call starts or the stream ends; held
            # here as well, a call whose whole input is "{}" is written when its item closes, in item order, rather
            # than between another item's events.
            item.held = True
            return
        item.held = False
        self._emit_arguments(item, arguments, out)

    def _emit_arguments(self, item: _Item, arguments: str, out: list[dict[str, Any]]) -> None:
        item.parts.append(arguments)
        if target_of(self.call.names, item.chat_name).kind == "custom":
            return  # a custom tool's input is known only once its JSON arguments are complete
        self._event(
            out,
            {
                "type": "response.function_call_arguments.delta",
                "item_id": item.id,
                "output_index": item.index,
                "delta": arguments,
            },
        )

    def _close_tool(self, item: _Item, base: dict[str, Any], out: list[dict[str, Any]], status: str) -> dict[str, Any]:
        if not item.parts:  # no arguments at all (or only a held "{}"): an empty JSON object
            self._emit_arguments(item, "{}", out)
        arguments = "".join(item.parts)
        target = target_of(self.call.names, item.chat_name)
        final = tool_item(item.id, item.call_id, target, arguments, status)
        if target.kind == "custom":
            value = final["input"]
            self._event(out, {"type": "response.custom_tool_call_input.delta", **base, "delta": value})
            self._event(out, {"type": "response.custom_tool_call_input.done", **base, "input": value})
        else:
            self._event(
                out,
                {"type": "response.function_call_arguments.done", **base, "arguments": arguments, "name": target.name},
            )
        return final

    # ------------------------------------------------------------------------------------ the door's interface

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self.started:
            self._start(chunk, out)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if "thinking_blocks" in delta or "reasoning_content" in delta:
                self._reasoning(delta, out)
            text = delta.get("content")
            if text:
                self._text(text, out)
            calls = delta.get("tool_calls")
            if calls:
                self._tool_calls(calls, out)
            reason = choice.get("finish_reason")
            if reason:
                self.finish_reason = reason
        return out

    def _snapshot(self, item: _Item) -> dict[str, Any]:
        """An announced item still open when the stream failed: what it had so far, ``incomplete``."""
        if item.kind == _MESSAGE:
            return message_item(item.id, "".join(item.parts), "incomplete")
        if item.kind == _REASONING:
            blocks = list(item.blocks)
            if item.open_block is not None:
                blocks.append({**item.open_block, "thinking": "".join(item.parts)})
            return reasoning_item(item.id, blocks or None, "incomplete")
        target = target_of(self.call.names, item.chat_name)
        return tool_item(item.id, item.call_id, target, "".join(item.parts), "incomplete")

    def finish(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self.started:
            self._start({}, out)
        status, reason = status_of(self.finish_reason)
        if status == "incomplete" and self.open:
            # the last item is the one the model was writing when it was stopped (as in the JSON answer)
            cut = self.open[-1]
            self.open.remove(cut)
            self._close_open(out)
            self._close(cut, out, "incomplete")
        else:
            self._close_open(out)
        response = self._response(status, self.done, incomplete_reason=reason)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        self._event(out, {"type": kind, "response": response})
        return out

    def fail(self, error: ProxyError) -> list[dict[str, Any]]:
        """``response.failed`` after the first byte: every announced item (those still open ``incomplete``,
        with what they had so far), the error with a code Codex knows."""
        out: list[dict[str, Any]] = []
        if not self.started:
            self._start({}, out)
        output = [self.done[item.index] or self._snapshot(item) for item in self.items]
        response = self._response("failed", output, error=failure_of(error))
        self._event(out, {"type": "response.failed", "response": response})
        return out
