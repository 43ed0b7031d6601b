"""OpenAI request -> Databricks FMAPI request (pure functions over already-validated dictionaries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.databricks.families import Family, Kind, effort_fields
from services.errors import InvalidRequestError, UnsupportedParameterError
from services.pivot.content import INPUT_PART_TYPES, reasoning_part, redacted_reasoning_part, unsupported_part
from services.pivot.fields import tool_function
from services.pivot.policy import CHAT, COMPLETIONS, EMBEDDINGS, MESSAGE_KEYS, Action, Rule
from services.pivot.tools import allowed_tools_choice

_EMPTY_SCHEMA = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """The body to send and what the proxy must do locally with the answer."""

    body: dict[str, Any]
    stream: bool = False
    include_usage: bool = False
    legacy_functions: bool = False
    encoding_format: str = "float"


def _apply_policy(payload: dict[str, Any], table: dict[str, Rule]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in payload.items():
        rule = table.get(key)
        if rule is None:
            if value is not None:
                body[key] = value  # not an OpenAI field: a Databricks/model extra the caller chose
            continue
        action = rule.action
        if action is Action.FORWARD:
            if value is not None:
                body[key] = value
        elif action is Action.RENAME:
            if value is not None and rule.target is not None and payload.get(rule.target) is None:
                body[rule.target] = value
        elif action is Action.REJECT and value is not None and value not in rule.neutral:
            raise UnsupportedParameterError(
                f"The parameter '{key}' is not supported by Databricks Model Serving"
                + (f" ({rule.note})." if rule.note else "."),
                param=key,
            )
    return body


def _stream_flags(payload: dict[str, Any]) -> tuple[bool, bool]:
    stream = payload.get("stream") is True
    options = payload.get("stream_options") or {}
    include_usage = stream and bool(options.get("include_usage"))
    if stream and (payload.get("n") or 1) > 1:
        raise InvalidRequestError(
            "n must be 1 when stream is true: Databricks does not stream several choices.", param="n"
        )
    return stream, include_usage


def _text_of_parts(parts: list[Any]) -> str | None:
    """Joined text when every part is plain text, else None (the list then goes upstream as it is).

    A part with ``cache_control`` keeps the list: it marks a prompt-cache breakpoint Databricks' Claude honours.
    """
    texts: list[str] = []
    for part in parts:
        if (
            not isinstance(part, dict)
            or part.get("type") != "text"
            or not isinstance(part.get("text"), str)
            or "cache_control" in part
        ):
            return None
        texts.append(part["text"])
    return "\n".join(texts)


def _tool_call(call: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "function": tool_function(call.get("function"))}
    if call.get("id"):
        out["id"] = call["id"]
    return out


def _assistant_content(message: dict[str, Any]) -> Any:
    """Replayed reasoning becomes the ``reasoning`` part Databricks accepts, not an unknown key."""
    content = message.get("content")
    parts: list[dict[str, Any]] = []
    for block in message.get("thinking_blocks") or ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "redacted_thinking":
            if isinstance(block.get("data"), str):
                parts.append(redacted_reasoning_part(block["data"]))
        elif isinstance(block.get("thinking"), str):
            parts.append(reasoning_part(block["thinking"], block.get("signature")))
    if not parts:
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            parts.append(reasoning_part(reasoning))
    if not parts:
        return content
    if isinstance(content, str) and content:
        parts.append({"type": "text", "text": content})
    elif isinstance(content, list):
        parts.extend(p for p in content if isinstance(p, dict))
    return parts


def _check_parts(message: dict[str, Any], position: int) -> None:
    content = message.get("content")
    if not isinstance(content, list):
        return
    # An assistant turn may replay the reasoning part Databricks itself answered with.
    accepted = INPUT_PART_TYPES | {"reasoning"} if message.get("role") == "assistant" else INPUT_PART_TYPES
    for index, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") not in accepted:
            raise unsupported_part(part.get("type"), f"messages[{position}].content[{index}].type", "text or image_url")


def translate_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    legacy_ids: dict[str, str] = {}
    for position, message in enumerate(messages):
        _check_parts(message, position)
        role = message.get("role")
        converted: dict[str, Any] = {}
        if role == "developer":
            role = "system"
        if role == "function":  # legacy function result -> tool result
            name = message.get("name") or ""
            converted["tool_call_id"] = legacy_ids.get(name, f"call_{position}")
            role = "tool"
        converted["role"] = role
        content = _assistant_content(message) if role == "assistant" else message.get("content")
        if isinstance(content, list) and role != "assistant":
            joined = _text_of_parts(content)
            content = joined if joined is not None else content
        converted["content"] = content
        if role == "assistant":
            calls = [_tool_call(c) for c in message.get("tool_calls") or () if isinstance(c, dict)]
            legacy = message.get("function_call")
            if isinstance(legacy, dict) and legacy.get("name"):
                call_id = f"call_{position}"
                legacy_ids[str(legacy["name"])] = call_id
                calls.append(_tool_call({"id": call_id, "function": legacy}))
            if calls:
                converted["tool_calls"] = calls
        if role == "tool" and message.get("tool_call_id"):
            converted["tool_call_id"] = message["tool_call_id"]
        if role == "user" and message.get("name"):
            converted["name"] = message["name"]
        out.append({k: v for k, v in converted.items() if k in MESSAGE_KEYS})
    return out


def _translate_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        function = {k: v for k, v in (tool.get("function") or {}).items() if k != "strict" and v is not None}
        function.setdefault("parameters", _EMPTY_SCHEMA)
        out.append({"type": tool.get("type", "function"), "function": function})
    return out


def _legacy_tool_choice(function_call: Any) -> Any:
    if isinstance(function_call, dict) and function_call.get("name"):
        return {"type": "function", "function": {"name": function_call["name"]}}
    return function_call


def _offered_names(tools: list[Any]) -> list[str]:
    return [str((tool.get("function") or {}).get("name")) for tool in tools if isinstance(tool, dict)]


def _tool_choice(choice: Any, tools: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """The tool choice Databricks gets, and the tools offered with it (``allowed_tools`` narrows them).

    Databricks refuses a bad choice too, but only after a call, and without naming the parameter.
    """
    if not isinstance(choice, dict):
        return choice, tools  # a mode, checked with the request
    kind = choice.get("type")
    if kind == "allowed_tools":
        spec = choice.get("allowed_tools")
        spec = spec if isinstance(spec, dict) else {}
        allowed = {
            entry["function"]["name"]
            for entry in spec.get("tools") or ()
            if isinstance(entry, dict)
            and isinstance(entry.get("function"), dict)
            and isinstance(entry["function"].get("name"), str)
        }
        narrowed, mode = allowed_tools_choice(tools, allowed, spec.get("mode", "auto"))
        return mode, narrowed
    if kind != "function":
        raise InvalidRequestError(
            f"Unsupported tool_choice type '{str(kind)[:100]}': use 'function' or 'allowed_tools'.",
            param="tool_choice.type",
        )
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or name not in _offered_names(tools):
        shown = f"'{name[:256]}'" if isinstance(name, str) else "no function"
        raise InvalidRequestError(
            f"tool_choice names {shown}, which is not among the request's tools.",
            param="tool_choice.function.name",
        )
    return choice, tools


def chat_request(payload: dict[str, Any], family: Family | None = None) -> UpstreamRequest:
    """``family``: the endpoint's, when the request comes from the chat door (its ``reasoning_effort`` is then sent
    as the family takes it); other doors build their pivot for the family already."""
    stream, include_usage = _stream_flags(payload)
    body = _apply_policy(payload, CHAT)
    if family is not None and "reasoning_effort" in body:
        body.update(_reasoning(family, body.pop("reasoning_effort"), body))
    body["messages"] = translate_messages(payload["messages"])
    legacy = bool(payload.get("functions")) and not payload.get("tools")
    if legacy:
        body["tools"] = [{"type": "function", "function": f} for f in payload["functions"]]
    if "function_call" in payload and payload.get("tool_choice") is None and "tool_choice" in body:
        body["tool_choice"] = _legacy_tool_choice(body["tool_choice"])
    if payload.get("tool_choice") is not None:
        body["tool_choice"], offered = _tool_choice(payload["tool_choice"], body.get("tools") or [])
        body["tools"] = offered
    if body.get("tools"):
        body["tools"] = _translate_tools(body["tools"])
    else:
        body.pop("tools", None)
        if body.get("tool_choice") in ("none", "auto"):
            body.pop("tool_choice")
    if stream:
        body["stream"] = True
    return UpstreamRequest(body=body, stream=stream, include_usage=include_usage, legacy_functions=legacy)


def _reasoning(family: Family, effort: Any, body: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``reasoning_effort`` for the family: as it is for GPT and GPT-OSS, Claude's thinking for Claude,
    nothing for families that refuse it (Gemini) unless the caller's own ``thinking`` says otherwise; other
    families (custom models among them) get it as sent."""
    if family.kind in (Kind.CLAUDE, Kind.GEMINI):
        if "thinking" in body or "output_config" in body or not isinstance(effort, str):
            return {}
        return effort_fields(family, effort, body.get("max_tokens"))
    return {"reasoning_effort": effort}


