"""OpenAI wire models.

Requests are validated with these models and accept fields they do not know (the translation
layer decides what happens to each); responses are documented with them (``/docs``), while the
hot path builds the answer dictionaries directly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic_core import PydanticCustomError

from models.limits import MAX_CONTENT_PARTS, MAX_MESSAGES, MAX_STOP, MAX_TOOLS

# Databricks endpoint names: letters, digits, '-' and '_' (aliases may add '.', ':' and '/'), bounded length.
ModelName = Annotated[str, Field(min_length=1, max_length=256, description="Serving endpoint name or alias")]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionCall(_Open):
    name: str
    arguments: str | dict[str, Any] = ""


class ToolCall(_Open):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ContentPart(_Open):
    type: str


class ThinkingBlock(BaseModel):
    """Replayed reasoning (the chat pivot's convention): Databricks gets it back verbatim, signature included."""

    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(BaseModel):
    type: Literal["redacted_thinking"]
    data: str


# Tags named like models: the error's location names no tag, only fields (``thinking_blocks[0].data``).
_THINKING_TAGS = {"thinking": "ThinkingBlock", "redacted_thinking": "RedactedThinkingBlock"}


def _thinking_kind(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _THINKING_TAGS.get(kind) if isinstance(kind, str) else None


ThinkingBlockParam = Annotated[
    Annotated[ThinkingBlock, Tag("ThinkingBlock")] | Annotated[RedactedThinkingBlock, Tag("RedactedThinkingBlock")],
    Discriminator(
        _thinking_kind,
        custom_error_type="invalid_thinking_block",
        custom_error_message="a thinking block is {'type': 'thinking', 'thinking': str, 'signature': str} "
        "or {'type': 'redacted_thinking', 'data': str}",
    ),
]


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None
    thinking_blocks: list[ThinkingBlockParam] | None = Field(default=None, max_length=MAX_CONTENT_PARTS)


class FunctionDefinition(_Open):
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Open):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class StreamOptions(_Open):
    include_usage: bool | None = None


class ResponseFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]


Stop = str | Annotated[list[str], Field(max_length=MAX_STOP)]


class _SamplingFields(_Open):
    model: ModelName
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    stop: Stop | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None


class ChatCompletionRequest(_SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    tools: list[Tool] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionDefinition] | None = Field(default=None, max_length=MAX_TOOLS)
    function_call: str | dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    reasoning_effort: str | None = None

    @field_validator("tool_choice", mode="before")
    @classmethod
    def _tool_choice_mode(cls, value: Any) -> Any:
        if value is None or isinstance(value, dict) or value in ("none", "auto", "required"):
            return value
        raise PydanticCustomError(
            "invalid_tool_choice", "tool_choice must be 'none', 'auto', 'required' or an object naming a function"
        )


class CompletionRequest(_SamplingFields):
    prompt: str | list[str] = Field(description="A string or a list of strings")
    suffix: str | None = None
    echo: bool | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    best_of: int | None = Field(default=None, ge=1)
    error_behavior: Literal["error", "truncate"] | None = None
    use_raw_prompt: bool | None = None


class EmbeddingRequest(_Open):
    model: ModelName
    input: str | Annotated[list[str], Field(min_length=1, max_length=2048)]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None
    instruction: str | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise PydanticCustomError("empty_input", "the list must not be empty: send a string or 1 to 2048 strings")
        return value


# ---------------------------------------------------------------- responses (for /docs)


class Usage(_Open):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(_Open):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_content: str | None = None


class ChatChoice(_Open):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
    logprobs: dict[str, Any] | None


class ChatCompletion(_Open):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage | None = None


class ChunkDelta(_Open):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChunkChoice(_Open):
    index: int
    delta: ChunkDelta
    finish_reason: str | None
    logprobs: dict[str, Any] | None = None


class ChatCompletionChunk(_Open):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class CompletionChoice(_Open):
    index: int
    text: str
    logprobs: dict[str, Any] | None
    finish_reason: Literal["stop", "length", "content_filter"]


class Completion(_Open):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class Embedding(_Open):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(_Open):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(_Open):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class Model(_Open):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    task: str | None = Field(
        default=None, description="Databricks serving task: llm/v1/chat, llm/v1/completions or llm/v1/embeddings."
    )


class ModelList(_Open):
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail
