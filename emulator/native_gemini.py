"""Databricks' native Gemini API for Gemini endpoints: ``POST /serving-endpoints/gemini/v1beta/models/{endpoint}:
generateContent`` (and ``:streamGenerateContent``, SSE with ``?alt=sse``, else one JSON array) and, with Unity Gateway,
``/ai-gateway/gemini/v1beta/models/{endpoint}:...``. Answers as Google's API gives them (ai.google.dev/api).

A function call carries a ``thoughtSignature`` of the emulator's own making; a model turn sent back with a signature
it did not make is refused, as Gemini refuses a signature it cannot verify.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import answers
from emulator.answers import ChatPlan
from emulator.state import EmulatorState, json_response
from emulator.streams import EventStream
from emulator.surfaces import Gate

SIGNATURE_PREFIX = "ZW11LWdlbWluaS"  # base64 of "emu-gemini", the emulator's own thought signatures
_METHODS = ("generateContent", "streamGenerateContent")


def _error(message: str, status: int = 400, reason: str = "INVALID_ARGUMENT") -> Response:
    return json_response(status, {"error": {"code": status, "message": message, "status": reason}})


def _text(parts: Any) -> str:
    return " ".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _check(body: dict[str, Any]) -> str | None:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for content in contents:
        for part in (content.get("parts") or ()) if isinstance(content, dict) else ():
            signature = part.get("thoughtSignature") if isinstance(part, dict) else None
            if signature is not None and not str(signature).startswith(SIGNATURE_PREFIX):
                return "Thought signature is not valid."
    return None


def chat_view(body: dict[str, Any]) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    system = body.get("systemInstruction")
    if isinstance(system, dict):
        messages.append({"role": "system", "content": _text(system.get("parts") or ())})
    for content in body["contents"]:
        parts = content.get("parts") or () if isinstance(content, dict) else ()
        role = "assistant" if content.get("role") == "model" else "user"
        text = _text(parts)
        if text:
            messages.append({"role": role, "content": text})
        for part in parts:
            response = part.get("functionResponse") if isinstance(part, dict) else None
            if isinstance(response, dict):
                messages.append({"role": "tool", "content": orjson.dumps(response.get("response")).decode()})
    tools = [
        {
            "type": "function",
            "function": {
                "name": declaration["name"],
                "parameters": declaration.get("parameters") or declaration.get("parametersJsonSchema") or {},
            },
        }
        for tool in body.get("tools") or ()
        if isinstance(tool, dict)
        for declaration in tool.get("functionDeclarations") or ()
        if isinstance(declaration, dict) and isinstance(declaration.get("name"), str)
    ]
    view: dict[str, Any] = {"messages": messages or [{"role": "user", "content": ""}], "tools": tools}
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = str(config.get("mode", "")).upper()
    if mode == "NONE":
        view["tool_choice"] = "none"
    elif mode == "ANY":
        names = config.get("allowedFunctionNames") or []
        view["tool_choice"] = {"type": "function", "function": {"name": names[0]}} if names else "required"
    generation = body.get("generationConfig") or {}
    if isinstance(generation.get("maxOutputTokens"), int):
        view["max_tokens"] = generation["maxOutputTokens"]
    return view


def _chunk(
    parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any] | None, model: str, rid: str
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        out["usageMetadata"] = usage
    return {**out, "modelVersion": model, "responseId": rid}


def _parts(plan: ChatPlan) -> list[dict[str, Any]]:
    if plan.tool_call is not None:
        call = {"name": plan.tool_call.name, "args": orjson.loads(plan.tool_call.arguments)}
        return [{"functionCall": call, "thoughtSignature": SIGNATURE_PREFIX + uuid.uuid4().hex}]
    return [{"text": plan.text}]


class NativeGemini:
    def __init__(self, state: EmulatorState, gate: Gate) -> None:
        self.state = state
        self.gate = gate

    async def serving(self, request: Request) -> Response:
        return await self._generate(request, gateway=False)

    async def gateway(self, request: Request) -> Response:
        return await self._generate(request, gateway=True)

    async def _generate(self, request: Request, gateway: bool) -> Response:
        name, _, method = request.path_params["model_method"].rpartition(":")
        if method not in _METHODS:
            return _error(f"Method '{method}' is not served here.", 404, "NOT_FOUND")
        admitted = await self.gate.admit(request, gateway=gateway, native=("google", "Gemini API"), name=name)
        if isinstance(admitted, Response):
            return admitted
        problem = _check(admitted.body)
        if problem is not None:
            return _error(problem)
        plan = answers.plan_chat(chat_view(admitted.body), "llama")
        model, rid = admitted.endpoint.served_model, uuid.uuid4().hex[:20]
        finish = "MAX_TOKENS" if plan.finish_reason == "length" else "STOP"
        usage = {
            "promptTokenCount": plan.prompt_tokens,
            "candidatesTokenCount": plan.completion_tokens,
            "totalTokenCount": plan.prompt_tokens + plan.completion_tokens,
        }
        if method == "generateContent":
            return json_response(200, _chunk(_parts(plan), finish, usage, model, rid), admitted.headers)
        if plan.tool_call is not None or not plan.words:
            chunks = [_chunk(_parts(plan), finish, usage, model, rid)]
        else:
            words = [w if i == 0 else " " + w for i, w in enumerate(plan.words)]
            chunks = [_chunk([{"text": w}], None, None, model, rid) for w in words[:-1]]
            chunks.append(_chunk([{"text": words[-1]}], finish, usage, model, rid))
        if request.query_params.get("alt") != "sse":
            body = b"[" + b",\r\n".join(orjson.dumps(c) for c in chunks) + b"]"
            return Response(body, 200, admitted.headers, "application/json")
        frames = [b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in chunks]
        raw_headers = [(k.encode(), v.encode()) for k, v in admitted.headers.items()]
        return EventStream(self.state.stats, frames, raw_headers, delay=self.state.options.chunk_delay, send_done=False)
