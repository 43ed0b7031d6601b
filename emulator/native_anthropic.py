"""Databricks' native Anthropic Messages API for Claude endpoints: ``POST /serving-endpoints/anthropic/v1/messages``
and, with Unity Gateway, ``POST /ai-gateway/anthropic/v1/messages``. Answers and events as Anthropic's API gives them.

The deterministic planner of the chat answers decides what is said (``answers.plan_chat`` on a chat view of the
request); this renders it as a Message: ``thinking`` (when asked, signed), ``text`` (cut before a matched stop
sequence: ``stop_reason: "stop_sequence"``), ``tool_use``; usage with Claude's cache counts.
"""

from __future__ import annotations

import dataclasses
import random
import string
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import answers
from emulator.answers import ChatPlan
from emulator.prompt_cache import CacheUse
from emulator.state import EmulatorState, json_response
from emulator.streams import EventStream
from emulator.surfaces import Admitted, Gate

UNSUPPORTED_BETA = "unsupported-"  # beta flags starting so are refused, as a provider refuses a flag it lacks
SIGNATURE_PREFIX = "ErcB"  # the emulator's own signatures (its chat answers sign Claude's thinking the same way)
_ALNUM = string.ascii_letters + string.digits
_STOPS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _random(k: int) -> str:
    return "".join(random.choices(_ALNUM, k=k))


