"""Gemini ``GenerateContentRequest`` -> chat pivot request (pure, over an already validated dictionary).

Reference: https://ai.google.dev/api/generate-content#request-body. Choices that are not obvious:

- ``systemInstruction`` becomes the leading system message; ``model`` turns are assistant messages.
- ``functionCall`` parts become the assistant's tool calls; a call without an ``id`` (the Python SDK's
  manual round trip sends none) gets one from its position, and a ``functionResponse`` is matched to
  its call by ``id``, else by name to the oldest unanswered call of that name.
- ``thoughtSignature`` on any part of a model turn carries that turn's thinking blocks
  (``signatures.py``); they are replayed to Claude, which verifies them; thought text parts are not resent.
- ``inlineData`` and http(s) ``fileData`` images become image parts; other files are dropped and named
  in the log line.
- Schemas in Gemini's OpenAPI subset (``"type": "OBJECT"``, ``nullable``) become JSON Schema.
- ``safetySettings`` are accepted and not sent: Databricks' own guardrails apply. ``cachedContent`` is
  refused (400): there is no store of cached contents here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic.alias_generators import to_camel

from services.databricks.families import (
    ANSWER_ROOM,
    MIN_BUDGET,
    Family,
    Kind,
    effort_fields,
    effort_of_budget,
    schema_format_fields,
)
from services.dialects.gemini import signatures
from services.errors import InvalidRequestError, UnsupportedParameterError

_LEVELS = {"minimal": "minimal", "low": "low", "medium": "medium", "high": "high"}
_DYNAMIC_BUDGET = -1
_SCHEMA_DROP = ("propertyOrdering", "property_ordering", "nullable")


@dataclass(frozen=True, slots=True)
class ChatTranslation:
    body: dict[str, Any]
    thoughts: bool  # thought parts go back to the client (``includeThoughts``)
    dropped: tuple[str, ...] = ()


def json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI subset -> JSON Schema: lower-case types, ``nullable`` as a null type."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for name, value in schema.items():
        key = to_camel(name) if "_" in name else name  # the SDKs' Schema may say ``any_of``, ``max_items``
        if name in _SCHEMA_DROP:
            continue
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "not", "additionalProperties"):
            out[key] = json_schema(value)
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content.get("parts") if isinstance(content, dict) else None
    return "\n".join(p["text"] for p in parts or () if isinstance(p.get("text"), str) and not p.get("thought"))


def _tool_output(response: Any) -> str:
    if isinstance(response, dict) and set(response) in ({"output"}, {"result"}):
        value = next(iter(response.values()))
        if isinstance(value, str):
            return value or "(no output)"
    return orjson.dumps(response if response is not None else {}).decode()


class _Builder:
    def __init__(self, family: Family) -> None:
        self.claude = family.kind is Kind.CLAUDE
        self.messages: list[dict[str, Any]] = []
        self.dropped: list[str] = []
        self.unanswered: list[tuple[str, str]] = []  # (name, id) of calls not yet answered, oldest first
        self.calls = 0

    def drop(self, what: str) -> None:
        if what not in self.dropped:
            self.dropped.append(what)

    def _media(self, part: dict[str, Any]) -> dict[str, Any] | None:
        blob = part.get("inlineData")
        if blob is not None:
            if str(blob["mimeType"]).startswith("image/"):
                return {"type": "image_url", "image_url": {"url": f"data:{blob['mimeType']};base64,{blob['data']}"}}
            self.drop(f"inlineData {blob['mimeType']}")
            return None
        file = part["fileData"]
        uri, mime = str(file["fileUri"]), str(file.get("mimeType") or "")
        if uri.startswith(("https://", "http://")) and (mime.startswith("image/") or not mime):
            return {"type": "image_url", "image_url": {"url": uri}}
        self.drop(f"fileData {mime or uri.partition(':')[0]}")
        return None

    def add_user(self, parts: list[dict[str, Any]], position: int) -> None:
        chat_parts: list[dict[str, Any]] = []
        for part in parts:
            if part.get("functionResponse") is not None:
                self.messages.append(self._tool_message(part["functionResponse"]))
            elif isinstance(part.get("text"), str) and not part.get("thought"):
                if part["text"]:
                    chat_parts.append({"type": "text", "text": part["text"]})
            elif part.get("inlineData") is not None or part.get("fileData") is not None:
                media = self._media(part)
                if media is not None:
                    chat_parts.append(media)
        if chat_parts:
            if all(p["type"] == "text" for p in chat_parts):
                self.messages.append({"role": "user", "content": "\n".join(p["text"] for p in chat_parts)})
            else:
                self.messages.append({"role": "user", "content": chat_parts})
        elif not any(p.get("functionResponse") is not None for p in parts):
            field = f"contents[{position}].parts"
            raise InvalidRequestError(
                f"{field}: the content has no part to send; send a non-empty text, an image or a functionResponse.",
                param=field,
            )

    def _tool_message(self, response: dict[str, Any]) -> dict[str, Any]:
        call_id = response.get("id")
        name = response["name"]
        if call_id:
            self.unanswered = [c for c in self.unanswered if c[1] != call_id]
        else:
            match = next((c for c in self.unanswered if c[0] == name), None)
            if match is not None:
                self.unanswered.remove(match)
                call_id = match[1]
            else:
                call_id = f"call_{name}_{self.calls}"
        return {"role": "tool", "tool_call_id": call_id, "content": _tool_output(response.get("response"))}

    def add_model(self, parts: list[dict[str, Any]]) -> None:
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        thinking: list[dict[str, Any]] = []
        for part in parts:
            signature = part.get("thoughtSignature")
            if isinstance(signature, str) and signature and self.claude:
                thinking += [b for b in signatures.decode(signature) if b not in thinking]
            call = part.get("functionCall")
            if call is not None:
                self.calls += 1
                call_id = call.get("id") or f"call_{self.calls}"
                self.unanswered.append((call["name"], call_id))
                arguments = orjson.dumps(call.get("args") or {}).decode()
                calls.append(
                    {"id": call_id, "type": "function", "function": {"name": call["name"], "arguments": arguments}}
                )
            elif isinstance(part.get("text"), str) and not part.get("thought") and part["text"]:
                texts.append(part["text"])
        if not texts and not calls:
            return
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
        if calls:
            message["tool_calls"] = calls
        if thinking:
            message["thinking_blocks"] = thinking
        self.messages.append(message)

    def tools(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for tool in tools:
            for name in tool:
                if name != "functionDeclarations":
                    self.drop(f"tool {name}")
            for declaration in tool.get("functionDeclarations") or ():
                schema = declaration.get("parametersJsonSchema")
                if schema is None:
                    schema = json_schema(declaration.get("parameters") or {"type": "object", "properties": {}})
                function: dict[str, Any] = {"name": declaration["name"], "parameters": schema}
                if declaration.get("description"):
                    function["description"] = declaration["description"]
                out.append({"type": "function", "function": function})
        return out


def _tool_choice(config: dict[str, Any], tools: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """Chat's ``tool_choice`` (and the tools left) for ``functionCallingConfig``."""
    mode = config.get("mode") or "AUTO"
    allowed = config.get("allowedFunctionNames") or []
    if mode == "NONE":
        return "none", tools
    if allowed:
        names = {t["function"]["name"] for t in tools}
        unknown = [n for n in allowed if n not in names]
        if unknown:
            raise InvalidRequestError(
                f"toolConfig.functionCallingConfig.allowedFunctionNames: '{str(unknown[0])[:256]}' names none of "
                "the functionDeclarations.",
                param="toolConfig.functionCallingConfig.allowedFunctionNames",
            )
        tools = [t for t in tools if t["function"]["name"] in allowed]
    if mode == "ANY":
        if len(tools) == 1:
            return {"type": "function", "function": {"name": tools[0]["function"]["name"]}}, tools
        return "required", tools
    return "auto", tools


