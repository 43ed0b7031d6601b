"""Property tests: whatever Databricks-like payload comes in, the normalizers answer valid OpenAI objects.

The generated payloads mix valid values with None, missing keys and wrongly typed values at every level the
normalizers read. The only exception they may raise is the documented ``UpstreamStreamError`` for error chunks.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import Completion, CompletionUsage, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from services.errors import UpstreamStreamError
from services.pivot.answers import chat_completion, completion, embeddings
from services.pivot.chunks import ChatStream, CompletionStream, error_in_chunk

SETTINGS = settings(max_examples=200, deadline=None, database=None)
REQUESTED = "databricks-requested"

# JSON values only: Databricks answers are parsed JSON (no NaN, no infinities, no tuples).
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=4,
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the valid shape, sometimes anything else."""
    return st.one_of(valid, valid, junk)


def record(required: dict[str, st.SearchStrategy[Any]], extras: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """A dict whose keys are each present or absent (with unknown junk keys now and then, if ``extras``)."""
    present = st.fixed_dictionaries({}, optional=required)
    if not extras:
        return present
    return st.builds(
        lambda fields, extra: {**fields, **extra},
        present,
        st.dictionaries(st.sampled_from(["extra", "annotations", "audio", "service_tier"]), junk, max_size=1),
    )


text = st.text(max_size=12)
ids = st.one_of(st.text(min_size=1, max_size=12), st.none(), st.just(""))
token_counts = maybe(st.integers(min_value=0, max_value=10**7))
finish_reasons = maybe(
    st.sampled_from(
        ["stop", "length", "tool_calls", "content_filter", "function_call", "end_turn", "max_tokens", "tool_use", "eos"]
    )
)
created = maybe(st.one_of(st.integers(min_value=0, max_value=2**40), st.floats(min_value=0, max_value=2**40)))

usage = maybe(
    record(
        {
            "prompt_tokens": token_counts,
            "completion_tokens": token_counts,
            "total_tokens": token_counts,
            "completion_tokens_details": st.none(),
            "prompt_tokens_details": st.none(),
            "cache_read_input_tokens": token_counts,
        }
    )
)

summary_item = maybe(
    record(
        {
            "type": maybe(st.sampled_from(["summary_text", "summary_encrypted_text"])),
            "text": maybe(text),
            "signature": maybe(text),
            "data": text,
        }
    )
)
content_part = maybe(
    st.one_of(
        record({"type": st.just("text"), "text": maybe(text)}),
        record({"type": st.just("reasoning"), "summary": maybe(st.lists(summary_item, max_size=3))}),
        record({"type": st.just("image"), "image_url": text}),
    )
)
content = st.one_of(st.none(), text, st.lists(content_part, max_size=4), content_part, junk)

function = maybe(record({"name": maybe(text), "arguments": st.one_of(text, st.none(), junk)}))
tool_call = maybe(
    record(
        {
            "index": maybe(st.integers(min_value=0, max_value=4)),
            "id": maybe(st.sampled_from(["call_a", "call_b", "toolu_bdrk_1", ""])),
            "type": maybe(st.just("function")),
            "function": function,
        }
    )
)
message = maybe(
    record(
        {
            "role": maybe(st.just("assistant")),
            "content": content,
            "tool_calls": maybe(st.lists(tool_call, max_size=3)),
            "refusal": maybe(st.one_of(st.none(), text)),
            "reasoning_content": maybe(text),
            "reasoning": maybe(text),
        },
        extras=True,
    )
)
logprobs = st.one_of(
    st.none(),
    st.just({"content": [{"token": "a", "logprob": -0.5, "bytes": [97], "top_logprobs": []}], "refusal": None}),
    scalars,
)
chat_choice = maybe(
    record(
        {"index": maybe(st.integers(0, 3)), "message": message, "finish_reason": finish_reasons, "logprobs": logprobs}
    )
)
top = {
    "id": ids,
    "object": maybe(st.sampled_from(["chat.completion", "chat.completions", "chat.completion.chunk"])),
    "created": created,
    "model": maybe(st.sampled_from(["meta-llama-3.3-70b-instruct-121024", "", "us.anthropic.claude-3-7-sonnet"])),
    "usage": usage,
}
chat_answer = record(
    {**top, "choices": maybe(st.lists(chat_choice, max_size=3)), "system_fingerprint": maybe(text)}, extras=True
)

chat_delta_choice = maybe(
    record(
        {
            "index": maybe(st.integers(0, 2)),
            "delta": message,
            "message": message,
            "finish_reason": st.one_of(st.none(), st.none(), finish_reasons),
            "logprobs": logprobs,
        }
    )
)
error_chunk = st.one_of(
    record(
        {"error_code": maybe(st.sampled_from(["INTERNAL_ERROR", "REQUEST_LIMIT_EXCEEDED"])), "message": maybe(text)}
    ),
    st.builds(lambda error: {"error": error}, junk.filter(lambda v: v is not None)),
)
chat_chunk = st.one_of(
    record({**top, "choices": maybe(st.lists(chat_delta_choice, max_size=2))}),
    record({**top, "choices": maybe(st.lists(chat_delta_choice, max_size=2))}),
    record({**top, "choices": maybe(st.lists(chat_delta_choice, max_size=2))}),
    error_chunk,
)

completion_logprobs = st.one_of(
    st.none(), st.just({"tokens": ["a"], "token_logprobs": [-0.1], "text_offset": [0]}), scalars
)
text_choice = maybe(
    record(
        {
            "index": maybe(st.integers(0, 2)),
            "text": maybe(text),
            "finish_reason": finish_reasons,
            "logprobs": completion_logprobs,
        }
    )
)
completion_answer = record({**top, "choices": maybe(st.lists(text_choice, max_size=3))})
completion_chunk = st.one_of(
    record({**top, "choices": maybe(st.lists(text_choice, max_size=2))}),
    record({**top, "choices": maybe(st.lists(text_choice, max_size=2))}),
    error_chunk,
)

vector = st.lists(
    st.one_of(st.floats(min_value=-1e30, max_value=1e30, allow_nan=False), st.integers(-1000, 1000)), max_size=8
)
# Wrong-typed vectors are generated, but not wrong-typed numbers inside a vector (see the report of this suite).
not_a_list = junk.filter(lambda value: not isinstance(value, list))
embedding_item = maybe(
    record(
        {
            "index": maybe(st.integers(0, 5)),
            "embedding": st.one_of(vector, vector, not_a_list),
            "object": maybe(st.just("embedding")),
        }
    )
)
embedding_answer = record(
    {
        "data": maybe(st.lists(embedding_item, max_size=4)),
        "model": top["model"],
        "usage": usage,
        "id": ids,
        "object": maybe(st.just("list")),
    }
)


# --- non-streaming answers --------------------------------------------------------------------------------------


@SETTINGS
@given(chat_answer, st.booleans())
def test_chat_completion_is_always_valid(data: dict[str, Any], legacy: bool) -> None:
    out = chat_completion(data, requested_model=REQUESTED, legacy_functions=legacy)
    parsed = ChatCompletion.model_validate(out, strict=True)
    assert parsed.object == "chat.completion"
    assert parsed.model
    assert [c.index for c in parsed.choices] == list(range(len(parsed.choices)))
    for choice in parsed.choices:
        assert choice.message.content is None or isinstance(choice.message.content, str)
        if legacy:
            assert choice.message.tool_calls is None
        elif choice.message.tool_calls:
            assert choice.finish_reason != "stop"
    if parsed.usage is not None:
        assert parsed.usage.total_tokens >= parsed.usage.prompt_tokens + parsed.usage.completion_tokens


@SETTINGS
@given(completion_answer)
def test_completion_is_always_valid(data: dict[str, Any]) -> None:
    out = completion(data, requested_model=REQUESTED)
    parsed = Completion.model_validate(out, strict=True)
    assert parsed.object == "text_completion"
    assert all(isinstance(c.text, str) for c in parsed.choices)


@SETTINGS
@given(embedding_answer)
def test_embeddings_are_always_valid(data: dict[str, Any]) -> None:
    out = embeddings(data, requested_model=REQUESTED, encoding_format="float")
    parsed = CreateEmbeddingResponse.model_validate(out, strict=True)
    assert [item.index for item in parsed.data] == list(range(len(parsed.data)))
    assert set(out["usage"]) >= {"prompt_tokens", "total_tokens"}
    assert "completion_tokens" not in out["usage"]
    packed = embeddings(data, requested_model=REQUESTED, encoding_format="base64")
    assert [item["index"] for item in packed["data"]] == [item["index"] for item in out["data"]]
    for as_text, as_floats in zip(packed["data"], out["data"], strict=True):
        assert isinstance(as_text["embedding"], str)
        decoded = array("f", base64.b64decode(as_text["embedding"], validate=True))
        if sys.byteorder != "little":
            decoded.byteswap()
        expected = array("f", as_floats["embedding"])
        assert decoded.tobytes() == expected.tobytes()


# --- streams ----------------------------------------------------------------------------------------------------


def feed_all(stream: ChatStream | CompletionStream, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        try:
            out.extend(stream.feed(chunk))
        except UpstreamStreamError:
            assert error_in_chunk(chunk) is not None
            return out
        assert error_in_chunk(chunk) is None
    out.extend(stream.finish())
    return out


def check_common(out: list[dict[str, Any]], include_usage: bool, finished: bool) -> None:
    assert len({(c["id"], c["created"], c["model"], c["object"]) for c in out}) <= 1
    for position, chunk in enumerate(out):
        if not include_usage:
            assert "usage" not in chunk
        elif finished and position == len(out) - 1:
            assert chunk["choices"] == []
            CompletionUsage.model_validate(chunk["usage"], strict=True)
        else:
            assert chunk["usage"] is None
            assert chunk["choices"]


@SETTINGS
@given(st.lists(chat_chunk, max_size=6), st.booleans(), st.booleans())
def test_chat_stream_is_always_valid(chunks: list[dict[str, Any]], include_usage: bool, legacy: bool) -> None:
    out = feed_all(ChatStream(REQUESTED, include_usage, legacy), chunks)
    finished = not any(error_in_chunk(c) for c in chunks)
    for chunk in out:
        ChatCompletionChunk.model_validate(chunk, strict=True)
    check_common(out, include_usage, finished)
    finishes: dict[int, int] = {}
    roles: dict[int, int] = {}
    tool_ids: dict[int, list[int]] = {}
    for chunk in out:
        for choice in chunk["choices"]:
            index = choice["index"]
            assert index not in finishes, "no delta after a choice's finish_reason"
            if choice["finish_reason"] is not None:
                finishes[index] = 1
            roles[index] = roles.get(index, 0) + ("role" in choice["delta"])
            assert roles[index] == 1, "role exactly in the first delta"
            for call in choice["delta"].get("tool_calls") or ():
                seen = tool_ids.setdefault(index, [])
                if "id" in call:  # first delta of a call: dense index, id, type and name
                    assert call["index"] == len(seen)
                    assert call["type"] == "function" and "name" in call["function"]
                    seen.append(call["index"])
                else:
                    assert call["index"] in seen
                    assert set(call) == {"index", "function"} and set(call["function"]) == {"arguments"}
                    assert call["function"]["arguments"]
            if legacy:
                assert "tool_calls" not in choice["delta"]
    if finished:
        assert set(finishes) == set(roles), "every started choice gets exactly one finish_reason"


@SETTINGS
@given(st.lists(completion_chunk, max_size=6), st.booleans())
def test_completion_stream_is_always_valid(chunks: list[dict[str, Any]], include_usage: bool) -> None:
    out = feed_all(CompletionStream(REQUESTED, include_usage), chunks)
    finished = not any(error_in_chunk(c) for c in chunks)
    check_common(out, include_usage, finished)
    finishes: dict[int, int] = {}
    started: set[int] = set()
    for chunk in out:
        # The SDK's Completion type forbids the null finish_reason every unfinished stream chunk has.
        patched = dict(chunk, choices=[dict(c, finish_reason=c["finish_reason"] or "stop") for c in chunk["choices"]])
        Completion.model_validate(patched, strict=True)
        assert chunk["object"] == "text_completion"
        for choice in chunk["choices"]:
            assert choice["index"] not in finishes
            started.add(choice["index"])
            if choice["finish_reason"] is not None:
                finishes[choice["index"]] = 1
    if finished:
        assert set(finishes) == started
