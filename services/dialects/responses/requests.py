"""Responses request -> chat pivot request (pure; the payload was validated by ``models.responses``).

Every Responses parameter has one rule (``POLICY``, mirrored in the README). Items of ``input`` become
chat messages: consecutive assistant items (reasoning, output text, function calls) make one assistant
message, because chat and Databricks keep a turn's reasoning, text and tool calls together.
"""

from __future__ import annotations

from typing import Any

import orjson

from models.limits import MAX_CONTENT_PARTS, MAX_TOOLS
from services.databricks.families import Family, effort_fields, schema_format_fields
from services.dialects.responses import reasoning
from services.dialects.responses.common import ChatTranslation, ToolName
from services.errors import InvalidRequestError
from services.pivot.content import unsupported_part
from services.pivot.tools import allowed_tools_choice

STATELESS = (
    "Stored responses are turned off (PROXY_STORE_URL=off), so '{param}' cannot be resolved. Send the whole "
    "conversation in 'input' (earlier output items included) with 'store: false'."
)
# Fields sent on to Databricks as they are: model extras a Responses client can add (the chat door
# passes every unknown field on; here clients send many that Databricks would refuse).
EXTRAS = ("top_k", "stop", "thinking", "output_config")
_EXPLICIT_REASONING = ("thinking", "output_config", "reasoning_effort")
POLICY: dict[str, str] = {
    "model": "names the serving endpoint (or an alias), as for chat",
    "input": "string or items -> chat messages (see the item rules)",
    "instructions": "a system message before the input",
    "tools": "function tools forwarded; custom tools as a function with one string `input`; namespace "
    "groups flattened as `<namespace>__<name>`; hosted tools dropped and named in the log line",
    "tool_choice": "every form mapped; a hosted tool's choice becomes `auto`; a name not offered is refused",
    "parallel_tool_calls": "echoed; not sent (Databricks refuses it)",
    "max_output_tokens": "sent as `max_tokens`",
    "temperature": "forwarded",
    "top_p": "forwarded",
    "text.format": "`json_schema` (flat) sent as chat's nested `response_format` (Claude 4.6+: "
    "`output_config.format`); `json_object` as is; `text` omitted",
    "text.verbosity": "echoed; not sent (no Databricks equivalent)",
    "reasoning.effort": "mapped per model family (Claude thinking, GPT `reasoning_effort`), else not sent",
    "reasoning.summary": "echoed; Databricks returns the summaries its models produce",
    "stream": "SSE events of the Responses API",
    "store": "true by default: the response and its input are kept (see Stored responses); `false` keeps "
    "nothing; with `PROXY_STORE_URL=off` nothing is ever stored (answers say `store: false`)",
    "include": "`reasoning.encrypted_content` is always served (reasoning replays need it); others ignored",
    "metadata": "echoed in the answer; not sent",
    "previous_response_id": "the stored chain is sent whole before the new input (earlier `instructions` "
    "are not); an unknown id is `previous_response_not_found`; refused (400) with `PROXY_STORE_URL=off`",
    "conversation": "the conversation's items are sent before the new input, and the turn is appended to it; "
    "refused (400) with `PROXY_STORE_URL=off`",
    "background": "`true` refused (400): it needs stored responses to poll",
    "prompt": "refused (400): stored prompt templates live at OpenAI",
    "user, safety_identifier, prompt_cache_key, prompt_cache_retention, top_logprobs, max_tool_calls": "echoed in "
    "the answer as sent; not sent (no Databricks meaning; no hosted tools run, so max_tool_calls always holds)",
    "truncation": "answers say `disabled`: the proxy never drops input (a too-long input is Databricks' 400)",
    "service_tier": "answers say `default`: Databricks serves every request at one tier",
    "stream_options, client_metadata and other unknown fields": "dropped",
    "top_k, stop, thinking, output_config": "forwarded (Databricks model extras)",
}
# Settings with no Databricks meaning that the Response object still repeats as the client sent them.
_ECHOED_AS_SENT = (
    "max_tool_calls",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "top_logprobs",
    "user",
)
_HOSTED_CHOICES = frozenset(
    {
        "web_search",
        "web_search_preview",
        "file_search",
        "image_generation",
        "code_interpreter",
        "mcp",
        "computer_use_preview",
        "local_shell",
        "shell",
        "apply_patch",
        "tool_search",
    }
)
_NAMESPACE_SEPARATOR = "__"