def _reasoning(config: dict[str, Any], max_tokens: int | None, family: Family) -> dict[str, Any]:
    """``thinkingConfig`` as the family's reasoning control (``services/databricks/families.py``): a budget for
    Claude before 4.6, an effort for the rest (``thinkingLevel``, or the level a budget stands for); ``-1``
    (dynamic) is the default effort; ``0`` asks for none. Gemini endpoints think on their own."""
    thinking = config.get("thinkingConfig") or {}
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if isinstance(level, str):
        return effort_fields(family, _LEVELS.get(level.lower(), "high"), max_tokens)
    if not isinstance(budget, int) or budget == 0:
        return {}
    if budget == _DYNAMIC_BUDGET:
        return effort_fields(family, "high", max_tokens)
    if family.kind is Kind.CLAUDE and not family.adaptive:
        budget = max(budget, MIN_BUDGET)
        if max_tokens is not None and budget >= max_tokens:
            raise InvalidRequestError(
                "generationConfig.thinkingConfig.thinkingBudget: Claude needs maxOutputTokens above the thinking "
                f"budget ({budget}); raise maxOutputTokens or lower the budget.",
                param="generationConfig.thinkingConfig.thinkingBudget",
            )
        out: dict[str, Any] = {"thinking": {"type": "enabled", "budget_tokens": budget}}
        if max_tokens is None:
            out["max_tokens"] = budget + ANSWER_ROOM
        return out
    return effort_fields(family, effort_of_budget(budget), max_tokens)


