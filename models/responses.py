"""OpenAI Responses API wire models.

The request model is liberal (clients send fields this API version does not list, e.g. Codex's
``client_metadata``; the dialect decides what happens to each) and checks only what the translation
relies on, so bad input is a 400 naming the parameter. The answer and event models document
``/docs`` and let tests validate what the proxy emits; the hot path builds dictionaries directly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from models.limits import (
    MAX_CONTENT_PARTS,
    MAX_INCLUDE,
    MAX_MESSAGES,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_CHARS,
    MAX_TOOLS,
)
from models.openai import ModelName


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------------------------------------- request


class InputText(_Open):
    type: Literal["input_text"]
    text: str


class InputImage(_Open):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class OutputText(_Open):
    type: Literal["output_text"]
    text: str
    annotations: list[Any] | None = None


class Refusal(_Open):
    type: Literal["refusal"]
    refusal: str


class OtherPart(_Open):
    """Any other part type; the dialect refuses those it cannot carry, naming the parameter."""

    type: str = Field(min_length=1)


def _tag(known: frozenset[str], default: str | None = None) -> Any:
    """A discriminator: known ``type`` values pick their model (so its errors are reported), others pick "other"."""

    def pick(value: Any) -> str:
        kind = value.get("type", default) if isinstance(value, dict) else getattr(value, "type", default)
        if kind is None:
            kind = default
        # an unhashable or non-string ``type`` goes to "other", whose model refuses it naming the field
        return f"type[{kind}]" if isinstance(kind, str) and kind in known else "type[other]"

    return Discriminator(pick)


def _json_type(value: Any) -> str:
    """``str | list[...]`` is validated along the branch the value's JSON type picks (errors name the field)."""
    return "str" if isinstance(value, str) else "list[items]"


ContentPartParam = Annotated[
    Annotated[InputText, Tag("type[input_text]")]
    | Annotated[InputImage, Tag("type[input_image]")]
    | Annotated[OutputText, Tag("type[output_text]")]
    | Annotated[Refusal, Tag("type[refusal]")]
    | Annotated[OtherPart, Tag("type[other]")],
    _tag(frozenset({"input_text", "input_image", "output_text", "refusal"})),
]
TextOrParts = Annotated[
    Annotated[str, Tag("str")]
    | Annotated[Annotated[list[ContentPartParam], Field(max_length=MAX_CONTENT_PARTS)], Tag("list[items]")],
    Discriminator(_json_type),
]


class MessageItem(_Open):
    type: Literal["message"] | None = None
    role: Literal["user", "assistant", "system", "developer"]
    content: TextOrParts
    id: str | None = None
    status: str | None = None
    phase: str | None = None


class FunctionCallItem(_Open):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str
    namespace: str | None = None
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(_Open):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: TextOrParts
    id: str | None = None
    status: str | None = None


class CustomToolCallItem(_Open):
    type: Literal["custom_tool_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: str
    id: str | None = None


class CustomToolCallOutputItem(_Open):
    type: Literal["custom_tool_call_output"]
    call_id: str = Field(min_length=1)
    output: TextOrParts
    id: str | None = None


class SummaryText(_Open):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningItem(_Open):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list, max_length=MAX_CONTENT_PARTS)
    encrypted_content: str | None = None
    status: str | None = None


class ItemReference(_Open):
    type: Literal["item_reference"]
    id: str


class OtherItem(_Open):
    """Any other item type; the dialect refuses it with a 400 naming ``input[i].type``."""

    type: str = Field(min_length=1)


_ITEM_TYPES = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "reasoning",
        "item_reference",
    }
)
InputItem = Annotated[
    Annotated[MessageItem, Tag("type[message]")]
    | Annotated[FunctionCallItem, Tag("type[function_call]")]
    | Annotated[FunctionCallOutputItem, Tag("type[function_call_output]")]
    | Annotated[CustomToolCallItem, Tag("type[custom_tool_call]")]
    | Annotated[CustomToolCallOutputItem, Tag("type[custom_tool_call_output]")]
    | Annotated[ReasoningItem, Tag("type[reasoning]")]
    | Annotated[ItemReference, Tag("type[item_reference]")]
    | Annotated[OtherItem, Tag("type[other]")],
    _tag(_ITEM_TYPES, default="message"),  # an "easy" message has no type
]
TextOrItems = Annotated[
    Annotated[str, Tag("str")]
    | Annotated[Annotated[list[InputItem], Field(max_length=MAX_MESSAGES)], Tag("list[items]")],
    Discriminator(_json_type),
]


class FunctionTool(_Open):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class CustomTool(_Open):
    type: Literal["custom"]
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    format: dict[str, Any] | None = None


class HostedTool(_Open):
    """web_search, file_search, mcp, image_generation, ...: accepted, never run, noted in the log line."""

    type: str = Field(min_length=1)


NamespacedTool = Annotated[
    Annotated[FunctionTool, Tag("type[function]")] | Annotated[HostedTool, Tag("type[other]")],
    _tag(frozenset({"function"})),
]


