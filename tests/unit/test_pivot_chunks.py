"""Databricks stream chunks -> OpenAI stream chunks, and the SSE framing of the upstream body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types import Completion, CompletionUsage
from openai.types.chat import ChatCompletionChunk

from services.databricks.sse import sse_payloads
from services.dialects.openai import error_body
from services.errors import UpstreamStreamError
from services.pivot.chunks import ChatStream, CompletionStream, error_in_chunk

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "databricks"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-3-7-sonnet"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def run(stream: ChatStream | CompletionStream, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        out.extend(stream.feed(chunk))
    out.extend(stream.finish())
    return out


def check_chat_chunks(out: list[dict[str, Any]], include_usage: bool = False) -> list[ChatCompletionChunk]:
    """Validate with the SDK and check the invariants every OpenAI chat stream has."""
    parsed = [ChatCompletionChunk.model_validate(chunk, strict=True) for chunk in out]
    assert len({(c["id"], c["created"], c["model"], c["object"]) for c in out}) <= 1
    assert all(c["object"] == "chat.completion.chunk" for c in out)
    finishes: dict[int, int] = {}
    roles: dict[int, int] = {}
    for position, chunk in enumerate(out):
        if include_usage:
            last = position == len(out) - 1
            assert "usage" in chunk
            assert (chunk["usage"] is not None) == last
            if last:
                assert chunk["choices"] == []
                CompletionUsage.model_validate(chunk["usage"], strict=True)
        else:
            assert "usage" not in chunk
        for choice in chunk["choices"]:
            index = choice["index"]
            assert finishes.get(index, 0) == 0, "nothing after a choice's finish_reason"
            if choice["finish_reason"] is not None:
                finishes[index] = finishes.get(index, 0) + 1
            if "role" in choice["delta"]:
                roles[index] = roles.get(index, 0) + 1
            content = choice["delta"].get("content")
            assert content is None or isinstance(content, str)
    assert set(finishes) == set(roles)
    assert all(count == 1 for count in finishes.values())
    assert all(count == 1 for count in roles.values())
    return parsed


def accumulate(out: list[dict[str, Any]]) -> Any:
    """What the OpenAI SDK's own stream helper assembles from these chunks."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for chunk in out:
        list(state.handle_chunk(ChatCompletionChunk.model_validate(chunk)))
    return state.get_final_completion()


# --- real Llama streams -----------------------------------------------------------------------------------------


def test_llama_text_stream() -> None:
    chunks = fixture("chat_llama33_stream_capital")
    out = run(ChatStream(LLAMA), chunks)
    header = {
        "id": "chatcmpl_40266680-5422-4e7a-bc40-74eb1efdafbc",
        "object": "chat.completion.chunk",
        "created": 1758326504,
        "model": "meta-llama-3.3-70b-instruct-121024",
    }
    assert len(out) == len(chunks) == 16
    assert out[0] == {
        **header,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
    }
    assert out[1] == {**header, "choices": [{"index": 0, "delta": {"content": "The "}, "finish_reason": None}]}
    assert out[-1] == {**header, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in out)
    assert text == "The capital of the United States is Washington, D.C. (short for District of Columbia)."
    check_chat_chunks(out)
    final = accumulate(out)
    assert final.choices[0].message.content == text
    assert final.choices[0].finish_reason == "stop"


def test_llama_text_stream_with_include_usage() -> None:
    chunks = fixture("chat_llama33_stream_capital")
    out = run(ChatStream(LLAMA, include_usage=True), chunks)
    assert len(out) == 17
    assert all(chunk["usage"] is None for chunk in out[:-1])
    assert out[-1] == {
        "id": "chatcmpl_40266680-5422-4e7a-bc40-74eb1efdafbc",
        "object": "chat.completion.chunk",
        "created": 1758326504,
        "model": "meta-llama-3.3-70b-instruct-121024",
        "usage": {"completion_tokens": 20, "prompt_tokens": 20, "total_tokens": 40},
        "choices": [],
    }
    check_chat_chunks(out, include_usage=True)


