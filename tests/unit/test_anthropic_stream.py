"""Anthropic stream events from chat pivot chunks: exact transcripts, every frame in order."""

from __future__ import annotations

import re
from typing import Any

import orjson

from services.dialects.anthropic.stream import MessageStream
from services.errors import UpstreamStreamError, UpstreamTimeoutError
from services.pivot.chunks import ChatStream

MODEL = "claude-sonnet-4-5"


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl_1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "served",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": None,
    }


def usage_chunk(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl_1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "served",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def transcript(chunks: list[dict[str, Any]], *, thinking: bool = False, error: Exception | None = None) -> str:
    """The SSE text the relay frames from the events: ``event: <type>`` + ``data: <json>``."""
    stream = MessageStream(MODEL, thinking=thinking)
    events: list[dict[str, Any]] = []
    for item in chunks:
        events.extend(stream.feed(item))
    events.extend(stream.fail(error) if error is not None else stream.finish())  # type: ignore[arg-type]
    return "".join(f"event: {e['type']}\ndata: {orjson.dumps(e).decode()}\n\n" for e in events)


START = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_chatcmpl_1","type":"message",'
    '"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n'
)


def end(reason: str, prompt: int, completion: int) -> str:
    usage = (
        f'"usage":{{"input_tokens":{prompt},"output_tokens":{completion},'
        '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}'
    )
    return (
        f'event: message_delta\ndata: {{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},'
        + usage
        + "}\n\n"
        'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )


def test_text() -> None:
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hello"}),
        chunk({"content": " world"}),
        chunk({}, "stop"),
        usage_chunk(5, 2),
    ]
    assert transcript(chunks) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' + end("end_turn", 5, 2)
    )


def test_text_then_tool_use_with_streamed_input() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "I'll call the tool."}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "toolu_2",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"},
                    }
                ]
            }
        ),
        chunk({}, "tool_calls"),
        usage_chunk(9, 12),
    ]
    assert transcript(chunks) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I\'ll call the tool."}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\":"}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"Paris\\"}"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\n' + end("tool_use", 9, 12)
    )


def test_thinking_with_signature_then_text() -> None:
    """Databricks' Claude streams the reasoning text, then an empty part carrying the signature."""
    chunks = [
        chunk(
            {"role": "assistant", "thinking_blocks": [{"type": "thinking", "thinking": "Thinking ", "signature": ""}]}
        ),
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "about: hi", "signature": ""}]}),
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "ErcBsig=="}]}),
        chunk({"content": "Echo: hi"}),
        chunk({}, "stop"),
        usage_chunk(3, 5),
    ]
    assert transcript(chunks, thinking=True) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Thinking "}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"about: hi"}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"ErcBsig=="}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Echo: hi"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n' + end("end_turn", 3, 5)
    )


def test_signed_thinking_block_is_complete_and_redacted_thinking_is_its_own_block() -> None:
    chunks = [
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "one", "signature": "S1"}]}),
        chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": "ENC"}]}),
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "two", "signature": "S2"}]}),
        chunk({}, "stop"),
    ]
    assert transcript(chunks, thinking=True) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"one"}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"S1"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"ENC"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"two"}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"S2"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\n' + end("end_turn", 0, 0)
    )


def test_reasoning_is_left_out_when_thinking_was_not_asked_for() -> None:
    chunks = [
        chunk(
            {"reasoning_content": "hmm", "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": ""}]}
        ),
        chunk({"content": "ok"}),
        chunk({}, "stop"),
    ]
    assert transcript(chunks) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' + end("end_turn", 0, 0)
    )


def test_plain_reasoning_content_becomes_unsigned_thinking() -> None:
    """GPT-OSS reasoning has no signature."""
    chunks = [chunk({"reasoning_content": "plan"}), chunk({"content": "done"}), chunk({}, "stop")]
    assert transcript(chunks, thinking=True) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"plan"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"done"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n' + end("end_turn", 0, 0)
    )


def test_max_tokens_finish() -> None:
    chunks = [chunk({"role": "assistant", "content": "Echo:"}), chunk({}, "length"), usage_chunk(4, 1)]
    assert transcript(chunks) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Echo:"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' + end("max_tokens", 4, 1)
    )