class _Tools:
    """The chat tools offered and what each chat function name stands for."""

    def __init__(self) -> None:
        self.chat: list[dict[str, Any]] = []
        self.names: dict[str, ToolName] = {}
        self.by_source: dict[tuple[str, str | None], str] = {}  # (name, namespace) -> chat name
        self.echo: list[dict[str, Any]] = []
        self.dropped: list[str] = []

    def add(self, chat_name: str, target: ToolName, function: dict[str, Any]) -> None:
        if chat_name in self.names:
            return
        self.names[chat_name] = target
        self.by_source[(target.name, target.namespace)] = chat_name
        self.chat.append({"type": "function", "function": {"name": chat_name, **function}})

    def chat_name(self, name: str, namespace: str | None) -> str:
        return self.by_source.get((name, namespace)) or (
            f"{namespace}{_NAMESPACE_SEPARATOR}{name}" if namespace else name
        )


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if tool.get("description"):
        out["description"] = tool["description"]
    out["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return out


def _custom_function(tool: dict[str, Any]) -> dict[str, Any]:
    raw_format = tool.get("format")
    fmt: dict[str, Any] = raw_format if isinstance(raw_format, dict) else {}
    if fmt.get("type") == "grammar":
        note = f"The input must follow this {fmt.get('syntax', '')} grammar:\n{fmt.get('definition', '')}"
    else:
        note = "Free-form text input."
    return {
        "description": "\n\n".join(part for part in (tool.get("description"), note) if part),
        "parameters": {
            "type": "object",
            "properties": {"input": {"type": "string", "description": "The tool's whole input, as text."}},
            "required": ["input"],
        },
    }


def _tools(raw: list[dict[str, Any]] | None) -> _Tools:
    tools = _Tools()
    for tool in raw or ():
        kind = tool.get("type")
        if kind == "function":
            tools.add(tool["name"], ToolName("function", tool["name"]), _function(tool))
        elif kind == "custom":
            tools.add(tool["name"], ToolName("custom", tool["name"]), _custom_function(tool))
        elif kind == "namespace":
            namespace = tool["name"]
            for inner in tool.get("tools") or ():
                if not isinstance(inner, dict) or inner.get("type") != "function" or not inner.get("name"):
                    tools.dropped.append(f"{namespace}.{inner.get('type') if isinstance(inner, dict) else '?'}")
                    continue
                name = str(inner["name"])
                chat_name = f"{namespace}{_NAMESPACE_SEPARATOR}{name}"
                tools.add(chat_name, ToolName("function", name, namespace), _function(inner))
        else:
            tools.dropped.append(str(kind))
            continue
        tools.echo.append(tool)
        if len(tools.chat) > MAX_TOOLS:  # namespaces hold several tools each: the model gets them all
            raise InvalidRequestError(
                f"Invalid 'tools': more than {MAX_TOOLS} tools once namespaces are counted tool by tool.",
                param="tools",
                code="array_above_max_length",
            )
    return tools


def _tool_choice(choice: Any, tools: _Tools) -> Any:
    """The chat tool_choice (None: not sent); an allowed_tools choice also narrows ``tools.chat``."""
    if choice is None or isinstance(choice, str):
        return choice
    kind = choice.get("type")
    if kind in ("function", "custom"):
        name = choice.get("name")
        chat_name = tools.chat_name(str(name), choice.get("namespace")) if isinstance(name, str) else None
        if chat_name not in tools.names:
            raise InvalidRequestError(
                f"tool_choice names the tool '{name}', which is not among the request's tools.", param="tool_choice"
            )
        return {"type": "function", "function": {"name": chat_name}}
    if kind == "allowed_tools":
        allowed = set()
        for entry in choice.get("tools") or ():
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                allowed.add(tools.chat_name(entry["name"], entry.get("namespace")))
        tools.chat, mode = allowed_tools_choice(tools.chat, allowed, choice.get("mode", "auto"))
        return mode
    if kind in _HOSTED_CHOICES:
        return "auto"  # the hosted tool was dropped; the model may still use the others
    raise InvalidRequestError(f"Unsupported tool_choice type '{kind}'.", param="tool_choice.type")


def _text_part(text: Any) -> dict[str, Any] | None:
    return {"type": "text", "text": text} if isinstance(text, str) and text else None


def _parts(content: Any, param: str) -> list[dict[str, Any]]:
    """Chat content parts of a Responses content list; empty texts are left out (Claude refuses them)."""
    if isinstance(content, str):
        part = _text_part(content)
        return [part] if part else []
    out: list[dict[str, Any]] = []
    for position, part in enumerate(content):
        kind = part.get("type")
        if kind in ("input_text", "output_text"):
            converted = _text_part(part.get("text"))
        elif kind == "refusal":
            converted = _text_part(part.get("refusal"))
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str) or not url:
                raise InvalidRequestError(
                    "Images need an 'image_url' (a URL or a data: URL); file ids need OpenAI's Files API.",
                    param=f"{param}[{position}].image_url",
                )
            image: dict[str, Any] = {"url": url}
            if part.get("detail") in ("low", "high", "auto"):
                image["detail"] = part["detail"]
            converted = {"type": "image_url", "image_url": image}
        else:
            raise unsupported_part(kind, f"{param}[{position}].type", "input_text or input_image")
        if converted is not None:
            out.append(converted)
    return out