def test_llama_tool_call_stream() -> None:
    out = run(ChatStream(LLAMA), fixture("chat_llama33_stream_toolcall"))
    header = {
        "id": "chatcmpl_4c3ae1bf-991d-4266-a12d-b1e97ecbb7a0",
        "object": "chat.completion.chunk",
        "created": 1758326502,
        "model": "meta-llama-3.3-70b-instruct-121024",
    }
    assert out == [
        {
            **header,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_87aed80e-f856-468f-9523-52db3018d83d",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    },
                    "finish_reason": None,
                }
            ],
        },
        {
            **header,
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{ "city": "Tokyo" }'}}]},
                    "finish_reason": None,
                }
            ],
        },
        # Databricks' trailing repeat of the call with empty arguments is gone; only the finish remains.
        {**header, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    check_chat_chunks(out)
    final = accumulate(out)
    calls = final.choices[0].message.tool_calls
    assert len(calls) == 1
    assert calls[0].id == "call_87aed80e-f856-468f-9523-52db3018d83d"
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.arguments == '{ "city": "Tokyo" }'
    assert final.choices[0].finish_reason == "tool_calls"


def test_llama_tool_call_stream_with_legacy_functions() -> None:
    out = run(ChatStream(LLAMA, legacy_functions=True), fixture("chat_llama33_stream_toolcall"))
    assert [c["choices"][0]["delta"] for c in out] == [
        {"role": "assistant", "content": "", "function_call": {"name": "get_weather", "arguments": ""}},
        {"function_call": {"arguments": '{ "city": "Tokyo" }'}},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in out] == [None, None, "function_call"]
    check_chat_chunks(out)


# --- Claude reasoning chunks ------------------------------------------------------------------------------------


def claude_chunk(content: Any, finish_reason: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "choices": [{"delta": {"role": "assistant", "content": content}, "index": 0, "finish_reason": finish_reason}],
        "object": "chat.completion.chunk",
        "id": "msg_bdrk_01TarMA3TeEzQDfx6L4DFCLb",
        "created": 1747066395,
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def summary(text: str, signature: str = "") -> list[dict[str, Any]]:
    return [{"type": "reasoning", "summary": [{"type": "summary_text", "text": text, "signature": signature}]}]


def test_claude_reasoning_stream() -> None:
    real = fixture("chat_claude37_reasoning_stream_chunk")
    chunks = [
        real,
        claude_chunk(summary("次に天気を調べます。")),
        claude_chunk(summary("", signature="ErcBCkgIAxABGAIiQH1PzxtdFBdW6n")),  # signature only: nothing to emit
        claude_chunk([{"type": "text", "text": "東京は"}]),
        claude_chunk("晴れです。"),
        claude_chunk([{"type": "text", "text": ""}], finish_reason="stop"),
    ]
    stream = ChatStream(CLAUDE)
    per_chunk = [stream.feed(chunk) for chunk in chunks]
    assert per_chunk[2] == []
    out = [chunk for produced in per_chunk for chunk in produced] + stream.finish()
    header = {
        "id": "msg_bdrk_01TarMA3TeEzQDfx6L4DFCLb",
        "object": "chat.completion.chunk",
        "created": 1747066395,
        "model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    }
    deltas = [
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "分析を始めます。\n1. まず問題を確認します。\n2. 次に...",
        },
        {"reasoning_content": "次に天気を調べます。"},
        {"content": "東京は"},
        {"content": "晴れです。"},
        {},
    ]
    assert out == [
        {**header, "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if not delta else None}]}
        for delta in deltas
    ]
    check_chat_chunks(out)
    assert accumulate(out).choices[0].message.content == "東京は晴れです。"


def test_claude_usage_with_null_counts_is_merged() -> None:
    chunks = [
        fixture("chat_claude37_reasoning_stream_chunk"),
        claude_chunk("Hi", usage={"prompt_tokens": 2067, "completion_tokens": None, "total_tokens": None}),
        claude_chunk(
            "", finish_reason="end_turn", usage={"prompt_tokens": None, "completion_tokens": 57, "total_tokens": 2124}
        ),
    ]
    out = run(ChatStream(CLAUDE, include_usage=True), chunks)
    assert out[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert out[-1]["choices"] == []
    assert out[-1]["usage"] == {"prompt_tokens": 2067, "completion_tokens": 57, "total_tokens": 2124}
    check_chat_chunks(out, include_usage=True)


def test_usage_from_a_stream_that_never_reports_completion_tokens() -> None:
    out = run(ChatStream(CLAUDE, include_usage=True), [fixture("chat_claude37_reasoning_stream_chunk")])
    assert out[-1]["usage"] == {"prompt_tokens": 2067, "completion_tokens": 0, "total_tokens": 2067}
    check_chat_chunks(out, include_usage=True)


def test_usage_when_databricks_reports_none() -> None:
    chunk = {
        "id": "x",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": "stop"}],
    }
    out = run(ChatStream("m", include_usage=True), [chunk])
    assert out[-1]["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    check_chat_chunks(out, include_usage=True)


# --- the normalizer's rules -------------------------------------------------------------------------------------


def chunk_of(delta: dict[str, Any], finish_reason: Any = None, index: int = 0, **top: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl_1",
        "created": 1700000000,
        "model": "served-1",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
        **top,
    }


def test_a_stream_without_finish_reason_gets_one_at_finish() -> None:
    stream = ChatStream("m")
    assert stream.feed(chunk_of({"role": "assistant", "content": "Hel"})) != []
    assert stream.feed(chunk_of({"content": "lo"})) != []
    closing = stream.finish()
    assert closing == [
        {
            "id": "chatcmpl_1",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "served-1",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    ]


def test_a_tool_call_stream_without_finish_reason_finishes_with_tool_calls() -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    out = run(ChatStream("m"), [chunk_of({"role": "assistant", "content": None, "tool_calls": [call]})])
    # The call's "{}" is held back in case the real arguments follow; the end shows it was the whole input.
    assert out[-1]["choices"] == [
        {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
            "finish_reason": "tool_calls",
        }
    ]
    check_chat_chunks(out)
    legacy = run(ChatStream("m", legacy_functions=True), [chunk_of({"tool_calls": [call]})])
    assert legacy[-1]["choices"] == [
        {"index": 0, "delta": {"function_call": {"arguments": "{}"}}, "finish_reason": "function_call"}
    ]
    assert accumulate(out).choices[0].message.tool_calls[0].function.arguments == "{}"


def test_a_leading_empty_object_is_held_until_the_real_arguments_come() -> None:
    """Databricks' Claude may open a call's arguments with ``{}`` and then stream the real ones."""
    header = {"id": "chatcmpl_1", "object": "chat.completion.chunk", "created": 1700000000, "model": "served-1"}

    def call(call_id: str, arguments: str, first: bool = False) -> dict[str, Any]:
        head = {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}
        delta = {"index": 0, **head} if first else {"index": 0, "function": {"arguments": arguments}}
        return chunk_of({"role": "assistant", "content": None, "tool_calls": [delta]})

    chunks = [
        call("call_a", "{}", first=True),
        call("call_a", '{"a":'),
        call("call_a", "1}"),
        call("call_b", "{}", first=True),  # a call whose input is really empty: sent when the next one starts
        call("call_c", "{}", first=True),  # and this one at the finish
        chunk_of({}, finish_reason="tool_calls"),
    ]
    out = run(ChatStream("m"), chunks)

    def first(call_id: str, slot: int) -> dict[str, Any]:
        return {"index": slot, "id": call_id, "type": "function", "function": {"name": "f", "arguments": ""}}

    def more(slot: int, arguments: str) -> dict[str, Any]:
        return {"index": slot, "function": {"arguments": arguments}}

    def delta(calls: list[dict[str, Any]], role: bool = False) -> dict[str, Any]:
        return {"role": "assistant", "content": "", "tool_calls": calls} if role else {"tool_calls": calls}

    assert out == [
        {**header, "choices": [{"index": 0, "delta": delta([first("call_a", 0)], True), "finish_reason": None}]},
        {**header, "choices": [{"index": 0, "delta": delta([more(0, '{"a":')]), "finish_reason": None}]},
        {**header, "choices": [{"index": 0, "delta": delta([more(0, "1}")]), "finish_reason": None}]},
        {**header, "choices": [{"index": 0, "delta": delta([first("call_b", 1)]), "finish_reason": None}]},
        {
            **header,
            "choices": [{"index": 0, "delta": delta([more(1, "{}"), first("call_c", 2)]), "finish_reason": None}],
        },
        {**header, "choices": [{"index": 0, "delta": delta([more(2, "{}")]), "finish_reason": "tool_calls"}]},
    ]
    check_chat_chunks(out)
    calls = accumulate(out).choices[0].message.tool_calls
    assert [(c.id, c.function.arguments) for c in calls] == [("call_a", '{"a":1}'), ("call_b", "{}"), ("call_c", "{}")]


def test_a_repeated_finish_reason_and_later_chunks_are_dropped() -> None:
    stream = ChatStream("m")
    first = stream.feed(chunk_of({"content": "done"}, finish_reason="stop"))
    assert first[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}
    ]
    assert stream.feed(chunk_of({"content": ""}, finish_reason="stop")) == []
    assert stream.feed(chunk_of({"content": "late"})) == []
    assert stream.finish() == []


def test_role_repeated_in_every_delta_is_sent_once() -> None:
    chunks = [chunk_of({"role": "assistant", "content": t}) for t in ("a", "b", "")] + [
        chunk_of({"role": "assistant", "content": ""}, finish_reason="stop")
    ]
    out = run(ChatStream("m"), chunks)
    assert [c["choices"][0]["delta"] for c in out] == [{"role": "assistant", "content": "a"}, {"content": "b"}, {}]
    check_chat_chunks(out)


def test_empty_deltas_are_skipped() -> None:
    out = run(
        ChatStream("m"), [chunk_of({"role": "assistant", "content": ""}), chunk_of({}), chunk_of({"content": None})]
    )
    assert [c["choices"][0] for c in out] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None},
        {"index": 0, "delta": {}, "finish_reason": "stop"},
    ]


def test_tool_call_indices_are_dense_and_names_sent_once() -> None:
    chunks = [
        chunk_of(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "index": 3,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "first", "arguments": '{"x":'},
                    }
                ],
            }
        ),
        chunk_of({"tool_calls": [{"index": 3, "function": {"arguments": "1}"}}]}),
        chunk_of({"tool_calls": [{"index": 7, "id": "call_b", "function": {"name": "second", "arguments": ""}}]}),
        chunk_of({"tool_calls": [{"index": 7, "id": "call_b", "function": {"name": "second", "arguments": "{}"}}]}),
        chunk_of(
            {
                "tool_calls": [
                    {"id": "call_a", "function": {"arguments": ""}},
                    {"id": "call_b", "function": {"arguments": ""}},
                ]
            },
            finish_reason="tool_calls",
        ),
    ]
    out = run(ChatStream("m"), chunks)
    assert [c["choices"][0]["delta"].get("tool_calls") for c in out] == [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "first", "arguments": '{"x":'}}],
        [{"index": 0, "function": {"arguments": "1}"}}],
        [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "second", "arguments": ""}}],
        [{"index": 1, "function": {"arguments": "{}"}}],
        None,
    ]
    assert out[-1]["choices"][0]["finish_reason"] == "tool_calls"
    check_chat_chunks(out)
    calls = accumulate(out).choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "first", '{"x":1}'),
        ("call_b", "second", "{}"),
    ]