def test_max_tokens_while_thinking_leaves_an_unsigned_thinking_block() -> None:
    chunks = [
        chunk({"thinking_blocks": [{"type": "thinking", "thinking": "Thinking", "signature": ""}]}),
        chunk({}, "length"),
    ]
    assert transcript(chunks, thinking=True) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Thinking"}}\n\n'
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' + end("max_tokens", 0, 0)
    )


def test_mid_stream_failure_is_an_error_event_and_the_end() -> None:
    chunks = [chunk({"role": "assistant", "content": "Hel"})]
    assert transcript(chunks, error=UpstreamStreamError("Databricks reported an error in the stream.")) == (
        START
        + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n'
        'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Databricks reported an error in the stream."}}\n\n'
    )


def test_timeout_after_first_byte() -> None:
    assert transcript([], error=UpstreamTimeoutError("Databricks did not finish the answer in time.")) == (
        'event: error\ndata: {"type":"error","error":{"type":"timeout_error","message":"Databricks did not finish the answer in time."}}\n\n'
    )


def test_empty_stream_still_has_a_whole_message() -> None:
    text = transcript([])
    minted = re.search(r'"id":"(msg_[0-9a-f]{32})"', text)
    assert minted is not None
    assert text == START.replace("msg_chatcmpl_1", minted.group(1)) + end("end_turn", 0, 0)


def test_no_delta_for_a_block_that_was_not_started_and_one_message_start() -> None:
    """Argument deltas of a call whose start was never seen, and a second choice, are not emitted."""
    stream = MessageStream(MODEL, thinking=False)
    events = stream.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1}'}}]}))
    events += stream.feed(
        {"id": "x", "choices": [{"index": 1, "delta": {"content": "other choice"}, "finish_reason": None}]}
    )
    events += stream.feed(chunk({"content": "text"}))
    events += stream.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "late"}}]}))
    events += stream.finish()
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[2]["delta"] == {"type": "text_delta", "text": "text"}


def test_usage_reaches_the_pipeline_record() -> None:
    stream = MessageStream(MODEL, thinking=False)
    stream.feed(usage_chunk(7, 3))
    assert stream.usage == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def test_message_start_carries_the_prompt_tokens_databricks_reported_first() -> None:
    stream = MessageStream(MODEL, thinking=False, known_usage=lambda: {"prompt_tokens": 12, "completion_tokens": None})
    (start,) = stream.feed(chunk({"role": "assistant", "content": ""}))
    assert start["message"]["usage"] == {
        "input_tokens": 12,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def test_a_leading_empty_object_is_not_glued_to_the_real_arguments() -> None:
    """Databricks' Claude may send ``{}`` as a call's first arguments, then the real ones: the pivot
    normaliser (shared by every door) holds the ``{}`` back, so the tool_use input is the real one."""

    def call(arguments: str, first: bool) -> dict[str, Any]:
        head = {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
        delta = {"index": 0, **head} if first else {"index": 0, "function": {"arguments": arguments}}
        return chunk({"role": "assistant", "content": None, "tool_calls": [delta]})

    def through_pivot(chunks: list[dict[str, Any]]) -> str:
        pivot = ChatStream(MODEL)
        stream = MessageStream(MODEL, thinking=False)
        events = [e for c in chunks for p in pivot.feed(c) for e in stream.feed(p)]
        events += [e for p in pivot.finish() for e in stream.feed(p)] + stream.finish()
        return "".join(f"event: {e['type']}\ndata: {orjson.dumps(e).decode()}\n\n" for e in events)

    opened = (
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        '"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}\n\n'
    )

    def arguments(text: str) -> str:
        return (
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            f'"delta":{{"type":"input_json_delta","partial_json":{orjson.dumps(text).decode()}}}}}\n\n'
        )

    closed = 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' + end("tool_use", 0, 0)
    real = [call("{}", True), call('{"a": 1}', False), chunk({}, "tool_calls")]
    assert through_pivot(real) == START + opened + arguments('{"a": 1}') + closed
    assert through_pivot([call("{}", True), chunk({}, "tool_calls")]) == START + opened + arguments("{}") + closed
    assert through_pivot([call("{}", True)]) == START + opened + arguments("{}") + closed
    assert through_pivot([call('{"a": 1}', True)]) == START + opened + arguments('{"a": 1}') + closed
