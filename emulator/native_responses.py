"""Databricks' native OpenAI Responses API for GPT endpoints: ``POST /serving-endpoints/responses`` and, with Unity
Gateway, ``POST /ai-gateway/codex/v1/responses``. Stateless (``previous_response_id`` is refused), answers and events
as OpenAI's API gives them.

What is said comes from the chat planner (``answers.plan_chat``); GPT-5 reasons, so every answer starts with a
``reasoning`` item, whose ``encrypted_content`` (when ``include`` asks) only this emulator can read back.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import answers
from emulator.answers import ChatPlan
from emulator.state import EmulatorState, json_response
from emulator.streams import EventStream
from emulator.surfaces import Admitted, Gate

ENCRYPTED_PREFIX = "gAAAAB.emulator."  # the emulator's own encrypted reasoning
_LOGPROBS = "message.output_text.logprobs"
_ENCRYPTED = "reasoning.encrypted_content"


def _id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _error(message: str, param: str | None = None, code: str | None = None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return json_response(400, body)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else ()
    return " ".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _check(body: dict[str, Any]) -> Response | None:
    if body.get("previous_response_id") is not None:
        return _error("previous_response_id is not supported: this API keeps no responses.", "previous_response_id")
    items = body.get("input")
    for i, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict) and item.get("type") == "reasoning":
            encrypted = item.get("encrypted_content")
            if not isinstance(encrypted, str) or not encrypted.startswith(ENCRYPTED_PREFIX):
                return _error(
                    f"The encrypted content for item {item.get('id', i)} could not be verified.",
                    f"input[{i}].encrypted_content",
                    "invalid_encrypted_content",
                )
    return None


def chat_view(body: dict[str, Any]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            messages.append({"role": "system" if role == "developer" else role, "content": _text(item.get("content"))})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            messages.append({"role": "tool", "content": _text(item.get("output")) or "(no output)"})
    tools = [
        {"type": "function", "function": {"name": t["name"], "parameters": t.get("parameters") or {"type": "object"}}}
        for t in body.get("tools") or ()
        if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("name"), str)
    ]
    view: dict[str, Any] = {"messages": messages or [{"role": "user", "content": ""}], "tools": tools}
    choice = body.get("tool_choice")
    if choice in ("none", "required"):
        view["tool_choice"] = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        view["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    if isinstance(body.get("max_output_tokens"), int):
        view["max_tokens"] = body["max_output_tokens"]
    return view


def _logprobs(words: list[str], top: int) -> list[dict[str, Any]]:
    out = []
    for i, word in enumerate(words):
        entry = {"token": word, "logprob": -0.01 - 0.1 * (i % 5), "bytes": list(word.encode())}
        alternatives = [entry, {"token": word.upper(), "logprob": -3.5, "bytes": list(word.upper().encode())}]
        out.append({**entry, "top_logprobs": alternatives[: max(top, 0)]})
    return out


class _Output:
    def __init__(self, body: dict[str, Any], plan: ChatPlan) -> None:
        listed = body.get("include")
        include: list[Any] = listed if isinstance(listed, list) else []
        reasoning_text = answers.REASONING_PREFIX + " ".join(plan.words[1:] or ("the request",))
        summary_wanted = isinstance(body.get("reasoning"), dict) and body["reasoning"].get("summary")
        self.reasoning: dict[str, Any] = {
            "type": "reasoning",
            "id": _id("rs_"),
            "summary": [{"type": "summary_text", "text": reasoning_text}] if summary_wanted else [],
        }
        if _ENCRYPTED in include:
            encoded = base64.urlsafe_b64encode(reasoning_text.encode()).decode()
            self.reasoning["encrypted_content"] = ENCRYPTED_PREFIX + encoded
        self.words = [w if i == 0 else " " + w for i, w in enumerate(plan.words)] if plan.has_text else []
        asked = body.get("top_logprobs")
        top = asked if isinstance(asked, int) else 0
        self.logprobs = _logprobs(self.words, top) if _LOGPROBS in include else []
        self.message: dict[str, Any] | None = None
        if self.words and plan.tool_call is None:
            part = {"type": "output_text", "text": "".join(self.words), "annotations": [], "logprobs": self.logprobs}
            self.message = {"type": "message", "id": _id("msg_"), "status": "completed", "role": "assistant"}
            self.message["content"] = [part]
        self.call: dict[str, Any] | None = None
        if plan.tool_call is not None:
            self.call = {
                "type": "function_call",
                "id": _id("fc_"),
                "call_id": _id("call_"),
                "name": plan.tool_call.name,
                "arguments": plan.tool_call.arguments,
                "status": "completed",
            }

    def items(self) -> list[dict[str, Any]]:
        return [item for item in (self.reasoning, self.message, self.call) if item is not None]


def _response(
    body: dict[str, Any], model: str, plan: ChatPlan, output: list[dict[str, Any]], status: str
) -> dict[str, Any]:
    length = plan.finish_reason == "length"
    return {
        "id": body["_id"],
        "object": "response",
        "created_at": body["_created"],
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if length and status != "in_progress" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {
            "effort": "medium",
            "summary": None,
            **(body["reasoning"] if isinstance(body.get("reasoning"), dict) else {}),
        },
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": None
        if status == "in_progress"
        else {
            "input_tokens": plan.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": plan.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        },
        "metadata": body.get("metadata") or {},
        "user": body.get("user"),
    }


class _Events:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def add(self, event: dict[str, Any]) -> None:
        event["sequence_number"] = len(self.frames)
        self.frames.append(b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n")


def _stream_frames(response: dict[str, Any], started: dict[str, Any], out: _Output) -> list[bytes]:
    events = _Events()
    events.add({"type": "response.created", "response": started})
    events.add({"type": "response.in_progress", "response": started})
    for index, item in enumerate(response["output"]):
        base = {"output_index": index}
        if item["type"] == "message":
            empty = {**item, "status": "in_progress", "content": []}
            events.add({"type": "response.output_item.added", **base, "item": empty})
            ids = {**base, "item_id": item["id"], "content_index": 0}
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.add({"type": "response.content_part.added", **ids, "part": part})
            for i, word in enumerate(out.words):
                logprobs = out.logprobs[i : i + 1]
                events.add({"type": "response.output_text.delta", **ids, "delta": word, "logprobs": logprobs})
            final = item["content"][0]
            events.add(
                {"type": "response.output_text.done", **ids, "text": final["text"], "logprobs": final["logprobs"]}
            )
            events.add({"type": "response.content_part.done", **ids, "part": final})
        elif item["type"] == "function_call":
            events.add(
                {
                    "type": "response.output_item.added",
                    **base,
                    "item": {**item, "arguments": "", "status": "in_progress"},
                }
            )
            ids = {**base, "item_id": item["id"]}
            events.add({"type": "response.function_call_arguments.delta", **ids, "delta": item["arguments"]})
            events.add({"type": "response.function_call_arguments.done", **ids, "arguments": item["arguments"]})
        else:
            events.add({"type": "response.output_item.added", **base, "item": {**item, "summary": []}})
        events.add({"type": "response.output_item.done", **base, "item": item})
    closing = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    events.add({"type": closing, "response": response})
    return events.frames


class NativeResponses:
    def __init__(self, state: EmulatorState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    async def serving(self, request: Request) -> Response:
        return await self._responses(request, gateway=False)

    async def gateway(self, request: Request) -> Response:
        return await self._responses(request, gateway=True)

    async def _responses(self, request: Request, gateway: bool) -> Response:
        admitted = await self.gate.admit(request, gateway=gateway, native=("openai", "Responses API"))
        if isinstance(admitted, Response):
            return admitted
        problem = _check(admitted.body)
        if problem is not None:
            return problem
        return self._answer(admitted)

    def _answer(self, admitted: Admitted) -> Response:
        body = {**admitted.body, "_id": _id("resp_"), "_created": int(time.time())}
        plan = answers.plan_chat(chat_view(body), "llama")
        plan_reasoning = len((answers.REASONING_PREFIX + " ".join(plan.words[1:])).split())
        out = _Output(body, plan)
        status = "incomplete" if plan.finish_reason == "length" else "completed"
        model = admitted.endpoint.served_model
        response = _response(body, model, plan, out.items(), status)
        response["usage"]["output_tokens_details"]["reasoning_tokens"] = plan_reasoning
        if body.get("stream") is not True:
            return json_response(200, response, admitted.headers)
        started = _response(body, model, plan, [], "in_progress")
        frames = _stream_frames(response, started, out)
        raw_headers = [(k.encode(), v.encode()) for k, v in admitted.headers.items()]
        return EventStream(self.state.stats, frames, raw_headers, delay=self.state.options.chunk_delay, send_done=False)
