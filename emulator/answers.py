"""Deterministic answers of the emulator, in the Databricks FMAPI wire shapes.

Everything here is a pure function of the (already validated) request body plus the ids/timestamps the
caller passes in, so the same input always yields the same text, token counts and vectors.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from emulator.catalog import Style
from emulator.tool_args import choose_tool
from emulator.tool_args import tool_arguments as schema_arguments

REASONING_PREFIX = "Thinking about: "
CLAUDE_TOOL_TEXT = "I'll call the tool."
REASONING_STYLES: frozenset[str] = frozenset({"claude", "gpt-oss"})


# --------------------------------------------------------------------------------------------- text helpers


def content_text(content: Any) -> str:
    """Text of a message ``content``: the string itself, or the ``text`` parts of a list joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return max(1, sum(len(content_text(m.get("content")).split()) for m in messages))


def tool_arguments(text: str) -> str:
    """Tool-call arguments JSON text, spaced like Llama 3.3 really sends it: ``{ "input": "..." }``."""
    return '{ "input": ' + orjson.dumps(text).decode() + " }"


# --------------------------------------------------------------------------------------------- chat


@dataclass(frozen=True, slots=True)
class ToolCallPlan:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """What a chat answer contains, independent of the wire shape."""

    prompt_tokens: int
    n: int
    reasoning: str | None  # reasoning summary text (reasoning styles only)
    words: tuple[str, ...]  # reply words; empty with ``has_text`` False when there is no text part
    has_text: bool
    finish_reason: str
    tool_call: ToolCallPlan | None

    @property
    def reasoning_tokens(self) -> int:
        return len(self.reasoning.split()) if self.reasoning is not None else 0

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def completion_tokens(self) -> int:
        """Completion tokens of one choice (reasoning words count, like gpt-oss)."""
        tokens = self.reasoning_tokens
        if self.tool_call is not None:
            return tokens + len(self.tool_call.arguments.split()) + (len(self.words) if self.has_text else 0)
        return tokens + len(self.words)


_DIRECTED_CALL = re.compile(r"\bcall (\w+) with (\{.*\})", re.DOTALL)


def _directed_call(subject: str, tools: list[dict[str, Any]]) -> ToolCallPlan | None:
    """``call <tool> with {json}`` in the prompt makes exactly that call, so agents' own tools can be driven."""
    found = _DIRECTED_CALL.search(subject)
    if found is None or found.group(1) not in {tool["function"]["name"] for tool in tools}:
        return None
    try:
        arguments = orjson.loads(found.group(2))
    except orjson.JSONDecodeError:
        return None
    return ToolCallPlan(name=found.group(1), arguments=orjson.dumps(arguments).decode())


def _chosen_call(tools: list[dict[str, Any]], tool_choice: Any, subject: str) -> ToolCallPlan:
    """The tool ``tool_choice`` forces, else one chosen from the prompt; arguments valid against its schema."""
    function: dict[str, Any] | None = None
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name")
        function = next((t["function"] for t in tools if t["function"]["name"] == name), None)
    if function is None:
        function = choose_tool(tools, subject)
    parameters = function.get("parameters")
    if isinstance(parameters, dict) and "properties" in parameters:
        return ToolCallPlan(name=str(function["name"]), arguments=schema_arguments(function, subject))
    return ToolCallPlan(name=str(function["name"]), arguments=tool_arguments(subject))


def plan_chat(body: dict[str, Any], style: Style) -> ChatPlan:
    """Plan the deterministic answer to a validated chat request."""
    messages: list[dict[str, Any]] = body["messages"]
    n = body.get("n") or 1
    max_tokens: int | None = body.get("max_tokens")
    tools = body.get("tools") or []
    tool_choice = body.get("tool_choice")
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        subject = content_text(last.get("content"))
        use_tool = False
    else:
        subject = last_user_text(messages)
        use_tool = bool(tools) and tool_choice != "none"

    reasoning = REASONING_PREFIX + subject if style in REASONING_STYLES else None
    prompt_tokens = count_prompt_tokens(messages)

    if use_tool:
        call = _directed_call(subject, tools) or _chosen_call(tools, tool_choice, subject)
        words: tuple[str, ...] = tuple(CLAUDE_TOOL_TEXT.split()) if style == "claude" else ()
        return ChatPlan(prompt_tokens, n, reasoning, words, bool(words), "tool_calls", call)

    words = ("Echo:", *subject.split())
    finish = "stop"
    has_text = True
    if max_tokens is not None:
        budget = max_tokens
        if reasoning is not None:
            reasoning_words = reasoning.split()
            if budget <= len(reasoning_words):
                # The budget ran out while reasoning: only the (truncated) reasoning part, no text part.
                if budget < len(reasoning_words):
                    reasoning = " ".join(reasoning_words[:budget])
                return ChatPlan(prompt_tokens, n, reasoning, (), False, "length", None)
            budget -= len(reasoning_words)
        if budget < len(words):
            words = words[:budget]
            finish = "length"
    return ChatPlan(prompt_tokens, n, reasoning, words, has_text, finish, None)