def _generation(config: dict[str, Any], family: Family, body: dict[str, Any], builder: _Builder) -> None:
    if config.get("temperature") is not None:
        body["temperature"] = config["temperature"]
    if config.get("topP") is not None:
        body["top_p"] = config["topP"]
    if config.get("topK") is not None:
        if family.kind is Kind.CLAUDE:
            body["top_k"] = config["topK"]
        else:
            builder.drop("topK")
    if config.get("maxOutputTokens") is not None:
        body["max_tokens"] = config["maxOutputTokens"]
    if config.get("stopSequences"):
        body["stop"] = config["stopSequences"]
    count = config.get("candidateCount")
    if isinstance(count, int) and count > 1:
        body["n"] = count
    if config.get("seed") is not None:
        body["seed"] = config["seed"]
    for dropped in ("presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "mediaResolution"):
        if config.get(dropped) is not None:
            builder.drop(dropped)
    mime = config.get("responseMimeType")
    schema = config.get("responseJsonSchema")
    if schema is None and config.get("responseSchema") is not None:
        schema = json_schema(config["responseSchema"])
    if mime == "application/json" or schema is not None:
        if isinstance(schema, dict):
            body.update(schema_format_fields(family, {"name": "output", "schema": schema}, body))
        else:
            body["response_format"] = {"type": "json_object"}
    elif mime not in (None, "text/plain"):
        raise UnsupportedParameterError(
            f"generationConfig.responseMimeType: '{str(mime)[:100]}' is not supported here; use 'text/plain' or "
            "'application/json'.",
            param="generationConfig.responseMimeType",
        )
    fields = _reasoning(config, body.get("max_tokens"), family)
    if "output_config" in fields and "output_config" in body:  # Claude 4.6+: effort beside a schema format
        fields["output_config"] = {**body["output_config"], **fields["output_config"]}
    body.update(fields)
    thinking = config.get("thinkingConfig") or {}
    asked = thinking.get("thinkingBudget") not in (None, 0) or thinking.get("thinkingLevel") is not None
    # Nothing to send: the model reasons on its own, or not.
    if asked and not fields and family.kind in (Kind.LLAMA, Kind.OTHER):
        builder.drop("thinkingConfig")


def to_chat(payload: dict[str, Any], family: Family, *, model: str, stream: bool) -> ChatTranslation:
    """The chat pivot request for a validated ``GenerateContentRequest`` (for ``model``, the name asked for)
    going to an endpoint of ``family``."""
    if payload.get("cachedContent"):
        raise UnsupportedParameterError(
            "cachedContent: cached contents are not supported here; send the contents in the request "
            "(Claude endpoints get automatic prompt caching).",
            param="cachedContent",
        )
    builder = _Builder(family)
    for position, content in enumerate(payload["contents"]):
        parts = content.get("parts") or []
        if content.get("role") == "model":
            builder.add_model(parts)
        else:
            builder.add_user(parts, position)
    if not builder.messages:
        raise InvalidRequestError("contents: no content to send; send at least one user turn.", param="contents")
    messages = builder.messages
    system = _text_of(payload.get("systemInstruction") or "")
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    body: dict[str, Any] = {"model": model, "messages": messages}
    config = payload.get("generationConfig") or {}
    _generation(config, family, body, builder)
    tools = builder.tools(payload.get("tools") or [])
    if tools:
        calling = (payload.get("toolConfig") or {}).get("functionCallingConfig") or {}
        choice, tools = _tool_choice(calling, tools)
        body["tools"] = tools
        if calling.get("mode") not in (None, "MODE_UNSPECIFIED", "AUTO", "VALIDATED") or choice != "auto":
            body["tool_choice"] = choice
    if payload.get("safetySettings"):
        builder.drop("safetySettings (Databricks' guardrails apply)")
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    include = bool((config.get("thinkingConfig") or {}).get("includeThoughts"))
    return ChatTranslation(body=body, thoughts=include, dropped=tuple(builder.dropped))