def test_tool_call_without_id_gets_one() -> None:
    out = run(
        ChatStream("m"),
        [chunk_of({"tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}, finish_reason="stop")],
    )
    call = out[0]["choices"][0]["delta"]["tool_calls"][0]
    assert call["id"].startswith("call-")
    assert out[0]["choices"][0]["finish_reason"] == "tool_calls"
    check_chat_chunks(out)


def test_finish_reason_aliases_in_streams() -> None:
    out = run(ChatStream("m"), [chunk_of({"content": "x"}, finish_reason="max_tokens")])
    assert out[0]["choices"][0]["finish_reason"] == "length"


def test_id_created_and_model_come_from_the_first_chunk() -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": "a"}}], "created": 1700000000.9},
        {
            "id": "later-id",
            "model": "later-model",
            "created": 1800000000,
            "choices": [{"index": 0, "delta": {"content": "b"}}],
        },
        {"object": "chat.completions", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    out = run(ChatStream("databricks-requested"), chunks)
    assert len(out) == 3
    assert {c["id"] for c in out} == {out[0]["id"]}
    assert out[0]["id"].startswith("chatcmpl-")
    assert {c["created"] for c in out} == {1700000000}
    assert {c["model"] for c in out} == {"databricks-requested"}
    check_chat_chunks(out)


def test_message_instead_of_delta_and_logprobs() -> None:
    logprobs = {"content": [{"token": "a", "logprob": -0.2, "bytes": None, "top_logprobs": []}]}
    chunk = {
        "id": "i",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"content": "a"}, "logprobs": logprobs, "finish_reason": "stop"}],
    }
    out = run(ChatStream("m"), [chunk])
    assert out[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": "a"}, "finish_reason": "stop", "logprobs": logprobs}
    ]
    check_chat_chunks(out)


def test_chunks_without_choices_only_carry_usage() -> None:
    stream = ChatStream("m", include_usage=True)
    assert stream.feed({"id": "i", "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}) == []
    assert stream.feed({"id": "i", "choices": "junk"}) == []
    out = stream.feed(chunk_of({"content": "a"}, finish_reason="stop")) + stream.finish()
    assert out[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    check_chat_chunks(out, include_usage=True)


def test_finish_on_an_empty_stream() -> None:
    assert ChatStream("m").finish() == []
    closing = ChatStream("m", include_usage=True).finish()
    assert len(closing) == 1
    assert closing[0]["choices"] == []
    assert closing[0]["model"] == "m"
    assert closing[0]["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    ChatCompletionChunk.model_validate(closing[0], strict=True)


def test_two_choices_each_finish_once() -> None:
    chunks = [
        {
            "id": "i",
            "created": 1,
            "model": "m",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": "A"}},
                {"index": 1, "delta": {"role": "assistant", "content": "B"}},
            ],
        },
        {
            "id": "i",
            "created": 1,
            "model": "m",
            "choices": [{"index": 1, "delta": {"content": "b"}, "finish_reason": "stop"}],
        },
    ]
    out = run(ChatStream("m"), chunks)
    assert [c["choices"] for c in out] == [
        [
            {"index": 0, "delta": {"role": "assistant", "content": "A"}, "finish_reason": None},
            {"index": 1, "delta": {"role": "assistant", "content": "B"}, "finish_reason": None},
        ],
        [{"index": 1, "delta": {"content": "b"}, "finish_reason": "stop"}],
        [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    ]
    check_chat_chunks(out)


# --- errors inside a stream -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (
            {
                "error_code": "INTERNAL_ERROR",
                "message": "The server received an invalid response from an upstream server.",
            },
            "The server received an invalid response from an upstream server.",
        ),
        ({"error_code": "REQUEST_LIMIT_EXCEEDED"}, "REQUEST_LIMIT_EXCEEDED"),
        ({"error": {"message": "overloaded", "type": "api_error"}}, "overloaded"),
        ({"error": "boom"}, "boom"),
        ({"error": {}}, "Databricks reported an error in the stream."),
    ],
)
@pytest.mark.parametrize("stream_class", [ChatStream, CompletionStream])
def test_an_error_chunk_raises(
    chunk: dict[str, Any], message: str, stream_class: type[ChatStream] | type[CompletionStream]
) -> None:
    stream = stream_class("m", False)
    stream.feed(chunk_of({"content": "partial"}) if stream_class is ChatStream else {"choices": [{"text": "partial"}]})
    with pytest.raises(UpstreamStreamError) as caught:
        stream.feed(chunk)
    error = caught.value
    assert error.message == message
    assert error.status == 502
    assert error_body(error) == {
        "error": {"message": message, "type": "api_error", "param": None, "code": "upstream_stream_error"}
    }


def test_error_keys_beside_choices_are_not_errors() -> None:
    assert error_in_chunk(chunk_of({"content": "x"}, error_code="X")) is None
    assert error_in_chunk(chunk_of({"content": "x"}, error=None)) is None
    assert error_in_chunk({"error": None}) is None


def valid_completion_chunk(chunk: dict[str, Any]) -> Completion:
    """The SDK parses completion chunks as ``Completion``, whose type says finish_reason is never null
    (the SDK builds stream chunks without validation): check every other field strictly."""
    assert all(c["finish_reason"] in (None, "stop", "length", "content_filter") for c in chunk["choices"])
    patched = dict(chunk, choices=[dict(c, finish_reason=c["finish_reason"] or "stop") for c in chunk["choices"]])
    return Completion.model_validate(patched, strict=True)


# --- completions streams ----------------------------------------------------------------------------------------


def test_completion_stream() -> None:
    chunks = [
        {
            "id": "cmpl_1",
            "object": "text_completion",
            "created": 1758326510,
            "model": "mpt-7b",
            "choices": [{"index": 0, "text": "", "finish_reason": None}],
        },
        {
            "id": "cmpl_1",
            "object": "text_completion",
            "created": 1758326510,
            "model": "mpt-7b",
            "choices": [{"index": 0, "text": "Once", "finish_reason": None}],
        },
        {
            "id": "cmpl_1",
            "object": "text_completion",
            "created": 1758326510,
            "model": "mpt-7b",
            "choices": [{"index": 0, "text": " upon", "finish_reason": "length"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
        },
    ]
    out = run(CompletionStream("databricks-mpt", include_usage=True), chunks)
    header = {"id": "cmpl_1", "object": "text_completion", "created": 1758326510, "model": "mpt-7b", "usage": None}
    assert out == [
        {**header, "choices": [{"index": 0, "text": "Once", "logprobs": None, "finish_reason": None}]},
        {**header, "choices": [{"index": 0, "text": " upon", "logprobs": None, "finish_reason": "length"}]},
        {**header, "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}},
    ]
    for chunk in out:
        valid_completion_chunk(chunk)


def test_completion_stream_without_finish_reason() -> None:
    out = run(
        CompletionStream("m", False),
        [{"choices": [{"text": "abc"}]}, {"choices": [{"text": "d", "finish_reason": "tool_calls"}]}],
    )
    assert [c["choices"] for c in out] == [
        [{"index": 0, "text": "abc", "logprobs": None, "finish_reason": None}],
        [{"index": 0, "text": "d", "logprobs": None, "finish_reason": "stop"}],
    ]
    unfinished = run(CompletionStream("m", False), [{"id": "c", "created": 5, "choices": [{"text": "abc"}]}])
    assert unfinished[-1] == {
        "id": "c",
        "object": "text_completion",
        "created": 5,
        "model": "m",
        "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}],
    }
    for chunk in out + unfinished:
        assert "usage" not in chunk
        valid_completion_chunk(chunk)


# --- SSE framing (sse_payloads) ---------------------------------------------------------------------------------


class Blocks(httpx.AsyncByteStream):
    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = blocks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for block in self.blocks:
            yield block


def payloads(blocks: list[bytes]) -> list[bytes]:
    async def collect() -> list[bytes]:
        response = httpx.Response(200, stream=Blocks(blocks))
        return [payload async for payload in sse_payloads(response)]

    return asyncio.run(collect())


LLAMA_SSE = (
    "".join(
        f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in fixture("chat_llama33_stream_toolcall")
    ).encode()
    + b"data: [DONE]\n\n"
)
LLAMA_PAYLOADS = [json.dumps(c, ensure_ascii=False).encode() for c in fixture("chat_llama33_stream_toolcall")]


def test_sse_whole_body() -> None:
    assert payloads([LLAMA_SSE]) == LLAMA_PAYLOADS


def test_sse_split_at_every_position() -> None:
    body = 'data: {"a":"東京"}\n\ndata:{"b":2}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n'.encode()
    expected = ['{"a":"東京"}'.encode(), b'{"b":2}']
    for cut in range(1, len(body)):
        assert payloads([body[:cut], body[cut:]]) == expected, cut


def test_sse_byte_by_byte() -> None:
    assert payloads([LLAMA_SSE[i : i + 1] for i in range(len(LLAMA_SSE))]) == LLAMA_PAYLOADS


def test_sse_skips_comments_fields_and_blank_data() -> None:
    body = (
        b": ping\n"
        b"event: message\n"
        b"id: 7\n"
        b"retry: 1000\n"
        b"data:\n"
        b"data:   \n"
        b"\n\n\n"
        b'data:{"no":"space"}\n'
        b'data:  {"two":"spaces"}  \n'
        b"datum: not data\n"
    )
    assert payloads([body]) == [b'{"no":"space"}', b'{"two":"spaces"}']


def test_sse_stops_at_done() -> None:
    body = b'data: {"a":1}\n\ndata: [DONE]\n\ndata: {"after":1}\n\n'
    assert payloads([body]) == [b'{"a":1}']
    assert payloads([b'data: {"a":1}\n\ndata:[DONE]\ndata: {"after":1}\n']) == [b'{"a":1}']


def test_sse_last_line_without_newline() -> None:
    assert payloads([b'data: {"a":1}\n\ndata: {"b":2}']) == [b'{"a":1}', b'{"b":2}']
    assert payloads([b'data: {"a":1}\n\ndata: [DONE]']) == [b'{"a":1}']
    assert payloads([b"", b'data: {"a":', b"1}"]) == [b'{"a":1}']
    assert payloads([]) == []