def _chat_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


def _summary(text: str, style: Style, signature: str | None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "summary_text", "text": text}
    if style == "claude":
        part["signature"] = signature or ""
    return part


def _reasoning_part(text: str, style: Style, signature: str | None) -> dict[str, Any]:
    return {"type": "reasoning", "summary": [_summary(text, style, signature)]}


def _tool_call_obj(call: ToolCallPlan, call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def chat_message(plan: ChatPlan, style: Style, *, tool_call_id: str, signature: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if plan.reasoning is not None:
        parts: list[dict[str, Any]] = [_reasoning_part(plan.reasoning, style, signature)]
        if plan.has_text:
            parts.append({"type": "text", "text": plan.text})
        message["content"] = parts
    elif plan.tool_call is not None:
        message["content"] = None
    else:
        message["content"] = plan.text
    if plan.tool_call is not None:
        message["tool_calls"] = [_tool_call_obj(plan.tool_call, tool_call_id)]
    return message


def chat_completion(
    plan: ChatPlan,
    style: Style,
    *,
    model: str,
    response_id: str | None,
    created: int | float,
    tool_call_id: str = "",
    signature: str = "",
) -> dict[str, Any]:
    """Non-streaming chat response body."""
    message = chat_message(plan, style, tool_call_id=tool_call_id, signature=signature)
    finish = None if style == "null-id" else plan.finish_reason
    choices = [{"index": i, "message": message, "finish_reason": finish, "logprobs": None} for i in range(plan.n)]
    usage = _chat_usage(plan.prompt_tokens, plan.completion_tokens * plan.n)
    obj = "chat.completions" if style == "null-id" else "chat.completion"
    if style == "claude":  # Claude via Bedrock: the raw body starts with "model"
        return {
            "model": model,
            "choices": choices,
            "usage": usage,
            "object": obj,
            "id": response_id,
            "created": created,
        }
    return {"id": response_id, "object": obj, "created": created, "model": model, "choices": choices, "usage": usage}


def _word_piece(i: int, word: str) -> str:
    return word if i == 0 else " " + word


def _llama_tool_deltas(call: ToolCallPlan, call_id: str) -> list[dict[str, Any]]:
    head = {"index": 0, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [head]},
        {"tool_calls": [{"index": 0, "function": {"arguments": call.arguments}}]},
        {"tool_calls": [head]},
    ]


def chat_stream_chunks(
    plan: ChatPlan,
    style: Style,
    *,
    model: str,
    response_id: str | None,
    created: int | float,
    tool_call_id: str = "",
    signature: str = "",
) -> list[dict[str, Any]]:
    """Streaming chat chunks (without the ``[DONE]`` sentinel); usage is cumulative on every chunk."""
    p = plan.prompt_tokens
    # (delta, finish_reason, completion_tokens or None for the "not yet known" usage of Claude's first chunk)
    steps: list[tuple[dict[str, Any], str | None, int | None]] = []
    done = 0
    if plan.reasoning is not None:
        head, rest = plan.reasoning[: len(REASONING_PREFIX)], plan.reasoning[len(REASONING_PREFIX) :]
        steps.append(({"role": "assistant", "content": [_reasoning_part(head, style, "")]}, None, None))
        done = plan.reasoning_tokens
        steps.append(({"role": "assistant", "content": [_reasoning_part(rest, style, "")]}, None, done))
        if style == "claude":
            steps.append(({"role": "assistant", "content": [_reasoning_part("", style, signature)]}, None, done))
        if plan.has_text:
            for i, word in enumerate(plan.words):
                done += 1
                text_delta = [{"type": "text", "text": _word_piece(i, word)}]
                steps.append(({"role": "assistant", "content": text_delta}, None, done))
    else:
        steps.append(({"role": "assistant", "content": ""}, None, 0))
        if plan.tool_call is None:
            for i, word in enumerate(plan.words):
                done += 1
                steps.append(({"role": "assistant", "content": _word_piece(i, word)}, None, done))

    final_finish = None if style == "null-id" else plan.finish_reason
    if plan.tool_call is not None:
        if plan.reasoning is None:
            steps.pop()  # Llama tool streams start directly with the tool-call delta
        total = plan.completion_tokens
        deltas = _llama_tool_deltas(plan.tool_call, tool_call_id)
        steps.append((deltas[0], None, total))
        steps.append((deltas[1], None, total))
        steps.append((deltas[2], final_finish, total))
    else:
        steps.append(({"content": ""}, final_finish, plan.completion_tokens))

    if style == "claude":
        return [
            {
                "model": model,
                "choices": [{"delta": delta, "index": 0, "finish_reason": finish}],
                "usage": (
                    {"prompt_tokens": p, "completion_tokens": None, "total_tokens": None}
                    if completion is None
                    else {"prompt_tokens": p, "completion_tokens": completion, "total_tokens": p + completion}
                ),
                "object": "chat.completion.chunk",
                "id": response_id,
                "created": created,
            }
            for delta, finish, completion in steps
        ]
    chunks: list[dict[str, Any]] = []
    for delta, finish, completion in steps:
        if completion is None:
            usage: dict[str, Any] = {"prompt_tokens": p, "completion_tokens": None, "total_tokens": None}
        else:
            usage = _chat_usage(p, completion)
        chunks.append(
            {
                "id": response_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                "usage": usage,
            }
        )
    return chunks


# --------------------------------------------------------------------------------------------- completions


@dataclass(frozen=True, slots=True)
class CompletionPlan:
    prompt_tokens: int
    answers: tuple[tuple[tuple[str, ...], str], ...]  # (words, finish_reason) per choice

    @property
    def completion_tokens(self) -> int:
        return sum(len(words) for words, _ in self.answers)


def plan_completion(body: dict[str, Any]) -> CompletionPlan:
    prompt = body["prompt"]
    prompts: list[str] = [prompt] if isinstance(prompt, str) else list(prompt)
    n = body.get("n") or 1
    max_tokens: int | None = body.get("max_tokens")
    answers = []
    for text in prompts:
        words = ("Echo:", *text.split())
        finish = "stop"
        if max_tokens is not None and max_tokens < len(words):
            words, finish = words[:max_tokens], "length"
        answers.extend([(words, finish)] * n)
    prompt_tokens = max(1, sum(len(t.split()) for t in prompts))
    return CompletionPlan(prompt_tokens, tuple(answers))


def _usage3(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_response(plan: CompletionPlan, *, model: str, response_id: str, created: int) -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "text": " ".join(words), "logprobs": None, "finish_reason": finish}
            for i, (words, finish) in enumerate(plan.answers)
        ],
        "usage": _usage3(plan.prompt_tokens, plan.completion_tokens),
    }