def completion_request(payload: dict[str, Any]) -> UpstreamRequest:
    stream, include_usage = _stream_flags(payload)
    body = _apply_policy(payload, COMPLETIONS)
    if stream:
        body["stream"] = True
    return UpstreamRequest(body=body, stream=stream, include_usage=include_usage)


def embedding_request(payload: dict[str, Any]) -> UpstreamRequest:
    body = _apply_policy(payload, EMBEDDINGS)
    return UpstreamRequest(body=body, encoding_format=payload.get("encoding_format") or "float")


def take_attribution(body: dict[str, Any], request_id: str, caller: str | None) -> bytes:
    """Databricks records these in inference and usage tables, so usage can be traced to a caller.

    Only the proxy's own attribution goes: the client's fields leave ``body``, and the returned members
    (serialised, for ``surfaces.with_fields``) are ``client_request_id``, the request id, and ``usage_context``
    holding only ``end_user``, the caller the proxy identified, or nothing when it identified none. A client cannot
    name someone else, nor write keys of its own into those tables. They go only to invocations: Unity Gateway
    attributes usage to the caller's identity itself.
    """
    body.pop("client_request_id", None)
    body.pop("usage_context", None)
    fields: dict[str, Any] = {"client_request_id": request_id}
    if caller:
        fields["usage_context"] = {"end_user": caller}
    return orjson.dumps(fields)[1:-1]