class NamespaceTool(_Open):
    type: Literal["namespace"]
    name: str = Field(min_length=1, max_length=256)
    description: str | None = None
    tools: list[NamespacedTool] = Field(default_factory=list, max_length=MAX_TOOLS)


ToolParam = Annotated[
    Annotated[FunctionTool, Tag("type[function]")]
    | Annotated[CustomTool, Tag("type[custom]")]
    | Annotated[NamespaceTool, Tag("type[namespace]")]
    | Annotated[HostedTool, Tag("type[other]")],
    _tag(frozenset({"function", "custom", "namespace"})),
]


class AllowedTool(_Open):
    type: str | None = None
    name: str | None = None
    namespace: str | None = None


class ToolChoiceObject(_Open):
    """A tool choice naming a tool or a mode; the dialect maps each known ``type`` and refuses the others."""

    type: str = Field(min_length=1)
    name: str | None = None
    namespace: str | None = None
    mode: str | None = None
    tools: Annotated[list[AllowedTool], Field(max_length=MAX_TOOLS)] | None = None


ToolChoice = Annotated[
    Annotated[str, Tag("str")] | Annotated[ToolChoiceObject, Tag("dict")],
    Discriminator(lambda value: "str" if isinstance(value, str) else "dict"),
]


class TextFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextConfig(_Open):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(_Open):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    summary: str | None = None
    generate_summary: str | None = None


Metadata = Annotated[
    dict[
        Annotated[str, Field(max_length=MAX_METADATA_KEY_CHARS)],
        Annotated[str, Field(max_length=MAX_METADATA_VALUE_CHARS)],
    ],
    Field(max_length=MAX_METADATA_KEYS),
]


class ResponseCreateRequest(_Open):
    model: ModelName
    input: TextOrItems | None = None
    instructions: str | None = None
    tools: Annotated[list[ToolParam], Field(max_length=MAX_TOOLS)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    stream: bool | None = None
    store: bool | None = None
    include: Annotated[list[str], Field(max_length=MAX_INCLUDE)] | None = None
    metadata: Metadata | None = None
    previous_response_id: str | None = None
    conversation: str | dict[str, Any] | None = None
    background: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    safety_identifier: str | None = None
    user: str | None = None
    service_tier: str | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    max_tool_calls: int | None = Field(default=None, ge=0)


# ---------------------------------------------------------------------------------------------- answer


class OutputTextPart(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any]
    logprobs: list[Any] | None = None


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    role: Literal["assistant"] = "assistant"
    status: Literal["in_progress", "completed", "incomplete"]
    content: list[OutputTextPart]


class OutputFunctionCall(BaseModel):
    type: Literal["function_call"] = "function_call"
    id: str
    call_id: str
    name: str
    arguments: str
    status: Literal["in_progress", "completed", "incomplete"]
    namespace: str | None = None


class OutputCustomToolCall(BaseModel):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    id: str
    call_id: str
    name: str
    input: str
    status: Literal["in_progress", "completed", "incomplete"]


class OutputReasoning(BaseModel):
    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: list[SummaryText]
    encrypted_content: str | None = Field(
        default=None, description="The reasoning blocks with their signatures; send the item back to replay them"
    )
    status: Literal["in_progress", "completed", "incomplete"]


OutputItem = Annotated[
    OutputMessage | OutputFunctionCall | OutputCustomToolCall | OutputReasoning, Field(discriminator="type")
]


class InputTokensDetails(BaseModel):
    cached_tokens: int
    cache_write_tokens: int


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int


class ResponseUsage(BaseModel):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class ResponseError(BaseModel):
    code: str
    message: str


class IncompleteDetails(BaseModel):
    reason: Literal["max_output_tokens", "content_filter"]


class Response(_Open):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["completed", "failed", "in_progress", "incomplete"]
    error: ResponseError | None
    incomplete_details: IncompleteDetails | None
    model: str
    output: list[OutputItem]
    usage: ResponseUsage | None
    instructions: str | None
    metadata: dict[str, str]
    parallel_tool_calls: bool
    tool_choice: str | dict[str, Any]
    tools: list[dict[str, Any]]
    temperature: float | None
    top_p: float | None
    max_output_tokens: int | None
    previous_response_id: str | None
    conversation: dict[str, str] | None = None
    reasoning: dict[str, Any] | None
    text: dict[str, Any]
    truncation: Literal["auto", "disabled"]
    store: bool
    background: bool
    max_tool_calls: int | None
    prompt_cache_key: str | None
    prompt_cache_retention: str | None
    safety_identifier: str | None
    service_tier: str
    top_logprobs: int | None
    user: str | None


class ResponseEvent(_Open):
    """One SSE event of a streamed response; its ``type`` is also the SSE ``event:`` name."""

    type: Literal[
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.completed",
        "response.incomplete",
        "response.failed",
    ]
    sequence_number: int
    response: Response | None = None
    output_index: int | None = None
    item_id: str | None = None
    content_index: int | None = None
    summary_index: int | None = None
    item: OutputItem | None = None
    delta: str | None = None
