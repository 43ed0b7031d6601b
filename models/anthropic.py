"""Anthropic Messages wire models.

Requests are validated with these models and tolerate fields and block types they do not know (the
dialect decides what happens to each, and Anthropic adds new ones often); answers, stream events,
``count_tokens`` and the model list are documented with them (``/docs``), while the hot path builds
the answer dictionaries directly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag

from models.limits import MAX_CONTENT_PARTS, MAX_MESSAGES, MAX_STOP, MAX_TOOLS

ModelName = Annotated[str, Field(min_length=1, max_length=256, description="Anthropic model id, endpoint or alias")]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------------------------- request blocks


class CacheControlParam(_Open):
    type: str = "ephemeral"


class TextBlockParam(_Open):
    type: Literal["text"]
    text: str
    cache_control: CacheControlParam | None = None


class Base64ImageSource(_Open):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlImageSource(_Open):
    type: Literal["url"]
    url: str


class OtherImageSource(_Open):
    type: str


ImageSourceParam = Annotated[
    Annotated[Base64ImageSource, Tag("<base64>")]
    | Annotated[UrlImageSource, Tag("<url>")]
    | Annotated[OtherImageSource, Tag("<other>")],
    Discriminator(lambda v: _tag(v, ("base64", "url"))),
]


class ImageBlockParam(_Open):
    type: Literal["image"]
    source: ImageSourceParam
    cache_control: CacheControlParam | None = None


class DocumentSourceParam(_Open):
    """``base64`` or ``url`` (PDF), ``text``, ``content``, ``file``: the dialect decides what it can send."""

    type: str


class DocumentBlockParam(_Open):
    type: Literal["document"]
    source: DocumentSourceParam
    cache_control: CacheControlParam | None = None


class ToolUseBlockParam(_Open):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any]
    cache_control: CacheControlParam | None = None


class ToolResultBlockParam(_Open):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str | Annotated[list[ContentBlockParam], Field(max_length=MAX_CONTENT_PARTS)] | None = None
    is_error: bool | None = None
    cache_control: CacheControlParam | None = None


class ThinkingBlockParam(_Open):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlockParam(_Open):
    type: Literal["redacted_thinking"]
    data: str


class OtherBlockParam(_Open):
    """Block types this door does not translate (documents, server tool blocks, ...): the dialect decides."""

    type: str


_BLOCK_TAGS = ("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking")


def _tag(value: Any, known: tuple[str, ...]) -> str:
    """The union branch of a block by its ``type``. Tags are written ``<type>``, which no field name is, so
    that validation errors can leave them out of the JSON path they name (``errors.json_path``)."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return f"<{kind}>" if kind in known else "<other>"


ContentBlockParam = Annotated[
    Annotated[TextBlockParam, Tag("<text>")]
    | Annotated[ImageBlockParam, Tag("<image>")]
    | Annotated[DocumentBlockParam, Tag("<document>")]
    | Annotated[ToolUseBlockParam, Tag("<tool_use>")]
    | Annotated[ToolResultBlockParam, Tag("<tool_result>")]
    | Annotated[ThinkingBlockParam, Tag("<thinking>")]
    | Annotated[RedactedThinkingBlockParam, Tag("<redacted_thinking>")]
    | Annotated[OtherBlockParam, Tag("<other>")],
    Discriminator(lambda v: _tag(v, _BLOCK_TAGS)),
]
ToolResultBlockParam.model_rebuild()


class MessageParam(_Open):
    # "system" is what Claude Code sends for mid-conversation system context.
    role: Literal["user", "assistant", "system"]
    content: str | Annotated[list[ContentBlockParam], Field(max_length=MAX_CONTENT_PARTS)]


# --------------------------------------------------------------------------------------------- request


class MessagesTool(_Open):
    """A client tool (``input_schema``) or a server tool (``type`` such as ``web_search_20250305``)."""

    name: str = Field(min_length=1, max_length=256)
    type: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    cache_control: CacheControlParam | None = None


class MessagesToolChoice(_Open):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingConfig(_Open):
    type: Literal["enabled", "adaptive", "disabled"]
    budget_tokens: int | None = Field(default=None, ge=1)
    display: str | None = None