def _error(message: str) -> Response:
    return json_response(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "document":
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "text" and isinstance(source.get("data"), str):
                texts.append(source["data"])
    return " ".join(texts)


def chat_view(body: dict[str, Any]) -> dict[str, Any]:
    """The request as the chat planner reads it: text (documents included), tool results, function tools."""
    messages: list[dict[str, Any]] = []
    if body.get("system"):
        messages.append({"role": "system", "content": _text_of(body["system"])})
    for message in body["messages"]:
        content = message.get("content")
        text = _text_of(content)
        if text:
            messages.append({"role": message.get("role"), "content": text})
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_result":
                messages.append({"role": "tool", "content": _text_of(block.get("content")) or "(no output)"})
    tools = [
        {
            "type": "function",
            "function": {
                "name": tool["name"],
                "description": tool.get("description", ""),
                "parameters": tool.get("input_schema") or {"type": "object"},
            },
        }
        for tool in body.get("tools") or ()
        if isinstance(tool, dict) and isinstance(tool.get("name"), str) and "input_schema" in tool
    ]
    given = body.get("tool_choice")
    choice: dict[str, Any] = given if isinstance(given, dict) else {}
    tool_choice: Any = {"any": "required", "none": "none"}.get(str(choice.get("type")))
    if choice.get("type") == "tool":
        tool_choice = {"type": "function", "function": {"name": choice.get("name")}}
    view: dict[str, Any] = {"messages": messages or [{"role": "user", "content": ""}], "tools": tools}
    if tool_choice is not None:
        view["tool_choice"] = tool_choice
    if isinstance(body.get("max_tokens"), int):
        view["max_tokens"] = body["max_tokens"]
    return view


def _cache_view(body: dict[str, Any]) -> dict[str, Any]:
    system = body.get("system")
    head = [{"role": "system", "content": system}] if system else []
    return {"tools": body.get("tools") or [], "messages": [*head, *body["messages"]]}


def _has_cache_control(body: dict[str, Any]) -> bool:
    return b'"cache_control"' in orjson.dumps(_cache_view(body))


def _foreign_signature(body: dict[str, Any]) -> str | None:
    for i, message in enumerate(body["messages"]):
        content = message.get("content") if isinstance(message, dict) else None
        for j, block in enumerate(content if isinstance(content, list) else ()):
            if isinstance(block, dict) and block.get("type") == "thinking":
                signature = block.get("signature")
                if not isinstance(signature, str) or not signature.startswith(SIGNATURE_PREFIX):
                    return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
    return None


def _validate(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    return _foreign_signature(body)


def _refused_betas(header: str) -> str | None:
    refused = [flag.strip() for flag in header.split(",") if flag.strip().startswith(UNSUPPORTED_BETA)]
    if not refused:
        return None
    return f"Unexpected value(s) {', '.join(f'`{flag}`' for flag in refused)} for the `anthropic-beta` header."


def _cut(text: str, stops: Any) -> tuple[str, str | None]:
    """The text before the earliest stop sequence, and that sequence (None when none occurs)."""
    found: tuple[int, str] | None = None
    for stop in stops if isinstance(stops, list) else ():
        at = text.find(stop) if isinstance(stop, str) and stop else -1
        if at >= 0 and (found is None or at < found[0]):
            found = (at, stop)
    return (text, None) if found is None else (text[: found[0]], found[1])


@dataclasses.dataclass(slots=True)
class _Answer:
    blocks: list[dict[str, Any]]
    stop_reason: str
    stop_sequence: str | None
    usage: dict[str, Any]
    output_tokens: int


def _answer(state: EmulatorState, admitted: Admitted) -> _Answer:
    body = admitted.body
    thinking = isinstance(body.get("thinking"), dict) and body["thinking"].get("type") in ("enabled", "adaptive")
    plan: ChatPlan = answers.plan_chat(chat_view(body), "claude")
    if not thinking:
        plan = dataclasses.replace(plan, reasoning=None)
    blocks: list[dict[str, Any]] = []
    if plan.reasoning is not None:
        blocks.append({"type": "thinking", "thinking": plan.reasoning, "signature": SIGNATURE_PREFIX + _random(40)})
    text, stop_sequence = _cut(plan.text, body.get("stop_sequences")) if plan.has_text else ("", None)
    if text:
        blocks.append({"type": "text", "text": text})
    if plan.tool_call is not None:
        call = plan.tool_call
        tool_id = "toolu_bdrk_01" + _random(22)
        blocks.append({"type": "tool_use", "id": tool_id, "name": call.name, "input": orjson.loads(call.arguments)})
    stop_reason = "stop_sequence" if stop_sequence is not None else _STOPS.get(plan.finish_reason, "end_turn")
    cache = state.prompt_cache.use(admitted.endpoint.name, _cache_view(body)) if _has_cache_control(body) else None
    cache = cache or CacheUse(0, 0)
    prompt = plan.prompt_tokens
    usage = {
        "input_tokens": max(prompt - cache.read - cache.written, 1),
        "cache_creation_input_tokens": cache.written,
        "cache_read_input_tokens": cache.read,
        "output_tokens": plan.completion_tokens,
    }
    return _Answer(blocks, stop_reason, stop_sequence, usage, plan.completion_tokens)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _deltas(block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block["type"]
    if kind == "thinking":
        words = block["thinking"].split(" ")
        pieces = [{"type": "thinking_delta", "thinking": w if i == 0 else " " + w} for i, w in enumerate(words)]
        return [*pieces, {"type": "signature_delta", "signature": block["signature"]}]
    if kind == "text":
        words = block["text"].split(" ")
        return [{"type": "text_delta", "text": w if i == 0 else " " + w} for i, w in enumerate(words)]
    return [{"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()}]


def _empty(block: dict[str, Any]) -> dict[str, Any]:
    kind = block["type"]
    if kind == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    if kind == "text":
        return {"type": "text", "text": ""}
    return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}


class NativeMessages:
    def __init__(self, state: EmulatorState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    async def serving(self, request: Request) -> Response:
        return await self._messages(request, gateway=False)

    async def gateway(self, request: Request) -> Response:
        return await self._messages(request, gateway=True)

    async def _messages(self, request: Request, gateway: bool) -> Response:
        admitted = await self.gate.admit(request, gateway=gateway, native=("anthropic", "Anthropic Messages API"))
        if isinstance(admitted, Response):
            return admitted
        problem = _validate(admitted.body) or _refused_betas(request.headers.get("anthropic-beta", ""))
        if problem is not None:
            return _error(problem)
        answer = _answer(self.state, admitted)
        message_id = "msg_bdrk_01" + _random(22)
        model = admitted.endpoint.served_model
        if admitted.body.get("stream") is not True:
            message = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": answer.blocks,
                "stop_reason": answer.stop_reason,
                "stop_sequence": answer.stop_sequence,
                "usage": answer.usage,
            }
            return json_response(200, message, admitted.headers)
        start: dict[str, Any] = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**answer.usage, "output_tokens": 1},
        }
        frames = [_event("message_start", {"type": "message_start", "message": start})]
        for index, block in enumerate(answer.blocks):
            opened = {"type": "content_block_start", "index": index, "content_block": _empty(block)}
            frames.append(_event("content_block_start", opened))
            for delta in _deltas(block):
                frames.append(
                    _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
            frames.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        closing = {"stop_reason": answer.stop_reason, "stop_sequence": answer.stop_sequence}
        frames.append(
            _event(
                "message_delta",
                {"type": "message_delta", "delta": closing, "usage": {"output_tokens": answer.output_tokens}},
            )
        )
        frames.append(_event("message_stop", {"type": "message_stop"}))
        raw_headers = [(k.encode(), v.encode()) for k, v in admitted.headers.items()]
        return EventStream(self.state.stats, frames, raw_headers, delay=self.state.options.chunk_delay, send_done=False)