def _joined_text(parts: list[dict[str, Any]]) -> str:
    return "".join(part["text"] for part in parts if part["type"] == "text")


class _Assistant:
    """One assistant turn being gathered from consecutive output items."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.blocks: list[dict[str, Any]] = []

    def message(self) -> dict[str, Any] | None:
        text = "".join(self.texts)
        if not text and not self.calls:
            return None  # reasoning alone (e.g. after a length finish) is no turn Databricks accepts
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if self.calls:
            message["tool_calls"] = self.calls
        if self.blocks:
            message["thinking_blocks"] = self.blocks
        return message


def _messages(payload: dict[str, Any], tools: _Tools, claude: bool) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    instructions = payload.get("instructions")
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    raw = payload.get("input")
    if isinstance(raw, str):
        if raw:
            messages.append({"role": "user", "content": raw})
        raw = None
    turn: _Assistant | None = None

    def flush() -> None:
        nonlocal turn
        if turn is not None:
            message = turn.message()
            if message is not None:
                messages.append(message)
            turn = None

    for position, item in enumerate(raw or ()):
        param = f"input[{position}]"
        kind = item.get("type")
        if kind is None or kind == "message":
            role = item["role"]
            parts = _parts(item["content"], f"{param}.content")
            if role == "assistant":
                turn = turn or _Assistant()
                turn.texts.append(_joined_text(parts))
                continue
            flush()
            if not parts:
                continue  # an empty message is no turn (Claude refuses empty text)
            chat_role = "user" if role == "user" else "system"
            if chat_role == "system" or all(part["type"] == "text" for part in parts):
                messages.append({"role": chat_role, "content": "\n".join(p["text"] for p in parts if "text" in p)})
            else:
                messages.append({"role": chat_role, "content": parts})
        elif kind in ("function_call", "custom_tool_call"):
            turn = turn or _Assistant()
            if kind == "function_call":
                name = tools.chat_name(item["name"], item.get("namespace"))
                arguments = item["arguments"] or "{}"
            else:
                name = tools.chat_name(item["name"], None)
                arguments = orjson.dumps({"input": item["input"]}).decode()
            turn.calls.append(
                {"id": item["call_id"], "type": "function", "function": {"name": name, "arguments": arguments}}
            )
        elif kind == "reasoning":
            encrypted = item.get("encrypted_content")
            blocks = reasoning.decode(encrypted, f"{param}.encrypted_content") if encrypted else None
            # Only Claude verifies replayed thinking, and it refuses unsigned blocks (another model's, or
            # cut off by max_output_tokens); reasoning from elsewhere cannot be verified at all: left out.
            kept = [b for b in blocks or () if claude and (b["type"] == "redacted_thinking" or b["signature"])]
            if kept:
                turn = turn or _Assistant()
                turn.blocks.extend(kept)
                if len(turn.blocks) > MAX_CONTENT_PARTS:
                    raise reasoning.too_many_blocks(f"{param}.encrypted_content")
        elif kind in ("function_call_output", "custom_tool_call_output"):
            flush()
            output = item["output"]
            if isinstance(output, str):
                content: Any = output or "(no output)"  # Databricks' Claude refuses empty text
            else:  # text parts joined; with an image (e.g. a screenshot tool) the parts stay a list
                parts = _parts(output, f"{param}.output")
                content = _joined_text(parts) if all(p["type"] == "text" for p in parts) else parts
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": content})
        elif kind == "item_reference":
            if not str(item["id"]).startswith("rs_"):
                raise InvalidRequestError(STATELESS.format(param=f"{param} (item_reference)"), param=param)
            # a reasoning item is optional context: the conversation stays valid without it
        else:
            raise InvalidRequestError(
                f"Input items of type '{kind}' are not supported: send messages, function calls and their "
                "outputs, custom tool calls and their outputs, and reasoning items.",
                param=f"{param}.type",
            )
    flush()
    if not any(message["role"] != "system" for message in messages):
        raise InvalidRequestError("'input' has no message to answer.", param="input")
    return messages


def _format_fields(text: Any, family: Family, chat: dict[str, Any]) -> dict[str, Any]:
    """``text.format`` as chat's nested ``response_format``, or, for Claude 4.6 and later (which refuse
    ``response_format``), as ``output_config.format`` beside the effort (as the Anthropic door sends it)."""
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return {}
    if fmt["type"] == "json_object":
        return {"response_format": {"type": "json_object"}}
    schema = {key: fmt[key] for key in ("name", "description", "schema", "strict") if fmt.get(key) is not None}
    schema.setdefault("name", "response")
    if family.adaptive and not isinstance(fmt.get("schema"), dict):
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    return schema_format_fields(family, schema, chat)


def _refuse_stateful(payload: dict[str, Any]) -> None:
    for param in ("previous_response_id", "conversation"):
        if payload.get(param) is not None:
            raise InvalidRequestError(STATELESS.format(param=param), param=param, code="unsupported_parameter")
    if payload.get("background") is True:
        raise InvalidRequestError(
            "background responses need stored responses to poll, which the proxy does not keep; stream instead.",
            param="background",
            code="unsupported_parameter",
        )
    if payload.get("prompt") is not None:
        raise InvalidRequestError(
            "Stored prompt templates are not available; send the prompt's text in 'instructions' and 'input'.",
            param="prompt",
            code="unsupported_parameter",
        )


def _echo(payload: dict[str, Any], tools: _Tools) -> dict[str, Any]:
    raw_text, raw_reasoning = payload.get("text"), payload.get("reasoning")
    text: dict[str, Any] = raw_text if isinstance(raw_text, dict) else {}
    reasoning_config: dict[str, Any] = raw_reasoning if isinstance(raw_reasoning, dict) else {}
    echoed_text: dict[str, Any] = {"format": text.get("format") or {"type": "text"}}
    if text.get("verbosity"):
        echoed_text["verbosity"] = text["verbosity"]
    return {
        "instructions": payload.get("instructions"),
        "max_output_tokens": payload.get("max_output_tokens"),
        "parallel_tool_calls": payload.get("parallel_tool_calls") is not False,
        "reasoning": {"effort": reasoning_config.get("effort"), "summary": reasoning_config.get("summary")},
        "temperature": payload.get("temperature"),
        "text": echoed_text,
        "tool_choice": payload.get("tool_choice") or "auto",
        "tools": tools.echo,
        "top_p": payload.get("top_p"),
        "metadata": payload.get("metadata") or {},
        **{key: payload.get(key) for key in _ECHOED_AS_SENT},
    }


def to_chat(payload: dict[str, Any], family: Family) -> ChatTranslation:
    """The chat pivot request for ``payload`` going to an endpoint of ``family`` (its reasoning and
    structured-output controls)."""
    _refuse_stateful(payload)
    tools = _tools(payload.get("tools"))
    choice = _tool_choice(payload.get("tool_choice"), tools)
    claude = family.claude
    chat: dict[str, Any] = {"model": payload["model"], "messages": _messages(payload, tools, claude)}
    for key in ("temperature", "top_p"):
        if payload.get(key) is not None:
            chat[key] = payload[key]
    if payload.get("max_output_tokens") is not None:
        chat["max_tokens"] = payload["max_output_tokens"]
    extras = {key: payload[key] for key in EXTRAS if payload.get(key) is not None}
    chat.update(extras)
    effort = (payload.get("reasoning") or {}).get("effort")
    if not any(key in extras for key in _EXPLICIT_REASONING):  # a caller's own extra wins over the mapping
        chat.update(effort_fields(family, effort, chat.get("max_tokens")))
    if tools.chat:
        chat["tools"] = tools.chat
        if choice is not None:
            chat["tool_choice"] = choice
    chat.update(_format_fields(payload.get("text"), family, chat))
    stream = payload.get("stream") is True
    if stream:
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return ChatTranslation(
        chat=chat,
        echo=_echo(payload, tools),
        names=tools.names,
        dropped_tools=tuple(tools.dropped),
        stream=stream,
    )