class MessagesOutputConfig(_Open):
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    format: dict[str, Any] | None = None


class MessagesMetadata(_Open):
    user_id: str | None = None


class _Prompt(_Open):
    model: ModelName
    messages: Annotated[list[MessageParam], Field(min_length=1, max_length=MAX_MESSAGES)]
    system: str | Annotated[list[TextBlockParam], Field(max_length=MAX_CONTENT_PARTS)] | None = None
    tools: Annotated[list[MessagesTool], Field(max_length=MAX_TOOLS)] | None = None
    tool_choice: MessagesToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: MessagesOutputConfig | None = None


class MessagesRequest(_Prompt):
    """``POST /v1/messages``."""

    max_tokens: int = Field(ge=1)
    stop_sequences: Annotated[list[str], Field(max_length=MAX_STOP)] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    metadata: MessagesMetadata | None = None
    stream: bool | None = None


class CountTokensRequest(_Prompt):
    """``POST /v1/messages/count_tokens``."""


# --------------------------------------------------------------------------------------------- answers


class MessagesUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class OutputTextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str


class OutputThinkingBlock(BaseModel):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str


class OutputRedactedThinkingBlock(BaseModel):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


class OutputToolUseBlock(BaseModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


OutputBlock = Annotated[
    OutputTextBlock | OutputThinkingBlock | OutputRedactedThinkingBlock | OutputToolUseBlock,
    Field(discriminator="type"),
]
StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]


class Message(BaseModel):
    """The answer of ``POST /v1/messages`` (without ``stream``)."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[OutputBlock]
    stop_reason: StopReason | None
    stop_sequence: str | None = None
    usage: MessagesUsage


class TokenCount(BaseModel):
    input_tokens: int


class AnthropicModelInfo(BaseModel):
    type: Literal["model"] = "model"
    id: str
    display_name: str
    created_at: str
    lifecycle: Literal["active", "deprecated", "retired"] = "active"


class AnthropicModelList(BaseModel):
    data: list[AnthropicModelInfo]
    has_more: bool
    first_id: str | None
    last_id: str | None


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicErrorResponse(BaseModel):
    type: Literal["error"] = "error"
    error: AnthropicErrorDetail
    request_id: str | None = None


# --------------------------------------------------------------------------------------------- stream events


class MessageStartEvent(BaseModel):
    type: Literal["message_start"] = "message_start"
    message: Message


class ContentBlockStartEvent(BaseModel):
    type: Literal["content_block_start"] = "content_block_start"
    index: int
    content_block: OutputBlock


class TextDelta(BaseModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class InputJsonDelta(BaseModel):
    type: Literal["input_json_delta"] = "input_json_delta"
    partial_json: str


class ThinkingDelta(BaseModel):
    type: Literal["thinking_delta"] = "thinking_delta"
    thinking: str


class SignatureDelta(BaseModel):
    type: Literal["signature_delta"] = "signature_delta"
    signature: str


class ContentBlockDeltaEvent(BaseModel):
    type: Literal["content_block_delta"] = "content_block_delta"
    index: int
    delta: Annotated[TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta, Field(discriminator="type")]


class ContentBlockStopEvent(BaseModel):
    type: Literal["content_block_stop"] = "content_block_stop"
    index: int


class MessageDeltaBody(BaseModel):
    stop_reason: StopReason | None
    stop_sequence: str | None = None


class MessageDeltaEvent(BaseModel):
    type: Literal["message_delta"] = "message_delta"
    delta: MessageDeltaBody
    usage: MessagesUsage


class MessageStopEvent(BaseModel):
    type: Literal["message_stop"] = "message_stop"


class PingEvent(BaseModel):
    type: Literal["ping"] = "ping"


class AnthropicErrorEvent(AnthropicErrorResponse):
    """The last event of a stream that failed after its first byte."""


StreamEvent = Annotated[
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | AnthropicErrorEvent,
    Field(discriminator="type"),
]


class MessageStreamEvent(RootModel[StreamEvent]):
    """One event of a Messages stream (``event: <type>`` then ``data: <json>``)."""
