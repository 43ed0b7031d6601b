"""Request validation mimicking the Databricks serving front door (a Go JSON decoder with
``DisallowUnknownFields`` followed by semantic checks), with its exact error texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.catalog import CHAT, COMPLETIONS, EMBEDDINGS, Endpoint

_COMMON = frozenset({"client_request_id", "usage_context", "extra_params", "model"})
CHAT_FIELDS = _COMMON | {
    "messages",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "n",
    "stream",
    "tools",
    "tool_choice",
    "response_format",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "thinking",
    "output_config",  # Claude 4.6 and later: adaptive thinking's effort and structured output
}
COMPLETIONS_FIELDS = _COMMON | {
    "prompt",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "n",
    "stream",
    "suffix",
    "echo",
    "error_behavior",
    "use_raw_prompt",
    "logprobs",
}
# ``encoding_format`` is accepted and ignored (floats are always returned), as on the real endpoints.
EMBEDDINGS_FIELDS = _COMMON | {"input", "instruction", "user", "encoding_format"}
CUSTOM_FIELDS = frozenset(
    {"dataframe_split", "dataframe_records", "instances", "inputs", "params", "client_request_id"}
)
MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name"})
ROLES = frozenset({"system", "user", "assistant", "tool"})

_FIELDS = {CHAT: CHAT_FIELDS, COMPLETIONS: COMPLETIONS_FIELDS, EMBEDDINGS: EMBEDDINGS_FIELDS}
_GO_STRUCT = {CHAT: "ChatRequest", COMPLETIONS: "CompletionsRequest", EMBEDDINGS: "EmbeddingsRequest"}


@dataclass(frozen=True, slots=True)
class ApiError:
    status: int
    error_code: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message}


MALFORMED_JSON = ApiError(400, "BAD_REQUEST", "Bad request: Malformed JSON\n")
N_STREAM = ApiError(400, "BAD_REQUEST", 'Bad request: parameter "n" must be equal to 1 for streaming mode\n')
INVALID_ROLE = ApiError(400, "BAD_REQUEST", "BAD_REQUEST: Invalid role in the chat message.\n")


def unknown_field(name: str) -> ApiError:
    return ApiError(400, "BAD_REQUEST", f'Bad request: json: unknown field "{name}"\n')


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", f"INVALID_PARAMETER_VALUE: {message}")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_error(value: Any, struct: str, field: str, go_type: str) -> ApiError:
    return ApiError(
        400,
        "BAD_REQUEST",
        f"Bad request: json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{field} "
        f"of type {go_type}\n",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_unknown(body: dict[str, Any], allowed: frozenset[str]) -> ApiError | None:
    """First unknown field in document order, nested message keys included (like a strict Go decoder)."""
    for key, value in body.items():
        if key not in allowed:
            return unknown_field(key)
        if key == "messages" and isinstance(value, list):
            for message in value:
                if isinstance(message, dict):
                    for message_key in message:
                        if message_key not in MESSAGE_KEYS:
                            return unknown_field(message_key)
    return None


def _check_sampling(body: dict[str, Any], struct: str) -> ApiError | None:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return _type_error(stream, struct, "stream", "bool")
    n = body.get("n")
    if n is not None:
        if not _is_int(n):
            return _type_error(n, struct, "n", "int")
        if n < 1:
            return _invalid('"n" must be greater than or equal to 1.')
    if stream and n is not None and n > 1:
        return N_STREAM
    max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        if not _is_int(max_tokens):
            return _type_error(max_tokens, struct, "max_tokens", "int")
        if max_tokens < 1:
            return _invalid('"max_tokens" must be greater than or equal to 1.')
    temperature = body.get("temperature")
    if temperature is not None:
        if not _is_number(temperature):
            return _type_error(temperature, struct, "temperature", "float64")
        if not 0.0 <= temperature <= 2.0:
            return _invalid(f'"temperature" must be between 0.0 and 2.0, got {temperature}.')
    return None


def _check_chat(body: dict[str, Any]) -> ApiError | None:
    struct = _GO_STRUCT[CHAT]
    messages = body.get("messages")
    if messages is None:
        return _invalid("Missing required chat parameter: 'messages'")
    if not isinstance(messages, list):
        return _type_error(messages, struct, "messages", "[]ChatMessage")
    if not messages:
        return _invalid("'messages' must contain at least one message.")
    for message in messages:
        if not isinstance(message, dict):
            return _type_error(message, struct, "messages", "ChatMessage")
        if message.get("role") not in ROLES:
            return INVALID_ROLE
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            return _type_error(content, "ChatMessage", "content", "string")
    error = _check_sampling(body, struct)
    if error is not None:
        return error
    tools = body.get("tools")
    names: list[str] = []
    if tools is not None:
        if not isinstance(tools, list):
            return _type_error(tools, struct, "tools", "[]Tool")
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            name = function.get("name") if isinstance(function, dict) else None
            if not isinstance(name, str) or not name:
                return _invalid("Each tool must have a 'function' with a non-empty 'name'.")
            names.append(name)
    tool_choice = body.get("tool_choice")
    if tool_choice is not None:
        if isinstance(tool_choice, str):
            if tool_choice not in ("none", "auto", "required"):
                return _invalid(f"Invalid tool_choice '{tool_choice}'.")
        elif isinstance(tool_choice, dict):
            function = tool_choice.get("function")
            name = function.get("name") if isinstance(function, dict) else None
            if not isinstance(name, str) or (names and name not in names):
                return _invalid("tool_choice must name one of the provided tools.")
        else:
            return _type_error(tool_choice, struct, "tool_choice", "ToolChoice")
    return None


def _check_completions(body: dict[str, Any]) -> ApiError | None:
    prompt = body.get("prompt")
    if prompt is None:
        return _invalid("Missing required completions parameter: 'prompt'")
    if isinstance(prompt, list):
        if not prompt or not all(isinstance(p, str) for p in prompt):
            return _invalid("'prompt' must be a string or a non-empty list of strings.")
    elif not isinstance(prompt, str):
        return _invalid("'prompt' must be a string or a non-empty list of strings.")
    return _check_sampling(body, _GO_STRUCT[COMPLETIONS])


def _check_embeddings(body: dict[str, Any]) -> ApiError | None:
    value = body.get("input")
    if value is None:
        return _invalid("Missing required embeddings parameter: 'input'")
    if isinstance(value, list):
        if not value:
            return _invalid("'input' must not be empty.")
        if not all(isinstance(item, str) for item in value):
            return _invalid("'input' must be a string or a list of strings.")
    elif not isinstance(value, str):
        return _invalid("'input' must be a string or a list of strings.")
    return None


def validate(endpoint: Endpoint, body: dict[str, Any]) -> ApiError | None:
    """Validate a decoded invocation body for ``endpoint``; None when it is acceptable."""
    if endpoint.task is None:
        return _check_unknown(body, CUSTOM_FIELDS)
    error = _check_unknown(body, _FIELDS[endpoint.task])
    if error is not None:
        return error
    if endpoint.task == CHAT:
        return _check_chat(body)
    if endpoint.task == COMPLETIONS:
        return _check_completions(body)
    return _check_embeddings(body)