def completion_stream_chunks(
    plan: CompletionPlan, *, model: str, response_id: str, created: int
) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    done = 0

    def chunk(index: int, text: str, finish: str | None) -> dict[str, Any]:
        return {
            "id": response_id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [{"index": index, "text": text, "logprobs": None, "finish_reason": finish}],
            "usage": _usage3(plan.prompt_tokens, done),
        }

    for index, (words, finish) in enumerate(plan.answers):
        for i, word in enumerate(words):
            done += 1
            chunks.append(chunk(index, _word_piece(i, word), None))
        chunks.append(chunk(index, "", finish))
    return chunks


# --------------------------------------------------------------------------------------------- embeddings


@functools.lru_cache(maxsize=1024)
def embedding_vector(text: str, model: str, dim: int) -> tuple[float, ...]:
    """Deterministic L2-normalised vector of ``text`` for ``model``, rounded to 8 decimals.

    Components come from a SHAKE-256 stream seeded with model and text (16-bit signed ints), which is
    several times cheaper than a Python PRNG loop for 1024 dimensions.
    """
    raw = hashlib.shake_256(f"{model}\x00{text}".encode()).digest(2 * dim)
    ints = struct.unpack(f"<{dim}h", raw)
    norm = math.sqrt(sum(v * v for v in ints)) or 1.0
    scale = 1e8 / norm
    return tuple([round(v * scale) / 1e8 for v in ints])


@functools.lru_cache(maxsize=1024)
def _embedding_fragment(text: str, model: str, dim: int) -> orjson.Fragment:
    return orjson.Fragment(orjson.dumps(embedding_vector(text, model, dim)))


def embeddings_response(inputs: list[str], *, model: str, dim: int, response_id: str) -> dict[str, Any]:
    """Embeddings body; vectors are embedded as pre-serialised JSON fragments (serialise with orjson)."""
    tokens = max(1, sum(len(t.split()) for t in inputs))
    return {
        "id": response_id,
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": _embedding_fragment(text, model, dim)}
            for i, text in enumerate(inputs)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
